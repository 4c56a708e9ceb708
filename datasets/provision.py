#!/usr/bin/env python3
"""Provision the course's offline datasets where the real loaders look for them.

The notebooks keep the loading code students run in Colab, e.g.
``keras.datasets.fashion_mnist.load_data()``. That loader has no checksum: it uses the four
``.gz`` files in ``$KERAS_HOME/datasets/fashion-mnist/`` (``~/.keras`` when ``KERAS_HOME`` is
unset) as they are and only downloads a file that is missing. Debian's
``dataset-fashion-mnist`` package ships the very same IDX files, so copying them there makes
the unchanged loader work on a machine without internet.

Usage: python datasets/provision.py [--source DIR] [--keras-home DIR] [--check]
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
from pathlib import Path

FASHION_MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
# IDX magic numbers: 0x00000803 for uint8 image tensors, 0x00000801 for uint8 label vectors.
IDX_MAGIC = {"images": b"\x00\x00\x08\x03", "labels": b"\x00\x00\x08\x01"}


class ProvisionError(RuntimeError):
    """A dataset could not be provisioned; the message says what to do."""


def keras_home() -> Path:
    """Where Keras caches datasets, resolved exactly as keras.src.backend.config does."""
    if "KERAS_HOME" in os.environ:
        return Path(os.environ["KERAS_HOME"]).expanduser()
    home = Path("~").expanduser()
    return (home if os.access(home, os.W_OK) else Path("/tmp")) / ".keras"


def _check_idx(path: Path) -> None:
    kind = "labels" if "labels" in path.name else "images"
    try:
        with gzip.open(path, "rb") as f:
            magic = f.read(4)
    except (OSError, EOFError) as exc:
        raise ProvisionError(f"{path} is not a readable gzip file ({exc})") from exc
    if magic != IDX_MAGIC[kind]:
        raise ProvisionError(f"{path} is not an IDX {kind} file (magic {magic.hex()})")


def provision_fashion_mnist(source: Path = DEBIAN_FASHION_MNIST, home: Path | None = None) -> Path:
    """Copy the Fashion-MNIST IDX files into the Keras cache; return the cache folder.

    Files already in the cache with the same size are left alone, so rerunning is cheap.
    """
    target = (home or keras_home()) / "datasets" / "fashion-mnist"
    missing = [name for name in FASHION_MNIST_FILES if not (source / name).is_file()]
    if missing:
        raise ProvisionError(
            f"Fashion-MNIST not found in {source} (missing {', '.join(missing)}). "
            "On Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist. "
            "In Colab nothing is needed: keras downloads it."
        )
    for name in FASHION_MNIST_FILES:  # refuse a bad source before touching the cache
        _check_idx(source / name)
    target.mkdir(parents=True, exist_ok=True)
    for name in FASHION_MNIST_FILES:
        src, dst = source / name, target / name
        if dst.is_file() and dst.stat().st_size == src.stat().st_size:
            continue
        tmp = dst.with_suffix(".partial")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)  # atomic: Keras never sees a half-copied file
    return target


def check_fashion_mnist(home: Path | None = None) -> str:
    """Load the dataset through the real Keras loader and describe what came back."""
    if home is not None:
        os.environ["KERAS_HOME"] = str(home)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    from keras.datasets import fashion_mnist

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    return f"fashion_mnist: train {x_train.shape} test {x_test.shape}, {len(set(y_train))} classes"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEBIAN_FASHION_MNIST)
    parser.add_argument("--keras-home", type=Path, default=None)
    parser.add_argument("--check", action="store_true", help="also load it through keras")
    args = parser.parse_args(argv)
    try:
        target = provision_fashion_mnist(args.source, args.keras_home)
    except ProvisionError as exc:
        print(f"provision: {exc}", file=sys.stderr)
        return 1
    print(f"fashion-mnist: {len(FASHION_MNIST_FILES)} files in {target}")
    if args.check:
        print(check_fashion_mnist(args.keras_home))
    return 0


if __name__ == "__main__":
    sys.exit(main())
