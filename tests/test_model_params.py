"""grader.model_params: parameter counts read from weight shapes, equal to model.count_params(),
and hostile model files refused without being loaded."""

import os
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pytest

from grader.exam import Limits
from grader.model_params import ModelFileError, count_parameters
from grader.rules import parameter_budget

REPO = Path(__file__).resolve().parents[1]

keras = pytest.importorskip("keras")
layers = keras.layers


@keras.saving.register_keras_serializable(package="exam_student")
class ScaledDense(layers.Layer):
    """An honest custom layer: a trainable kernel, a non-trainable scale, a sublayer and a seed."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.inner = layers.Dense(units, name="inner")
        self.seed_generator = keras.random.SeedGenerator(7)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.scale = self.add_weight(shape=(self.units,), initializer="ones", trainable=False, name="scale")
        self.inner.build(input_shape)

    def call(self, x, training=False):
        noise = keras.random.normal(keras.ops.shape(x), seed=self.seed_generator) if training else 0.0
        return (keras.ops.matmul(x + noise, self.kernel) + self.inner(x)) * self.scale

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="exam_student")
class TwoTowers(keras.Model):
    """A subclassed model (its layers are attributes, not a `layers` list)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.left = layers.Dense(5)
        self.right = keras.Sequential([layers.Dense(4), layers.BatchNormalization()])
        self.head = layers.Dense(2)

    def call(self, x):
        return self.head(keras.ops.concatenate([self.left(x), self.right(x)], axis=-1))


def _fit(model, x, y, optimizer="adam"):
    model.compile(optimizer, "mse", metrics=["mae", keras.metrics.AUC(name="auc")])
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    return model


def _models():
    rng = np.random.default_rng(0)
    img = rng.random((8, 12, 12, 3), dtype="float32")
    tab = rng.random((8, 6), dtype="float32")
    norm = layers.Normalization()
    norm.adapt(tab)

    dense = keras.Sequential([keras.Input((6,)), norm, layers.Dense(16, activation="relu"), layers.Dense(3)])

    conv = keras.Sequential([
        keras.Input((12, 12, 3)), layers.Conv2D(8, 3, use_bias=False), layers.BatchNormalization(),
        layers.ReLU(), layers.MaxPooling2D(), layers.SeparableConv2D(8, 3), layers.Dropout(0.3),
        layers.Flatten(), layers.Dense(10)])

    augment = keras.Sequential([
        keras.Input((12, 12, 3)), layers.RandomFlip("horizontal"), layers.RandomRotation(0.1),
        layers.RandomZoom(0.1), layers.RandomContrast(0.2), layers.RandomTranslation(0.1, 0.1),
        layers.GaussianNoise(0.1), layers.Conv2D(4, 3), layers.SpatialDropout2D(0.1),
        layers.GlobalAveragePooling2D(), layers.Dense(2)])

    recurrent = keras.Sequential([
        keras.Input((7,), dtype="int32"), layers.Embedding(50, 8), layers.LSTM(6, return_sequences=True),
        layers.Bidirectional(layers.GRU(5)), layers.Dense(1)])

    tokens = keras.Input((7,), dtype="int32")
    h = layers.Embedding(50, 16)(tokens)
    h = layers.LayerNormalization()(h + layers.MultiHeadAttention(num_heads=2, key_dim=8)(h, h))
    attention = keras.Model(tokens, layers.Dense(3)(layers.GlobalAveragePooling1D()(h)))

    sub_in = keras.Input((6,))
    block = keras.Model(sub_in, layers.Dense(4, name="block_out")(layers.Dense(8)(sub_in)), name="block")
    outer_in = keras.Input((6,))
    nested = keras.Model(outer_in, layers.Dense(2)(block(outer_in)))

    features = keras.Sequential([layers.Dense(7), layers.Dropout(0.5), layers.Dense(5)], name="features")
    f_in = keras.Input((6,))
    seq_in_functional = keras.Model(f_in, layers.Dense(1)(features(f_in)))

    compiled = _fit(keras.Sequential([keras.Input((12, 12, 3)), layers.Conv2D(4, 3), layers.BatchNormalization(),
                                      layers.Flatten(), layers.Dense(3)]), img, rng.random((8, 3)))

    # a submodel trained on its own (so it carries its own optimizer), then inside a trained model
    encoder = _fit(keras.Sequential([keras.Input((6,)), layers.Dense(5), layers.Dense(4)], name="encoder"),
                   tab, rng.random((8, 4)), optimizer="rmsprop")
    e_in = keras.Input((6,))
    nested_compiled = _fit(keras.Model(e_in, layers.Dense(2)(encoder(e_in))), tab, rng.random((8, 2)))

    shared = layers.Dense(4, name="shared")
    a, b = keras.Input((6,)), keras.Input((6,))
    siamese = keras.Model([a, b], layers.Dense(1)(layers.Concatenate()([shared(a), shared(b)])))

    c_in = keras.Input((6,))
    custom = keras.Model(c_in, layers.Dense(2)(ScaledDense(3)(c_in)))

    towers = TwoTowers()
    towers(tab)
    towers = _fit(towers, tab, rng.random((8, 2)))

    loss_scaled = _fit(keras.Sequential([keras.Input((6,)), layers.Dense(3)]), tab, rng.random((8, 3)),
                       optimizer=keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam()))
    return {"dense_normalization": dense, "conv_batchnorm_dropout": conv, "augmentation": augment,
            "embedding_lstm_gru": recurrent, "multi_head_attention": attention,
            "nested_functional": nested, "sequential_in_functional": seq_in_functional,
            "compiled_after_fit": compiled, "nested_compiled_submodel": nested_compiled,
            "shared_layer": siamese, "custom_layer": custom, "subclassed_model": towers,
            "loss_scale_optimizer": loss_scaled}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """{name: (count_params, {suffix: path})} for every model, saved in every format Keras writes."""
    folder = tmp_path_factory.mktemp("models")
    out = {}
    for name, model in _models().items():
        paths = {".keras": folder / f"{name}.keras", ".weights.h5": folder / f"{name}.weights.h5"}
        model.save(paths[".keras"])
        model.save_weights(paths[".weights.h5"])
        if name != "subclassed_model":  # legacy .h5 cannot hold a subclassed model
            paths[".h5"] = folder / f"{name}.h5"
            model.save(paths[".h5"])
        out[name] = (model.count_params(), paths)
    return out


MODEL_NAMES = ["dense_normalization", "conv_batchnorm_dropout", "augmentation", "embedding_lstm_gru",
               "multi_head_attention", "nested_functional", "sequential_in_functional", "compiled_after_fit",
               "nested_compiled_submodel", "shared_layer", "custom_layer", "subclassed_model",
               "loss_scale_optimizer"]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_count_equals_keras_count_params(saved, name):
    expected, paths = saved[name]
    for suffix, path in paths.items():
        assert count_parameters(path) == expected, (name, suffix)


def test_the_saved_files_hold_optimizer_state_which_is_not_counted(saved):
    _, paths = saved["nested_compiled_submodel"]
    with zipfile.ZipFile(paths[".keras"]) as archive, archive.open("model.weights.h5") as member:
        with h5py.File(member, "r") as h5:
            assert "optimizer" in h5 and "optimizer" in h5["layers"]["sequential"]  # the encoder's own
    with h5py.File(paths[".h5"], "r") as h5:
        assert "optimizer_weights" in h5


def test_a_custom_layer_keras_cannot_load_is_still_counted(saved, tmp_path):
    expected, paths = saved["custom_layer"]
    code = ("import keras, sys\n"
            "try:\n    keras.saving.load_model(sys.argv[1], safe_mode=True)\n"
            "except Exception as exc:\n    print('LOAD FAILED', type(exc).__name__)\n")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    run = subprocess.run([sys.executable, "-c", code, str(paths[".keras"])], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=300)
    assert "LOAD FAILED" in run.stdout, run.stdout + run.stderr  # the class is unknown in a fresh process
    assert count_parameters(paths[".keras"]) == expected


def test_counting_imports_neither_tensorflow_nor_keras(saved):
    expected, paths = saved["conv_batchnorm_dropout"]
    code = ("import sys\nfrom grader.model_params import count_parameters\n"
            "print(count_parameters(sys.argv[1]))\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'torch', 'jax'}))\n")
    run = subprocess.run([sys.executable, "-c", code, str(paths[".keras"])], capture_output=True, text=True,
                         cwd=REPO, timeout=120)
    assert run.stdout.split("\n")[:2] == [str(expected), "[]"], run.stderr


# --- hostile files ------------------------------------------------------------------------------------

def _deflated_zeros(n_mib):
    """(raw deflate stream, crc32) of n_mib MiB of zeros, built from one compressed MiB repeated: after a
    full flush the compressor forgets its history, so every MiB compresses to the same bytes."""
    zeros = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    segment = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    stream = first + segment * (n_mib - 1) + compressor.flush()
    crc = 0
    for _ in range(n_mib):
        crc = zlib.crc32(zeros, crc)
    return stream, crc


def _patch_member(path, name, *, method=None, crc=None, compress_size=None, file_size=None):
    """Rewrite the header fields of one member, in its local header and in the central directory."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    eocd = data.rfind(b"PK\x05\x06")
    directory = struct.unpack("<L", data[eocd + 16:eocd + 20])[0]
    central = data.find(b"PK\x01\x02" + b"", directory)
    while data[central + 46:central + 46 + len(name)] != name.encode():
        central = data.find(b"PK\x01\x02", central + 4)
    for base, fields in ((info.header_offset, (8, 14, 18, 22)), (central, (10, 16, 20, 24))):
        for offset, fmt, value in zip(fields, ("<H", "<L", "<L", "<L"), (method, crc, compress_size, file_size)):
            if value is not None:
                struct.pack_into(fmt, data, base + offset, value)
    path.write_bytes(bytes(data))


def _zip_bomb(path, n_mib, declared_size=None):
    """A .keras whose model.weights.h5 inflates to n_mib MiB of zeros (declared as declared_size)."""
    stream, crc = _deflated_zeros(n_mib)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("metadata.json", "{}")
        archive.writestr("model.weights.h5", stream)  # stored, then relabelled as deflated below
    _patch_member(path, "model.weights.h5", method=zipfile.ZIP_DEFLATED, crc=crc,
                  file_size=declared_size if declared_size is not None else n_mib << 20)
    return path


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path):
    bomb = _zip_bomb(tmp_path / "model.keras", 1000)  # 1.05 GB, just under the 1 GiB limit
    assert bomb.stat().st_size < 2 << 20  # 1.05 GB of zeros in ~1 MB
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match="zip bomb"):
        count_parameters(bomb)
    assert time.perf_counter() - start < 1


def test_a_member_larger_than_declared_is_never_read_past_its_declared_size(tmp_path):
    bomb = _zip_bomb(tmp_path / "model.keras", 64, declared_size=4096)
    with zipfile.ZipFile(bomb) as archive:
        assert archive.getinfo("model.weights.h5").file_size == 4096
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match="damaged"):  # bad CRC after 4096 bytes, not 64 MiB later
        count_parameters(bomb)
    assert time.perf_counter() - start < 1


def test_size_limits(saved, tmp_path):
    _, paths = saved["dense_normalization"]
    with pytest.raises(ModelFileError, match="over the limit"):
        count_parameters(paths[".keras"], max_bytes=1000)
    with pytest.raises(ModelFileError, match="over the limit"):
        count_parameters(paths[".h5"], max_bytes=1000)
    crowded = tmp_path / "model.keras"
    with zipfile.ZipFile(crowded, "w") as archive:
        for i in range(1500):
            archive.writestr(f"assets/{i}.txt", "")
        archive.write(paths[".weights.h5"], "model.weights.h5")
    with pytest.raises(ModelFileError, match="files"):
        count_parameters(crowded)


def test_garbage_truncated_and_incomplete_files(saved, tmp_path):
    _, paths = saved["conv_batchnorm_dropout"]
    cases = {
        "empty": b"",
        "garbage": bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)),
        "text": b"this is not a model\n",
        "truncated_keras": paths[".keras"].read_bytes()[:3000],
        "truncated_h5": paths[".h5"].read_bytes()[:3000],
        "hdf5_magic_only": b"\x89HDF\r\n\x1a\n" + bytes(100),
    }
    for label, content in cases.items():
        bad = tmp_path / f"{label}.keras"
        bad.write_bytes(content)
        with pytest.raises(ModelFileError) as caught:
            count_parameters(bad)
        assert "model.save(MODEL_PATH)" in str(caught.value), (label, caught.value)

    no_weights = tmp_path / "no_weights.keras"
    with zipfile.ZipFile(no_weights, "w") as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("weights.h5", b"")
    with pytest.raises(ModelFileError, match="holds no model.weights.h5"):
        count_parameters(no_weights)

    bad_member = tmp_path / "bad_member.keras"
    with zipfile.ZipFile(bad_member, "w") as archive:
        archive.writestr("model.weights.h5", b"not hdf5 at all" * 100)
    with pytest.raises(ModelFileError, match="not a readable HDF5 file"):
        count_parameters(bad_member)

    with pytest.raises(ModelFileError, match="missing"):
        count_parameters(tmp_path / "absent.keras")


def test_symlinks_fifos_and_folders_are_refused(saved, tmp_path):
    _, paths = saved["dense_normalization"]
    link = tmp_path / "model.keras"
    link.symlink_to(paths[".keras"])
    with pytest.raises(ModelFileError, match="symlink"):
        count_parameters(link)
    fifo = tmp_path / "fifo.keras"
    os.mkfifo(fifo)
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match="not a regular file"):
        count_parameters(fifo)  # no writer: a blocking open would hang forever
    assert time.perf_counter() - start < 1
    (tmp_path / "folder.keras").mkdir()
    with pytest.raises(ModelFileError):
        count_parameters(tmp_path / "folder.keras")


def _keras_archive(path, build_h5):
    """A .keras archive whose model.weights.h5 is written by build_h5(h5py.File)."""
    h5_path = path.with_suffix(".tmp.h5")
    with h5py.File(h5_path, "w") as h5:
        build_h5(h5)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
        archive.write(h5_path, "model.weights.h5")
    return path


def test_external_links_are_never_followed(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as h5:
        h5["big"] = np.zeros((100, 100), "float32")

    def build(h5):
        h5["layers/dense/vars/0"] = np.zeros((3, 2), "float32")
        h5["layers/dense/vars/1"] = h5py.ExternalLink(str(other), "/big")

    for path in (_keras_archive(tmp_path / "model.keras", build), tmp_path / "model.weights.h5"):
        if path.suffix == ".h5":
            with h5py.File(path, "w") as h5:
                build(h5)
        with pytest.raises(ModelFileError, match="links to another file"):
            count_parameters(path)


def test_soft_links_cycles_and_virtual_datasets_are_refused(tmp_path):
    source = tmp_path / "source.h5"
    with h5py.File(source, "w") as h5:
        h5["x"] = np.zeros(10, "float32")

    def soft(h5):
        h5["layers/dense/vars/0"] = np.zeros((3, 2), "float32")
        h5["layers/dense/vars/1"] = h5py.SoftLink("/layers/dense/vars/0")

    def cycle(h5):
        h5["layers/dense/vars/0"] = np.zeros((3, 2), "float32")
        h5["layers/dense/vars/again"] = h5["layers"]  # a hard link back up the tree

    def virtual(h5):
        vds = h5py.VirtualLayout(shape=(10,), dtype="float32")
        vds[:] = h5py.VirtualSource(str(source), "x", shape=(10,))
        h5.create_group("layers/dense/vars").create_virtual_dataset("0", vds)

    for build, why in ((soft, "soft"), (cycle, "second time"), (virtual, "virtual dataset")):
        with pytest.raises(ModelFileError, match=why):
            count_parameters(_keras_archive(tmp_path / f"{build.__name__}.keras", build))


def test_absurd_shapes_are_refused_without_reading_data(tmp_path):
    def huge(h5):  # 10^13 float32 values: declared, never allocated
        h5.create_dataset("layers/dense/vars/0", shape=(10**7, 10**6), dtype="float32")

    def many(h5):
        for i in range(3):
            h5.create_dataset(f"layers/dense_{i}/vars/0", shape=(10**6, 5 * 10**5), dtype="float32")

    def large_but_plausible(h5):  # shapes only: the values are never written nor read
        h5.create_dataset("layers/dense/vars/0", shape=(10**5, 10**4), dtype="float32")
        h5.create_dataset("layers/dense/vars/1", shape=(10**4,), dtype="float32")

    for build in (huge, many):
        path = _keras_archive(tmp_path / f"{build.__name__}.keras", build)
        assert path.stat().st_size < 100_000
        with pytest.raises(ModelFileError, match="no real model"):
            count_parameters(path)
    assert count_parameters(_keras_archive(tmp_path / "plausible.keras", large_but_plausible)) == 10**9 + 10**4


# --- rules.parameter_budget ----------------------------------------------------------------------------

def _exam(budget):
    return SimpleNamespace(limits=Limits(max_parameters=budget), grading=SimpleNamespace(parameter_bonus=None))


def test_parameter_budget(saved, tmp_path):
    expected, paths = saved["conv_batchnorm_dropout"]
    assert parameter_budget(paths[".keras"], _exam(expected)) == (expected, [])
    assert parameter_budget(paths[".keras"], _exam(expected - 1)) == (
        expected, [f"the model has {expected:,} parameters, over the budget of {expected - 1:,}"])
    assert parameter_budget(paths[".keras"], _exam(None)) == (None, [])
    n, violations = parameter_budget(None, _exam(1000))
    assert n is None and "no model file" in violations[0]
    n, violations = parameter_budget(tmp_path / "model.keras", _exam(1000))
    assert n is None and "no model file" in violations[0]
    (tmp_path / "model.keras").symlink_to(paths[".keras"])
    n, violations = parameter_budget(tmp_path / "model.keras", _exam(1000))
    assert n is None and violations[0].startswith(
        "the model file model.keras cannot be read to count its parameters: model.keras: not a regular file")
