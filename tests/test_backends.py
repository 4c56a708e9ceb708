"""Keras 3 backends: the exam lists the allowed ones, the notebook declares its own (KERAS_BACKEND in
its parameters cell or `metadata.keras_backend`), and the harness runs and counts it with that backend."""

from __future__ import annotations

import csv
import importlib.util

import nbformat
import pytest

from grader import sandbox
from grader.cli import main
from tests.exam_factory import PARAMS, RULE, make_exam, student_notebook

from .adversarial.harness import printed_outputs

pytestmark = [
    pytest.mark.skipif(not sandbox.isolation_available()[0], reason="needs bubblewrap"),
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.xdist_group("backends"),
]
HAVE_JAX = importlib.util.find_spec("jax") is not None

TRAIN = """import os
import keras
print("BACKEND", keras.backend.backend())
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(3, activation="softmax")])
model.compile(keras.optimizers.Adam(0.03), "sparse_categorical_crossentropy")
xt = np.load(os.path.join(DATA_DIR, "train_inputs.npy")); yt = np.load(os.path.join(DATA_DIR, "train_labels.npy"))
model.fit(xt, yt, epochs=100, verbose=0)
pred = np.argmax(model.predict(np.load(TEST_INPUTS), verbose=0), axis=-1)
np.save(PREDICTIONS_PATH, pred)
model.save(MODEL_PATH)"""


def grades(out):
    with open(out / "grades.csv", newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def backend_notebook(backend: str | None, *, metadata: bool = False):
    nb = student_notebook("import numpy as np", TRAIN)
    if backend and metadata:
        nb.metadata["keras_backend"] = backend
    elif backend:
        nb.cells[0].source = PARAMS + f'\nKERAS_BACKEND = "{backend}"'
    return nb


@pytest.mark.skipif(not HAVE_JAX, reason="the jax extra is not installed (pip install -e .[jax])")
def test_notebooks_run_with_the_backend_they_declare(tmp_path):
    exam = make_exam(tmp_path / "exam", max_parameters=1000)
    spec = (exam / "exam.toml").read_text().replace('mode = "retrain"',
                                                    'mode = "retrain"\nbackends = ["tensorflow", "jax"]')
    (exam / "exam.toml").write_text(spec)
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(backend_notebook("jax"), subs / "jax_params.ipynb")
    nbformat.write(backend_notebook("jax", metadata=True), subs / "jax_meta.ipynb")
    nbformat.write(backend_notebook(None), subs / "default.ipynb")
    nbformat.write(backend_notebook("torch"), subs / "torch.ipynb")
    out = tmp_path / "out"
    assert main(["grade", str(exam), str(subs), "--out", str(out), "--jobs", "2"]) == 0
    g = grades(out)
    for student, backend in (("jax_params", "jax"), ("jax_meta", "jax"), ("default", "tensorflow")):
        assert g[student]["failure_class"] == "", g[student]
        assert float(g[student]["metric"]) > 0.6  # it learned, whatever the backend
        assert f"BACKEND {backend}" in printed_outputs(out / "executed" / f"{student}.ipynb")
        assert 0 < int(g[student]["parameters"]) < 1000  # counted from the file, for any backend
    assert g["torch"]["failure_class"] == "invalid_submission" and "tensorflow, jax" in g["torch"]["message"]


def test_a_backend_the_exam_does_not_allow_is_refused_before_running(tmp_path):
    exam = make_exam(tmp_path / "exam", max_parameters=None)
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(backend_notebook("jax"), subs / "wants_jax.ipynb")
    nbformat.write(student_notebook(RULE, "np.save(PREDICTIONS_PATH, pred)"), subs / "plain.ipynb")
    out = tmp_path / "out"
    assert main(["grade", str(exam), str(subs), "--out", str(out)]) == 0
    g = grades(out)
    assert g["wants_jax"]["failure_class"] == "invalid_submission"
    assert "'jax'" in g["wants_jax"]["message"] and "allows tensorflow" in g["wants_jax"]["message"]
    assert not (out / "executed" / "wants_jax.ipynb").exists()
    assert g["plain"]["failure_class"] == ""
