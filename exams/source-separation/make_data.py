#!/usr/bin/env python3
"""Build the data of the source-separation exam, offline and deterministically.

The task: an input image is the pixel-wise AVERAGE of one Fashion-MNIST image and one handwritten
digit, ``x = (fashion + digit) / 2`` (28x28, float32 in [0, 1]); the model must give back the two
sources, an array ``(2, 28, 28)`` ordered ``[fashion, digit]``.

Sources (both offline):

- Fashion-MNIST through the real Keras loader ``keras.datasets.fashion_mnist.load_data()`` (it
  reads the Keras cache that ``datasets/provision.py`` fills); when that fails, the IDX files of
  Debian's ``dataset-fashion-mnist`` package in ``/usr/share/datasets/fashion-mnist``. Pixels / 255.
- Handwritten digits: scikit-learn's bundled ``sklearn.datasets.load_digits()`` (1,797 images of
  8x8, values 0..16), divided by 16 and upscaled to 28x28 with ``skimage.transform.resize``
  (bilinear, no anti-aliasing), clipped to [0, 1].

Disjoint source pools, drawn with a fixed seed:

=============  ================================================  ===================================
pool           fashion images                                    digit images
=============  ================================================  ===================================
train          20,000 of the official TRAIN split               1,100 of the 1,797 digits
validation     2,000 other images of the official TRAIN split   300 other digits
hidden test    1,000 images of the official TEST split          the remaining 397 digits
=============  ================================================  ===================================

No source image of the hidden pools occurs in a public pool (checked byte for byte on the final
28x28 images: duplicates are dropped from the hidden pools).

- PUBLIC (``<out>/public``, zipped for the students; the notebook's ``DATA_DIR``):
  ``train_inputs.npy`` (10,000, 28, 28) / ``train_targets.npy`` (10,000, 2, 28, 28) mixed from the
  train pools, ``val_inputs.npy`` / ``val_targets.npy`` (1,000 pairs from the validation pools),
  the train pools themselves ``train_fashion.npy`` (uint8, 20,000 x 28 x 28) and
  ``train_digits.npy`` (float32, 1,100 x 28 x 28) to mix more pairs, and a ``README.txt``.
- HIDDEN (``<out>/hidden``, never given out): ``test_inputs.npy`` (1,000, 28, 28) and
  ``test_labels.npy`` (1,000, 2, 28, 28), every pair from the hidden pools.

The digits file bundled with scikit-learn is readable by every notebook (it lives inside
site-packages, at a path that depends on the machine): the hidden digits are therefore not secret,
only the hidden fashion images (hidden by the grader's sandbox) and the pairing are. See README.md.

Files are written atomically (temporary name, then rename). A build whose files are all present and
whose stamp matches this recipe is skipped; ``--force`` rebuilds. ``--zip`` also writes
``<out>/source-separation-public.zip`` (the public files at its root) for the students.

Usage: python make_data.py [--out DIR] [--force] [--zip]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "data"
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

# The recipe: change any of these (or RECIPE_VERSION) and the next run rebuilds.
RECIPE_VERSION = 1
SEED = 20240917
N_FASHION_TRAIN = 20_000  # fashion train pool (official train split)
N_FASHION_VAL = 2_000  # fashion validation pool (official train split, disjoint)
N_DIGITS_TRAIN = 1_100  # digit pools: train, validation; the rest of the 1,797 digits is hidden
N_DIGITS_VAL = 300
N_TRAIN = 10_000  # public training pairs
N_VAL = 1_000  # public validation pairs
N_TEST = 1_000  # hidden test pairs
SIZE = 28

PUBLIC_FILES = ("train_inputs.npy", "train_targets.npy", "val_inputs.npy", "val_targets.npy",
                "train_fashion.npy", "train_digits.npy", "README.txt")
HIDDEN_FILES = ("test_inputs.npy", "test_labels.npy")
STAMP = ".recipe.json"

PUBLIC_README = """\
Blind source separation -- public data
======================================

Every input image is the pixel-wise AVERAGE of one Fashion-MNIST image and one handwritten digit:

    x = (fashion + digit) / 2          (28x28, float32, values in [0, 1])

Your model must give back both sources: an array of shape (2, 28, 28) per input, ordered
[fashion, digit]. Every file is a NumPy array (np.load):

  train_inputs.npy   float32 ({n_train}, 28, 28)     mixtures, training split
  train_targets.npy  float32 ({n_train}, 2, 28, 28)  their two sources [fashion, digit]
  val_inputs.npy     float32 ({n_val}, 28, 28)      mixtures, validation split (other source images)
  val_targets.npy    float32 ({n_val}, 2, 28, 28)   their sources
  train_fashion.npy  uint8   ({n_fashion}, 28, 28)    the fashion images of the training pool (0..255)
  train_digits.npy   float32 ({n_digits}, 28, 28)     the digit images of the training pool (0..1)

Mix as many new training pairs as you like from the two pools (never from the validation files):

    def mix(fashion_pool, digit_pool, n, seed=0):
        rng = np.random.default_rng(seed)
        f = fashion_pool[rng.integers(len(fashion_pool), size=n)].astype("float32") / 255
        d = digit_pool[rng.integers(len(digit_pool), size=n)].astype("float32")
        return (f + d) / 2, np.stack([f, d], axis=1)   # inputs (n, 28, 28), targets (n, 2, 28, 28)

The hidden test set ({n_test} pairs, passed to your notebook as TEST_INPUTS, float32 (n, 28, 28)) is
mixed the same way from source images that occur in none of these files. The metric is the mean
squared error over all pixels of both outputs (lower is better). Predicting the input itself for
both sources scores an MSE of {baseline:.5f} (the baseline of the grading).
"""


# ----------------------------------------------------------------------------- sources

def load_fashion() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Fashion-MNIST ((train images, labels), (test images, labels)), uint8, offline."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import keras

        return keras.datasets.fashion_mnist.load_data()
    except Exception as exc:  # the loader tries to download a missing file
        if not (DEBIAN_FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file():
            raise SystemExit(f"cannot load Fashion-MNIST ({exc}); run `python datasets/provision.py` "
                             "(make data) to put the offline copy in the Keras cache") from exc

    def idx(name: str) -> np.ndarray:
        with gzip.open(DEBIAN_FASHION_MNIST / name, "rb") as f:
            raw = f.read()
        dims = raw[3]
        shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
        return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)

    return ((idx("train-images-idx3-ubyte.gz"), idx("train-labels-idx1-ubyte.gz")),
            (idx("t10k-images-idx3-ubyte.gz"), idx("t10k-labels-idx1-ubyte.gz")))


def load_digits_28() -> np.ndarray:
    """scikit-learn's 1,797 bundled 8x8 digits, upscaled to 28x28 float32 in [0, 1]."""
    from skimage.transform import resize
    from sklearn.datasets import load_digits

    small = load_digits().images.astype(np.float64) / 16.0  # (1797, 8, 8), 0..16 -> 0..1
    big = np.stack([resize(d, (SIZE, SIZE), order=1, mode="edge", anti_aliasing=False) for d in small])
    return np.clip(big, 0.0, 1.0).astype(np.float32)


# ----------------------------------------------------------------------------- splits

def row_hashes(images: np.ndarray) -> list[str]:
    """One digest per image (its bytes): finds the same image in two arrays."""
    return [hashlib.sha1(np.ascontiguousarray(row).tobytes()).hexdigest() for row in images]


def mix(fashion: np.ndarray, digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets): fashion uint8 (n, 28, 28) and digits float32 (n, 28, 28) -> the average
    (n, 28, 28) and the sources stacked (n, 2, 28, 28), float32 in [0, 1]."""
    f = fashion.astype(np.float32) / np.float32(255)
    d = digits.astype(np.float32)
    return ((f + d) / np.float32(2)).astype(np.float32), np.stack([f, d], axis=1).astype(np.float32)


def baseline_mse(inputs: np.ndarray, targets: np.ndarray) -> float:
    """The MSE of predicting the input itself for both sources (the grading baseline)."""
    guess = np.stack([inputs, inputs], axis=1).astype(np.float64)
    return float(np.mean((guess - targets.astype(np.float64)) ** 2))


def build_splits(fashion_source, digits: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The public and hidden arrays (see the module docstring)."""
    (x_train, _), (x_test, _) = fashion_source
    if len(x_train) < N_FASHION_TRAIN + N_FASHION_VAL:
        raise ValueError(f"the fashion train split has {len(x_train)} images, "
                         f"{N_FASHION_TRAIN + N_FASHION_VAL} needed")
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(x_train))
    f_train = x_train[order[:N_FASHION_TRAIN]].astype(np.uint8)
    f_val = x_train[order[N_FASHION_TRAIN:N_FASHION_TRAIN + N_FASHION_VAL]].astype(np.uint8)

    d_order = rng.permutation(len(digits))
    d_train = digits[d_order[:N_DIGITS_TRAIN]]
    d_val = digits[d_order[N_DIGITS_TRAIN:N_DIGITS_TRAIN + N_DIGITS_VAL]]
    d_rest = digits[d_order[N_DIGITS_TRAIN + N_DIGITS_VAL:]]

    # Hidden pools: nothing that occurs byte for byte in a public pool.
    seen_f = set(row_hashes(f_train)) | set(row_hashes(f_val))
    test_order = rng.permutation(len(x_test))
    test_hashes = row_hashes(x_test)
    keep_f = [int(i) for i in test_order if test_hashes[i] not in seen_f][:N_TEST]
    if len(keep_f) < N_TEST:
        raise ValueError(f"only {len(keep_f)} fashion test images are not public, {N_TEST} needed")
    f_test = x_test[np.asarray(keep_f)].astype(np.uint8)
    seen_d = set(row_hashes(d_train)) | set(row_hashes(d_val))
    d_test = d_rest[[h not in seen_d for h in row_hashes(d_rest)]]
    if len(d_test) < 100:
        raise ValueError(f"only {len(d_test)} hidden digits are left")

    # Pairs: fashion images without replacement, digits with replacement (their pools are small).
    tr_f = rng.choice(N_FASHION_TRAIN, size=N_TRAIN, replace=False)
    tr_d = rng.integers(len(d_train), size=N_TRAIN)
    va_f = rng.choice(N_FASHION_VAL, size=N_VAL, replace=False)
    va_d = rng.integers(len(d_val), size=N_VAL)
    te_d = rng.integers(len(d_test), size=N_TEST)
    train_inputs, train_targets = mix(f_train[tr_f], d_train[tr_d])
    val_inputs, val_targets = mix(f_val[va_f], d_val[va_d])
    test_inputs, test_labels = mix(f_test, d_test[te_d])
    public = {"train_inputs": train_inputs, "train_targets": train_targets,
              "val_inputs": val_inputs, "val_targets": val_targets,
              "train_fashion": f_train, "train_digits": d_train}
    hidden = {"test_inputs": test_inputs, "test_labels": test_labels}
    return public, hidden


# ----------------------------------------------------------------------------- files

def recipe() -> dict:
    """What the build depends on; stored in the stamp file to know when a rebuild is due."""
    return {"version": RECIPE_VERSION, "seed": SEED, "n_fashion_train": N_FASHION_TRAIN,
            "n_fashion_val": N_FASHION_VAL, "n_digits_train": N_DIGITS_TRAIN, "n_digits_val": N_DIGITS_VAL,
            "n_train": N_TRAIN, "n_val": N_VAL, "n_test": N_TEST,
            "source": ["keras.datasets.fashion_mnist", "sklearn.datasets.load_digits"]}


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, then rename: no half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; data files are readable like any other
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_array(path: Path, array: np.ndarray) -> None:
    _atomic_write(path, lambda f: np.save(f, array, allow_pickle=False))


def save_text(path: Path, text: str) -> None:
    _atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def up_to_date(out: Path) -> bool:
    stamp = out / STAMP
    try:
        if json.loads(stamp.read_text()) != recipe():
            return False
    except (OSError, ValueError):
        return False
    return (all((out / "public" / n).is_file() for n in PUBLIC_FILES)
            and all((out / "hidden" / n).is_file() for n in HIDDEN_FILES))


def build(out: Path = DEFAULT_OUT, force: bool = False) -> bool:
    """Build the splits into ``out``; return False when they were already up to date."""
    out = Path(out)
    if not force and up_to_date(out):
        return False
    (out / STAMP).unlink(missing_ok=True)  # a build cut short is never taken for up to date
    public, hidden = build_splits(load_fashion(), load_digits_28())
    for name, array in public.items():
        save_array(out / "public" / f"{name}.npy", array)
    save_text(out / "public" / "README.txt", PUBLIC_README.format(
        n_train=N_TRAIN, n_val=N_VAL, n_fashion=len(public["train_fashion"]),
        n_digits=len(public["train_digits"]), n_test=N_TEST,
        baseline=baseline_mse(hidden["test_inputs"], hidden["test_labels"])))
    for name, array in hidden.items():
        save_array(out / "hidden" / f"{name}.npy", array)
    save_text(out / STAMP, json.dumps(recipe(), indent=2) + "\n")
    return True


def make_zip(out: Path = DEFAULT_OUT) -> Path:
    """Zip the public folder for the students (files at the archive's root); return the zip."""
    out = Path(out)
    target = out / "source-separation-public.zip"

    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in PUBLIC_FILES:
                archive.write(out / "public" / name, arcname=name)

    _atomic_write(target, write)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder ({DEFAULT_OUT})")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    parser.add_argument("--zip", action="store_true", help="also zip the public folder for the students")
    args = parser.parse_args(argv)
    built = build(args.out, force=args.force)
    hidden = args.out / "hidden"
    base = baseline_mse(np.load(hidden / "test_inputs.npy"), np.load(hidden / "test_labels.npy"))
    print(f"{'built' if built else 'up to date'}: {args.out}/public ({N_TRAIN} train + {N_VAL} val pairs), "
          f"{args.out}/hidden ({N_TEST} test pairs); baseline MSE (input as both sources) {base:.5f}")
    if args.zip:
        print(f"students' archive: {make_zip(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
