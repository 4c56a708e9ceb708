"""The sample exam (exams/fashion-budget) and the students' template, without the grader pipeline:
exam.toml against the contracts, the data recipe, the sample submissions, the template."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import re
import sys
import tomllib

import jupytext
import nbformat
import numpy as np
import pytest

from tests.notebook_tools import REPO, kernel_env

EXAM = REPO / "exams" / "fashion-budget"
SAMPLES = EXAM / "sample_submissions"
TEMPLATE_PY = REPO / "exam_template.py"
TEMPLATE_IPYNB = REPO / "exam_template.ipynb"
CONTRACT_NAMES = ("GRADING", "DATA_DIR", "TEST_INPUTS", "PREDICTIONS_PATH", "MODEL_PATH")
MAX_MODEL_BYTES = 2_000_000
OPTIONAL_KEYS = {"exam": {"template"}}  # known to grader/exam.py beyond the CONTRACTS.md example


def _load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _contract_toml() -> dict:
    """The exam.toml example of grader/CONTRACTS.md: the reference list of keys."""
    text = (REPO / "grader" / "CONTRACTS.md").read_text()
    block = re.search(r"```toml\n(.*?)```", text, re.S)
    assert block, "CONTRACTS.md has no ```toml block"
    return tomllib.loads(block.group(1))


def _exam() -> dict:
    return tomllib.loads((EXAM / "exam.toml").read_text())


# ----------------------------------------------------------------------------- exam.toml

def test_exam_toml_has_every_contract_key():
    contract, exam = _contract_toml(), _exam()
    for table, keys in contract.items():
        assert table in exam, f"exam.toml: missing table [{table}]"
        missing = sorted(set(keys) - set(exam[table]))
        assert not missing, f"exam.toml [{table}]: missing {missing}"
        unknown = sorted(set(exam[table]) - set(keys) - OPTIONAL_KEYS.get(table, set()))
        assert not unknown, f"exam.toml [{table}]: keys not in CONTRACTS.md {unknown}"
        for key, value in keys.items():
            assert type(exam[table][key]) is type(value), f"[{table}] {key}: {type(value).__name__} expected"


def test_exam_toml_values():
    exam = _exam()
    assert exam["exam"]["mode"] == "weights"
    assert (EXAM / exam["exam"]["template"]).resolve() == TEMPLATE_IPYNB
    assert exam["metric"] == {"name": "accuracy", "direction": "higher", "display": "Accuracy"}
    assert exam["predictions"] == {"kind": "class_labels", "num_classes": 10, "shape": []}
    limits = exam["limits"]
    assert limits["max_parameters"] == 100_000
    assert (limits["time_seconds"], limits["cell_seconds"], limits["memory_mb"]) == (180, 120, 4096)
    assert set(limits["forbidden_imports"]) == {"torch", "requests", "urllib", "socket", "http"}
    assert limits["forbid_pretrained"] is True and limits["model_file"] == "model.keras"
    grading = exam["grading"]
    assert grading["objective_weight"] + grading["quality_weight"] == pytest.approx(1.0)
    assert (grading["scheme"], grading["baseline"], grading["target"]) == ("linear", 0.10, 0.93)
    assert (grading["bonus"], grading["scale"]) == (1.0, 30)
    data = exam["data"]
    assert (EXAM / data["recipe"]).is_file()
    assert "~/.keras/datasets/fashion-mnist" in data["hide"]
    assert "/usr/share/datasets/fashion-mnist" in data["hide"]
    assert data["public"] == "data/public" and not data["test_labels"].startswith(data["public"])
    assert (EXAM / ".gitignore").read_text().split() == ["data/"]


# ----------------------------------------------------------------------------- the data recipe

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Two builds of the recipe into temporary folders (the second one forced)."""
    make_data = _load_module(EXAM / "make_data.py", "fashion_budget_make_data")
    first, second = tmp_path_factory.mktemp("data-a"), tmp_path_factory.mktemp("data-b")
    assert make_data.main(["--out", str(first)]) == 0
    assert make_data.build(first) is False, "an up-to-date build must be skipped"
    assert make_data.main(["--out", str(second), "--force"]) == 0
    return make_data, first, second


def _rows(images: np.ndarray) -> set[str]:
    return {hashlib.sha1(row.tobytes()).hexdigest() for row in images}


@pytest.mark.slow
@pytest.mark.xdist_group("fashion_budget_data")
def test_make_data_shapes_and_dtypes(built):
    make_data, out, _ = built
    expected = {
        "public/train_images.npy": (make_data.N_TRAIN, 28, 28), "public/train_labels.npy": (make_data.N_TRAIN,),
        "public/val_images.npy": (make_data.N_VAL, 28, 28), "public/val_labels.npy": (make_data.N_VAL,),
        "hidden/test_inputs.npy": (make_data.N_TEST, 28, 28), "hidden/test_labels.npy": (make_data.N_TEST,),
    }
    for name, shape in expected.items():
        array = np.load(out / name, allow_pickle=False)
        assert array.shape == shape and array.dtype == np.uint8, f"{name}: {array.shape} {array.dtype}"
        if "labels" in name:
            assert set(np.unique(array)) == set(range(10)), f"{name}: all 10 classes"
    assert (out / "public" / "README.txt").read_text().strip()
    assert not list(out.rglob("*.partial")), "temporary files left behind"


@pytest.mark.slow
@pytest.mark.xdist_group("fashion_budget_data")
def test_make_data_is_deterministic(built):
    _, first, second = built
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), f"{name} differs between builds"


@pytest.mark.slow
@pytest.mark.xdist_group("fashion_budget_data")
def test_hidden_split_is_not_in_public_data(built):
    _, out, _ = built
    public = _rows(np.load(out / "public" / "train_images.npy")) | _rows(np.load(out / "public" / "val_images.npy"))
    hidden = _rows(np.load(out / "hidden" / "test_inputs.npy"))
    assert len(hidden) > 0.99 * len(np.load(out / "hidden" / "test_labels.npy"))
    assert not public & hidden, f"{len(public & hidden)} hidden images also in the public data"
    public_files = [p.name for p in (out / "public").rglob("*")]
    assert not [n for n in public_files if "test" in n], f"test files in the public folder: {public_files}"
    assert not (out / "hidden").is_relative_to(out / "public")


@pytest.mark.slow
@pytest.mark.xdist_group("fashion_budget_data")
def test_hidden_split_cannot_be_recovered_from_the_public_fashion_mnist(built):
    """The official Fashion-MNIST test split is public: a notebook could carry a lookup table of it.
    No hidden image is an official one, and nearest-neighbour matching recovers too few to help."""
    import keras

    _, out, _ = built
    (x_train, _), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    hidden = np.load(out / "hidden" / "test_inputs.npy")
    labels = np.load(out / "hidden" / "test_labels.npy")
    official = _rows(x_train) | _rows(x_test)
    assert not _rows(hidden) & official, "hidden images found byte for byte in the official release"
    # the lookup attack: the label of the nearest official test image, on a sample of 1,000
    sample = hidden[:1000].reshape(1000, -1).astype(np.float32)
    table = x_test.reshape(len(x_test), -1).astype(np.float32)
    distances = (sample**2).sum(1)[:, None] - 2 * sample @ table.T + (table**2).sum(1)[None]
    looked_up = y_test[distances.argmin(1)]
    assert (looked_up == labels[:1000]).mean() < 0.87  # below the strong sample model (0.88 here)


# ----------------------------------------------------------------------------- sample submissions

STUDENTS = sorted(p.name for p in SAMPLES.iterdir() if p.is_dir()) if SAMPLES.is_dir() else []


def test_there_are_sample_students():
    assert len(STUDENTS) >= 6, f"at least six sample students, found {STUDENTS}"
    for name in ("alice_strong_cnn", "bob_weak_mlp", "carol_crash", "dave_timeout",
                 "erin_bad_shape", "frank_over_budget"):
        assert name in STUDENTS


@pytest.mark.parametrize("student", STUDENTS)
def test_sample_submission_folder(student):
    folder = SAMPLES / student
    notebooks = list(folder.glob("*.ipynb"))
    assert [p.name for p in notebooks] == [f"{student}.ipynb"], "exactly one notebook, named after the student"
    nb = nbformat.read(notebooks[0], as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert any("PREDICTIONS_PATH" in c.source for c in code), "the notebook saves predictions"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    if student == "grace_no_params_cell":
        assert not tagged, "grace's notebook must keep its untagged (Colab) parameters"
        first = next(c for c in code if any(f"{n} =" in c.source for n in CONTRACT_NAMES))
        assert all(f"{n} =" in first.source for n in CONTRACT_NAMES)
    else:
        assert len(tagged) == 1, "one cell tagged parameters"
    model = folder / "model.keras"
    assert model.is_file(), "weights mode: the model file is handed in"
    assert model.stat().st_size < MAX_MODEL_BYTES, f"{model.stat().st_size} bytes: keep sample models small"
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{student}.ipynb", "model.keras"])


@pytest.mark.slow
@pytest.mark.xdist_group("fashion_budget_data")
def test_sample_models_match_their_story():
    import keras

    budget = _exam()["limits"]["max_parameters"]
    for student in STUDENTS:
        params = keras.models.load_model(SAMPLES / student / "model.keras").count_params()
        if student == "frank_over_budget":
            assert params > budget, f"frank must be over the budget ({params:,})"
        else:
            assert params <= budget, f"{student}: {params:,} parameters, over the budget"


# ----------------------------------------------------------------------------- the template

def _comparable(nb):
    return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in nb.cells]


def _parameters_cell(nb):
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    return tagged[0]


def test_template_parameters_cell():
    cell = _parameters_cell(jupytext.read(TEMPLATE_PY))
    assert cell.cell_type == "code"
    values = {t.id: n.value for n in ast.parse(cell.source).body
              if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    missing = [n for n in CONTRACT_NAMES if n not in values]
    assert not missing, f"parameters cell misses {missing}"
    literal = {n: ast.literal_eval(values[n]) for n in CONTRACT_NAMES}
    assert literal == {"GRADING": False, "DATA_DIR": "data/public", "TEST_INPUTS": "data/public/val_images.npy",
                       "PREDICTIONS_PATH": "predictions.npy", "MODEL_PATH": "model.keras"}


def test_template_pair_in_sync_and_output_free():
    committed = nbformat.read(TEMPLATE_IPYNB, as_version=4)
    assert _comparable(jupytext.read(TEMPLATE_PY)) == _comparable(committed), (
        "exam_template.ipynb differs from exam_template.py: run `make notebooks`")
    dirty = [i for i, c in enumerate(committed.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"cells {dirty} of exam_template.ipynb carry outputs"
    assert "jupytext" not in committed.metadata


def test_template_tells_the_rules():
    text = TEMPLATE_PY.read_text()
    for needle in ("80 %", "20 %", "hidden test set", "model.keras", "100,000", "GRADING = True",
                   "torch", "pretrained", "self-check"):
        assert needle in text, f"the template does not mention {needle!r}"
    for section in ("1. Problem statement", "2. Data exploration", "3. The model", "4. Training",
                    "5. Evaluation and discussion"):
        assert f"## {section}" in text, f"section {section!r} missing"


@pytest.mark.slow
def test_template_grading_path_writes_integer_labels(tmp_path):
    """GRADING = True: no training, no public data needed; load the model, predict, save labels."""
    import os

    os.environ.update({k: v for k, v in kernel_env().items() if k not in os.environ})
    import keras
    import papermill

    model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.save(tmp_path / "tiny.keras")
    rng = np.random.default_rng(0)
    np.save(tmp_path / "inputs.npy", rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8))
    papermill.execute_notebook(
        str(TEMPLATE_IPYNB), str(tmp_path / "executed.ipynb"), kernel_name="python3", cwd=str(tmp_path),
        progress_bar=False, execution_timeout=120,
        parameters={"GRADING": True, "DATA_DIR": str(tmp_path / "no-public-data-when-grading"),
                    "TEST_INPUTS": str(tmp_path / "inputs.npy"),
                    "PREDICTIONS_PATH": str(tmp_path / "predictions.npy"),
                    "MODEL_PATH": str(tmp_path / "tiny.keras")})
    predictions = np.load(tmp_path / "predictions.npy", allow_pickle=False)
    assert predictions.shape == (7,)
    assert np.issubdtype(predictions.dtype, np.integer)
    assert predictions.min() >= 0 and predictions.max() < 10
    assert not (tmp_path / "model.keras").exists(), "the grading path must not train or save a model"


def test_grader_loads_the_exam():
    """The grader's own reader accepts exam.toml (skipped while grader/exam.py is not there)."""
    exam_module = pytest.importorskip("grader.exam")
    exam = exam_module.load_exam(EXAM)
    assert exam.limits.max_parameters == 100_000
    assert exam.template == TEMPLATE_IPYNB
