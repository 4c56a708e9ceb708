"""Integration: grade the sample exam's submissions exactly as `make demo` does, and check the
ordering, the failure classes and what each student is told."""

import csv

import pytest

from grader.cli import main
from tests.notebook_tools import REPO

EXAM = REPO / "exams" / "fashion-budget"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800), pytest.mark.xdist_group("sample_exam")]


@pytest.fixture(scope="module")
def grades(tmp_path_factory):
    out = tmp_path_factory.mktemp("fashion-budget")
    assert main(["grade", str(EXAM), str(EXAM / "sample_submissions"), "--out", str(out), "--jobs", "2"]) == 0
    with open(out / "grades.csv", newline="") as f:
        return out, {row["student"]: row for row in csv.DictReader(f)}


def test_failure_classes(grades):
    _, g = grades
    assert {s: g[s]["failure_class"] for s in g} == {
        "alice_strong_cnn": "", "bob_weak_mlp": "", "grace_no_params_cell": "",
        "carol_crash": "exception", "dave_timeout": g["dave_timeout"]["failure_class"],
        "erin_bad_shape": "malformed_predictions", "frank_over_budget": "rule_broken"}
    assert g["dave_timeout"]["failure_class"] in ("timeout", "cell_timeout")
    assert "parameters, over the budget of 100,000" in g["frank_over_budget"]["message"]
    assert "np.argmax" in g["erin_bad_shape"]["message"]


def test_ordering_and_points(grades):
    _, g = grades
    acc = {s: float(g[s]["metric"]) for s in ("alice_strong_cnn", "bob_weak_mlp", "grace_no_params_cell")}
    assert acc["alice_strong_cnn"] > 0.85 and acc["bob_weak_mlp"] < acc["alice_strong_cnn"]
    best = max(acc, key=acc.get)
    assert float(g[best]["objective_points"]) == 24.0 and float(g[best]["bonus"]) == 1.0
    total = {s: float(row["total"]) for s, row in g.items()}
    assert total["alice_strong_cnn"] > total["bob_weak_mlp"] > max(total[s] for s in (
        "carol_crash", "dave_timeout", "erin_bad_shape", "frank_over_budget"))
    # the well-explained notebook earns clearly more descriptive points than the thin one
    assert float(g["alice_strong_cnn"]["quality_points"]) > float(g["bob_weak_mlp"]["quality_points"]) + 1
    # failed submissions keep their quality points
    assert all(float(g[s]["quality_points"]) > 0 for s in ("carol_crash", "erin_bad_shape", "frank_over_budget"))


def test_reports(grades):
    out, g = grades
    assert (out / "leaderboard.html").read_text().count("<tr class=") == len(g)
    assert "exception" in (out / "feedback" / "carol_crash.md").read_text()
    assert (out / "executed" / "grace_no_params_cell.ipynb").exists()
