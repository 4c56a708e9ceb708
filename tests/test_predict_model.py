"""`predict = "model"`: the grader predicts with the handed-in model itself (sandboxed, safe_mode), so
what is scored is exactly the model whose parameters were counted, whatever the notebook saves."""

from __future__ import annotations

import csv

import nbformat
import numpy as np
import pytest

from grader import sandbox
from grader.cli import main
from tests.exam_factory import RULE, make_exam, student_notebook

pytestmark = [
    pytest.mark.skipif(not sandbox.isolation_available()[0], reason="needs bubblewrap"),
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.xdist_group("predict_model"),
]


def rule_model(path, *, lam: bool = False):
    """A Keras model computing the exam's rule (3 classes from 2 features) as softmax scores."""
    import keras

    inputs = keras.Input((2,))
    x = keras.layers.Lambda(lambda t: t * 1.0)(inputs) if lam else inputs
    hidden = keras.layers.Dense(2, activation="relu")
    out = keras.layers.Dense(3)
    model = keras.Model(inputs, out(hidden(x)))
    # h1 ~ [x0 > 0], h2 ~ [x1 > 1]: right on most rows (not all: the rule is not linear in h1, h2)
    hidden.set_weights([np.array([[100.0, 0.0], [0.0, 100.0]]), np.array([0.0, -100.0])])
    out.set_weights([np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]]), np.array([0.5, 0.0, 0.0])])
    model.save(path)
    return model.count_params()


def test_grader_predicts_with_the_handed_in_model(tmp_path):
    exam = make_exam(tmp_path / "exam", mode="weights", max_parameters=1000)
    (exam / "preprocess.py").write_text("def prepare(x):\n    return x.astype('float32')\n")
    spec = (exam / "exam.toml").read_text().replace(
        'mode = "weights"', 'mode = "weights"\npredict = "model"\npreprocess = "preprocess.py:prepare"')
    (exam / "exam.toml").write_text(spec)
    subs = tmp_path / "subs"
    for name, lam in (("honest", False), ("lambda", True)):
        (subs / name).mkdir(parents=True)
        n = rule_model(subs / name / "model.keras", lam=lam)
        # the notebook saves all-zero predictions: ignored, the model's own predictions count
        nbformat.write(student_notebook(RULE, "np.save(PREDICTIONS_PATH, np.zeros_like(pred))"),
                       subs / name / f"{name}.ipynb")
    out = tmp_path / "out"
    assert main(["grade", str(exam), str(subs), "--out", str(out)]) == 0
    with open(out / "grades.csv", newline="") as f:
        g = {row["student"]: row for row in csv.DictReader(f)}
    labels = np.load(exam / "data" / "hidden" / "test_labels.npy")
    zeros_accuracy = float((labels == 0).mean())
    assert g["honest"]["failure_class"] == "", g["honest"]
    assert float(g["honest"]["metric"]) > max(0.75, zeros_accuracy + 0.2)
    assert g["honest"]["parameters"] == str(n)
    assert g["lambda"]["failure_class"] == "malformed_predictions"
    assert "safe_mode" in g["lambda"]["message"]
