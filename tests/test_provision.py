"""datasets/provision.py places Fashion-MNIST where the unchanged Keras loader finds it."""

import gzip
import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from tests.notebook_tools import REPO, kernel_env

spec = importlib.util.spec_from_file_location("provision", REPO / "datasets" / "provision.py")
provision = importlib.util.module_from_spec(spec)
spec.loader.exec_module(provision)


def _write_idx(folder, n=5):
    """A tiny but valid set of the four Fashion-MNIST IDX files."""
    folder.mkdir(parents=True, exist_ok=True)
    images = np.arange(n * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(n, 28, 28)
    labels = np.arange(n, dtype=np.uint8) % 10
    for split in ("train", "t10k"):
        header = b"\x00\x00\x08\x03" + np.array([n, 28, 28], ">u4").tobytes()
        with gzip.open(folder / f"{split}-images-idx3-ubyte.gz", "wb") as f:
            f.write(header + images.tobytes())
        with gzip.open(folder / f"{split}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(b"\x00\x00\x08\x01" + np.array([n], ">u4").tobytes() + labels.tobytes())
    return images, labels


def test_provisioned_files_load_through_the_real_keras_loader(tmp_path):
    images, labels = _write_idx(tmp_path / "debian")
    target = provision.provision_fashion_mnist(tmp_path / "debian", tmp_path / "keras-home")
    assert target == tmp_path / "keras-home" / "datasets" / "fashion-mnist"
    # A fresh interpreter, as a notebook kernel would be, with KERAS_HOME pointing at the cache.
    code = ("from keras.datasets import fashion_mnist\n"
            "(x, y), (xt, yt) = fashion_mnist.load_data()\n"
            "print(x.shape, int(x.sum()), y.tolist())")
    env = kernel_env() | {"KERAS_HOME": str(tmp_path / "keras-home")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[0] == f"(5, 28, 28) {int(images.sum())} {labels.tolist()}"


def test_rerun_is_idempotent_and_repairs_a_truncated_copy(tmp_path):
    _write_idx(tmp_path / "src")
    target = provision.provision_fashion_mnist(tmp_path / "src", tmp_path / "home")
    (target / "train-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b")
    provision.provision_fashion_mnist(tmp_path / "src", tmp_path / "home")
    assert (target / "train-labels-idx1-ubyte.gz").read_bytes() == (
        tmp_path / "src" / "train-labels-idx1-ubyte.gz").read_bytes()


def test_missing_source_says_what_to_install(tmp_path):
    with pytest.raises(provision.ProvisionError, match="apt-get install dataset-fashion-mnist"):
        provision.provision_fashion_mnist(tmp_path / "nowhere", tmp_path / "home")


def test_a_file_that_is_not_idx_is_refused(tmp_path):
    _write_idx(tmp_path / "src")
    with gzip.open(tmp_path / "src" / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(b"<html>not found</html>")
    with pytest.raises(provision.ProvisionError, match="not an IDX labels file"):
        provision.provision_fashion_mnist(tmp_path / "src", tmp_path / "home")
    assert not (tmp_path / "home" / "datasets" / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").exists()


@pytest.mark.skipif(not provision.DEBIAN_FASHION_MNIST.is_dir(), reason="dataset-fashion-mnist absent")
def test_debian_package_gives_the_full_dataset(tmp_path):
    target = provision.provision_fashion_mnist(home=tmp_path)
    sizes = {p.name: p.stat().st_size for p in target.iterdir()}
    assert sizes["train-images-idx3-ubyte.gz"] > 25_000_000 and len(sizes) == 4
