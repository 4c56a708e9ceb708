#!/usr/bin/env python3
"""Build the data of the fashion-budget exam, offline and deterministically.

Source: Fashion-MNIST through the real Keras loader ``keras.datasets.fashion_mnist.load_data()``
(offline, it reads the Keras cache that ``datasets/provision.py`` fills).

- PUBLIC split (``<out>/public``, zipped and given to the students; the notebook's ``DATA_DIR``):
  ``train_images.npy`` / ``train_labels.npy`` (50,000) and ``val_images.npy`` / ``val_labels.npy``
  (10,000), both drawn from the official TRAIN split only, plus a ``README.txt``.
- HIDDEN split (``<out>/hidden``, never given out): ``test_inputs.npy`` (5,000 uint8 images drawn
  from the official TEST split, shuffled with a fixed seed) and ``test_labels.npy``. Only the
  grader's own process reads the labels; the notebook sees the inputs as ``TEST_INPUTS``.

Nothing public can reveal the hidden labels: public data comes only from the train split, test
images that also occur (byte for byte) in the train split are never used, and the grader's sandbox
hides the machine's copies of the source data (``hide`` in exam.toml).

Files are written atomically (temporary name, then rename). A build whose files are all present
and whose stamp matches this recipe is skipped; ``--force`` rebuilds.

``--zip`` also writes ``<out>/fashion-budget-public.zip`` (the public files at its root): the
archive the students download; the template's setup cell unzips it into ``DATA_DIR`` in Colab.

Usage: python make_data.py [--out DIR] [--force] [--zip]
"""

from __future__ import annotations

import argparse
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

# The recipe: change any of these (or RECIPE_VERSION) and the next run rebuilds.
RECIPE_VERSION = 2  # 2: the hidden images are generated, not copied
SEED = 20240601
N_TRAIN = 50_000
N_VAL = 10_000
N_TEST = 5_000
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# The hidden images' transformations (label-preserving; strong enough that no hidden image is an
# official one, mild enough that a model trained on the public data keeps its accuracy within ~4 %).
MAX_SHIFT = 1  # pixels, each axis
CONTRAST = (0.85, 1.0)  # the image is multiplied by a factor drawn in this range
NOISE_STD = 6.0  # Gaussian noise on the 0..255 pixel values
PUBLIC_FILES = ("train_images.npy", "train_labels.npy", "val_images.npy", "val_labels.npy", "README.txt")
HIDDEN_FILES = ("test_inputs.npy", "test_labels.npy")
STAMP = ".recipe.json"

PUBLIC_README = """\
Fashion-MNIST under a parameter budget -- public data
=====================================================

Greyscale 28x28 images of clothing, 10 classes. Every file is a NumPy array (np.load):

  train_images.npy  uint8  ({n_train}, 28, 28)  pixel values 0..255, training split
  train_labels.npy  uint8  ({n_train},)         class index 0..9 of each training image
  val_images.npy    uint8  ({n_val}, 28, 28)  validation split: measure your model on it
  val_labels.npy    uint8  ({n_val},)         class index of each validation image

Both splits come from the official Fashion-MNIST training set (disjoint, shuffled).
Your model is graded on a HIDDEN test set of {n_test} images of the same kind (uint8, shape
(n, 28, 28)), passed to your notebook as TEST_INPUTS; you never see its labels.

Class indices:
{classes}

Budget: the saved model (model.keras) may have at most 100,000 parameters.
"""


def recipe() -> dict:
    """What the build depends on; stored in the stamp file to know when a rebuild is due."""
    return {"version": RECIPE_VERSION, "seed": SEED, "n_train": N_TRAIN, "n_val": N_VAL,
            "n_test": N_TEST, "source": "keras.datasets.fashion_mnist",
            "transform": {"max_shift": MAX_SHIFT, "contrast": list(CONTRAST), "noise_std": NOISE_STD}}


def load_source() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Fashion-MNIST through the real Keras loader (offline: reads the Keras cache)."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    try:
        return keras.datasets.fashion_mnist.load_data()
    except Exception as exc:  # the loader tries to download a missing file
        raise SystemExit(f"cannot load Fashion-MNIST ({exc}); run `python datasets/provision.py` "
                         "(make data) to put the offline copy in the Keras cache") from exc


def row_hashes(images: np.ndarray) -> list[str]:
    """One digest per image (its bytes): finds the same image in two arrays."""
    return [hashlib.sha1(np.ascontiguousarray(row).tobytes()).hexdigest() for row in images]


def build_splits(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray]
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The public and hidden arrays, from the official train and test splits."""
    (x_train, y_train), (x_test, y_test) = train, test
    if len(x_train) < N_TRAIN + N_VAL:
        raise ValueError(f"the train split has {len(x_train)} images, {N_TRAIN + N_VAL} needed")
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(x_train))
    tr, va = order[:N_TRAIN], order[N_TRAIN:N_TRAIN + N_VAL]
    public = {
        "train_images": x_train[tr].astype(np.uint8), "train_labels": y_train[tr].astype(np.uint8),
        "val_images": x_train[va].astype(np.uint8), "val_labels": y_train[va].astype(np.uint8),
    }
    # Hidden: a shuffled sample of the official test split, without any image that is also in
    # the public data (none in the official release, but the guarantee must not depend on it).
    seen = set(row_hashes(public["train_images"])) | set(row_hashes(public["val_images"]))
    candidates = rng.permutation(len(x_test))
    test_hashes = row_hashes(x_test)
    keep = [int(i) for i in candidates if test_hashes[i] not in seen][:N_TEST]
    if len(keep) < N_TEST:
        raise ValueError(f"only {len(keep)} test images are not in the public data, {N_TEST} needed")
    keep = np.asarray(keep)
    hidden = {"test_inputs": transform(x_test[keep], rng), "test_labels": y_test[keep].astype(np.uint8)}
    return public, hidden


def transform(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """New images with the same labels: shifted (zeros enter at the edge), contrast-scaled, noisy."""
    out = np.empty(images.shape, dtype=np.uint8)
    for i, image in enumerate(images.astype(np.float32)):
        dy, dx = rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, size=2)
        shifted = np.zeros_like(image)
        h, w = image.shape
        shifted[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
            image[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
        noisy = shifted * rng.uniform(*CONTRAST) + rng.normal(0.0, NOISE_STD, size=image.shape)
        out[i] = np.clip(np.round(noisy), 0, 255).astype(np.uint8)
    return out


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
    if not stamp.is_file():
        return False
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
    public, hidden = build_splits(*load_source())
    for name, array in public.items():
        save_array(out / "public" / f"{name}.npy", array)
    classes = "\n".join(f"  {i}  {name}" for i, name in enumerate(CLASS_NAMES))
    save_text(out / "public" / "README.txt", PUBLIC_README.format(
        n_train=len(public["train_images"]), n_val=len(public["val_images"]),
        n_test=len(hidden["test_inputs"]), classes=classes))
    for name, array in hidden.items():
        save_array(out / "hidden" / f"{name}.npy", array)
    save_text(out / STAMP, json.dumps(recipe(), indent=2) + "\n")
    return True


def make_zip(out: Path = DEFAULT_OUT) -> Path:
    """Zip the public folder for the students (files at the archive's root); return the zip."""
    out = Path(out)
    target = out / "fashion-budget-public.zip"

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
    print(f"{'built' if built else 'up to date'}: {args.out}/public ({N_TRAIN} train + {N_VAL} val), "
          f"{args.out}/hidden ({N_TEST} test)")
    if args.zip:
        print(f"students' archive: {make_zip(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
