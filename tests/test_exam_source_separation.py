"""Integration: the source-separation sample exam (values of shape (2, 28, 28), MSE, lower is better).

Builds the data with the exam's recipe (and a second time elsewhere, to check it is deterministic),
grades the sample submissions end to end as `grader grade` does, and checks the verdicts, the
direction of the metric and the baseline written in exam.toml."""

import csv
import hashlib
import subprocess
import sys

import numpy as np
import pytest

from grader.cli import main
from grader.exam import load_exam
from tests.notebook_tools import REPO

EXAM = REPO / "exams" / "source-separation"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800), pytest.mark.xdist_group("source-separation")]

GRADED = ("ada_unet", "ben_dense")
FAILED = {"cleo_stacked": "malformed_predictions", "dario_lambda": "exception"}


def build(out=None) -> None:
    cmd = [sys.executable, str(EXAM / "make_data.py"), *(["--out", str(out)] if out else [])]
    proc = subprocess.run(cmd, cwd=EXAM, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def digest(path, rows: int | None = None) -> str:
    array = np.load(path, mmap_mode="r")
    return hashlib.sha256(np.ascontiguousarray(array[:rows] if rows else array).tobytes()).hexdigest()


@pytest.fixture(scope="module")
def data():
    build()  # the exam's own data/ (skipped when up to date)
    return EXAM / "data"


@pytest.fixture(scope="module")
def grades(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("source-separation")
    assert main(["grade", str(EXAM), str(EXAM / "sample_submissions"), "--out", str(out), "--jobs", "2"]) == 0
    with open(out / "grades.csv", newline="") as f:
        return out, {row["student"]: row for row in csv.DictReader(f)}


def test_recipe_is_deterministic_and_hidden_pairs_are_new(data, tmp_path):
    build(tmp_path / "again")
    for part, rows in [("hidden/test_inputs.npy", None), ("hidden/test_labels.npy", None),
                       ("public/val_targets.npy", None), ("public/train_targets.npy", 500)]:
        assert digest(data / part, rows) == digest(tmp_path / "again" / part, rows), part
    test = np.load(data / "hidden" / "test_labels.npy")
    inputs = np.load(data / "hidden" / "test_inputs.npy")
    assert test.shape == (1000, 2, 28, 28) and inputs.shape == (1000, 28, 28) and test.dtype == np.float32
    np.testing.assert_allclose(inputs, test.mean(axis=1), atol=1e-6)  # x = (fashion + digit) / 2
    # No hidden source image is in a public file.
    train_fashion = np.load(data / "public" / "train_fashion.npy")
    public_fashion = {(img.astype(np.float32) / 255).tobytes() for img in train_fashion}
    public_fashion |= {img.tobytes() for img in np.load(data / "public" / "val_targets.npy")[:, 0]}
    public_digits = {img.tobytes() for img in np.load(data / "public" / "train_digits.npy")}
    public_digits |= {img.tobytes() for img in np.load(data / "public" / "val_targets.npy")[:, 1]}
    assert not any(img.tobytes() in public_fashion for img in test[:, 0])
    assert not any(img.tobytes() in public_digits for img in test[:, 1])


def test_baseline_is_the_input_copied(data):
    exam = load_exam(EXAM)
    inputs, labels = np.load(exam.test_inputs), np.load(exam.test_labels)
    measured = float(np.mean((np.stack([inputs, inputs], axis=1).astype(np.float64) - labels) ** 2))
    assert exam.grading.baseline == pytest.approx(measured, abs=1e-4)
    assert not exam.higher_is_better and exam.predictions.shape == (2, 28, 28)


def test_failure_classes(grades):
    _, g = grades
    assert {s: g[s]["failure_class"] for s in g} == {**{s: "" for s in GRADED}, **FAILED}
    assert "(1000, 56, 28)" in g["cleo_stacked"]["message"]
    assert "Lambda" in g["dario_lambda"]["message"]


def test_mse_orders_good_before_weak(grades):
    _, g = grades
    mse = {s: float(g[s]["metric"]) for s in GRADED}
    baseline = load_exam(EXAM).grading.baseline
    # lower is better: the U-Net well below the dense network, both below the input copied
    assert mse["ada_unet"] < 0.012 and mse["ada_unet"] < mse["ben_dense"] / 2 < baseline
    assert mse["ben_dense"] < baseline
    assert g["ada_unet"]["rank"] == "1" and g["ben_dense"]["rank"] == "2"
    assert float(g["ada_unet"]["objective_points"]) == 24.0 and float(g["ada_unet"]["bonus"]) == 1.0
    assert 0 < float(g["ben_dense"]["objective_points"]) < 24.0
    total = {s: float(row["total"]) for s, row in g.items()}
    assert total["ada_unet"] > total["ben_dense"] > max(total[s] for s in FAILED)
    assert float(g["ada_unet"]["quality_points"]) > float(g["ben_dense"]["quality_points"]) + 1
    assert all(float(g[s]["quality_points"]) > 0 for s in FAILED)  # failed submissions keep them


def test_reports(grades):
    out, g = grades
    assert (out / "leaderboard.html").read_text().count("<tr class=") == len(g)
    assert "malformed" in (out / "feedback" / "cleo_stacked.md").read_text()
