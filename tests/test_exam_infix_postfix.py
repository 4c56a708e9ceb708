"""Integration: the infix-postfix sample exam (text predictions, a custom metric shipped in the exam
folder, 10 rounds of generated test data, a parameter budget and a bonus for fewer parameters).

Builds the data with the exam's recipe (twice, to check it is deterministic), grades the sample
submissions end to end as `grader grade` does, and checks the verdicts, the direction of the metric,
the spread over rounds and the parameter bonus."""

import csv
import hashlib
import subprocess
import sys

import numpy as np
import pytest

from grader.cli import main
from grader.exam import load_exam
from grader.metrics import get_metric
from tests.notebook_tools import REPO

EXAM = REPO / "exams" / "infix-postfix"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800), pytest.mark.xdist_group("infix-postfix")]

GRADED = ("ines_attention", "jonas_gru", "kim_copy")
FAILED = {"leo_bytes": "malformed_predictions", "maya_codepoints": "rule_broken"}
FILES = ("public/train_inputs.npy", "public/train_labels.npy", "public/val_inputs.npy", "public/val_labels.npy",
         "hidden/test_inputs.npy", "hidden/test_labels.npy", "hidden/test_rounds.npy")


def build(out=None) -> None:
    cmd = [sys.executable, str(EXAM / "make_data.py"), *(["--out", str(out)] if out else [])]
    proc = subprocess.run(cmd, cwd=EXAM, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def data():
    build()  # the exam's own data/ (skipped when up to date)
    return EXAM / "data"


@pytest.fixture(scope="module")
def grades(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("infix-postfix")
    assert main(["grade", str(EXAM), str(EXAM / "sample_submissions"), "--out", str(out), "--jobs", "2"]) == 0
    with open(out / "grades.csv", newline="") as f:
        return out, {row["student"]: row for row in csv.DictReader(f)}


def test_recipe_is_deterministic(data, tmp_path):
    build(tmp_path / "one")
    build(tmp_path / "two")
    for name in FILES:
        assert digest(tmp_path / "one" / name) == digest(tmp_path / "two" / name) == digest(data / name), name


def test_hidden_rounds_and_labels(data):
    inputs = np.load(data / "hidden" / "test_inputs.npy")
    labels = np.load(data / "hidden" / "test_labels.npy")
    rounds = np.load(data / "hidden" / "test_rounds.npy")
    assert inputs.dtype.kind == labels.dtype.kind == "U" and inputs.shape == labels.shape == (2000,)
    assert np.array_equal(np.bincount(rounds), [200] * 10)
    # every postfix token is an infix character without the parentheses, the variables in order
    for formula, postfix in zip(inputs, labels):
        tokens = postfix.split()
        assert sorted(tokens) == sorted(ch for ch in formula if ch not in "()")
        assert [t for t in tokens if t.isalpha()] == [ch for ch in formula if ch.isalpha()]
    # the rounds are different draws, and the hidden formulas are not just the public ones
    assert len({tuple(inputs[rounds == r][:20]) for r in range(10)}) == 10
    public = set(np.load(data / "public" / "train_inputs.npy")) | set(np.load(data / "public" / "val_inputs.npy"))
    assert np.mean([s in public for s in inputs]) < 0.25


def test_custom_metric_from_the_exam_folder():
    exam = load_exam(EXAM)
    metric = get_metric(exam.metric, EXAM)
    assert exam.metric == "metric.py:score" and exam.metric_display == "Postfix accuracy"
    assert exam.higher_is_better and exam.rounds == 10 and exam.predictions.kind == "text"
    labels = np.array(["a b +", "a b c * +", "c d -"])
    assert metric.function(labels, np.array([" a  b + ", "a b c + *", "c d -"])) == pytest.approx(2 / 3)


def test_failure_classes(grades):
    _, g = grades
    assert {s: g[s]["failure_class"] for s in g} == {**{s: "" for s in GRADED}, **FAILED}
    assert "over the budget of 2,000,000" in g["maya_codepoints"]["message"]
    assert "Python objects" in g["leo_bytes"]["message"]


def test_accuracy_orders_good_before_weak_with_rounds(grades):
    _, g = grades
    acc = {s: float(g[s]["metric"]) for s in GRADED}
    assert acc["ines_attention"] > 0.9 > acc["jonas_gru"] > acc["kim_copy"] == 0.0  # higher is better
    assert g["ines_attention"]["rank"] == "1"
    assert float(g["ines_attention"]["objective_points"]) == 24.0 and float(g["ines_attention"]["bonus"]) == 1.0
    assert 0 < float(g["jonas_gru"]["objective_points"]) < 24.0
    assert float(g["kim_copy"]["objective_points"]) == 0.0  # no better than the baseline
    # mean ± std over the 10 rounds
    assert g["jonas_gru"]["metric_std"] != "" and float(g["jonas_gru"]["metric_std"]) > 0
    assert all(g[s]["metric_std"] != "" for s in GRADED)
    assert all(g[s]["metric_std"] == "" for s in FAILED)
    assert float(g["ines_attention"]["quality_points"]) > float(g["jonas_gru"]["quality_points"]) + 1


def test_parameter_bonus(grades):
    _, g = grades
    params = {s: int(g[s]["parameters"]) for s in g}
    assert params["ines_attention"] < 50_000 < params["jonas_gru"] < 2_000_000 < params["maya_codepoints"]
    bonus = {s: float(g[s]["parameter_bonus"]) for s in g}
    assert bonus["ines_attention"] == 2.0  # at or below full_at
    assert bonus["jonas_gru"] == pytest.approx(2 * (2_000_000 - params["jonas_gru"]) / 1_950_000, abs=0.01)
    # none for a result no better than the baseline, a failed run or a broken rule
    assert bonus["kim_copy"] == bonus["leo_bytes"] == bonus["maya_codepoints"] == 0.0
    total = {s: float(g[s]["total"]) for s in g}
    assert total["ines_attention"] == pytest.approx(24 + float(g["ines_attention"]["quality_points"]) + 1 + 2)


def test_reports(grades):
    out, g = grades
    board = (out / "leaderboard.html").read_text()
    assert board.count("<tr class=") == len(g) and "Postfix accuracy" in board and "±" in board
    assert "fewer parameters" in (out / "feedback" / "ines_attention.md").read_text()
