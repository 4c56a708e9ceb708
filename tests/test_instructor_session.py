"""The instructor's whole session on a tiny NumPy-only exam, in order, as the README walks through it:
grade a Moodle download, review by CSV (kept across reruns), regrade one student, rescore after new
labels, oral grades and the final grade, a deadline, LMS export, the public leaderboard, similarity."""

from __future__ import annotations

import csv
import json

import nbformat
import numpy as np
import pytest

from grader.cli import main
from tests.exam_factory import RULE, make_exam, student_notebook

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900), pytest.mark.xdist_group("instructor_session")]

FINAL = """
[final]
project_weight = 0.4
oral_weight = 0.6
oral_scale = 30
honours_above = 30
honours_text = "30 e lode"
pass_threshold = 18

[deadline]
due = 2026-06-30T23:59:00+02:00
policy = "penalty"
penalty_per_day = 1.0
max_days_late = 7
"""
STUDENTS = {  # Moodle folder name -> code cells
    "Ada Lovelace_1001_assignsubmission_file_": [RULE, "np.save(PREDICTIONS_PATH, pred)"],
    "Bob Stone_1002_assignsubmission_file_": [RULE, "pred[::2] = 0\nnp.save(PREDICTIONS_PATH, pred)"],
    "=cmd Carl_1003_assignsubmission_file_": [RULE, "pred[::3] = 0\nnp.save(PREDICTIONS_PATH, pred)"],
}


def grades(out):
    with open(out / "grades.csv", newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    root = tmp_path_factory.mktemp("session")
    exam = make_exam(root / "exam", max_parameters=None)
    (exam / "exam.toml").write_text((exam / "exam.toml").read_text() + FINAL)
    subs = root / "subs"
    for folder, code in STUDENTS.items():
        (subs / folder).mkdir(parents=True)
        nbformat.write(student_notebook(*code, prose=True), subs / folder / "exam.ipynb")
    out = root / "out"
    times = root / "times.csv"
    times.write_text("student,submitted_at\nada_lovelace,2026-06-30T20:00:00+02:00\n"
                     "bob_stone,2026-07-02T10:00:00+02:00\n")
    assert main(["grade", str(exam), str(subs), "--out", str(out), "--times", str(times)]) == 0
    return root, exam, subs, out


def test_manual_review_is_kept_across_reruns_and_unknown_ids_are_refused(session):
    root, exam, subs, out = session
    review = root / "review.csv"
    review.write_text("student,quality,max,comment\nada_lovelace,9,10,Clear and well argued.\n")
    assert main(["report", str(out), "--manual-scores", str(review)]) == 0
    assert main(["grade", str(exam), str(subs), "--out", str(out)]) == 0  # no flag: the score stays
    g = grades(out)
    assert g["ada_lovelace"]["quality_source"] == "manual" and float(g["ada_lovelace"]["quality_points"]) == 5.4
    assert "Clear and well argued." in (out / "feedback" / "ada_lovelace.md").read_text()
    wrong = root / "wrong.csv"
    wrong.write_text("student,quality\nAda Lovelace,5\n")
    assert main(["report", str(out), "--manual-scores", str(wrong)]) == 2  # a display name, not an id
    assert grades(out)["ada_lovelace"]["quality_source"] == "manual"  # nothing lost


def test_only_regrades_the_named_students(session):
    root, exam, subs, out = session
    before = {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    assert main(["grade", str(exam), str(subs), "--out", str(out), "--only", "bob_stone"]) == 0
    after = {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    assert after["bob_stone.json"] != before["bob_stone.json"]
    assert after["ada_lovelace.json"] == before["ada_lovelace.json"]
    assert main(["grade", str(exam), str(subs), "--out", str(out), "--only", "nobody"]) == 2


def test_new_labels_are_noticed_and_rescored_without_running_again(session, capsys):
    root, exam, subs, out = session
    labels_path = exam / "data" / "hidden" / "test_labels.npy"
    labels = np.load(labels_path)
    executed = (out / "executed" / "ada_lovelace.ipynb").stat().st_mtime_ns
    try:
        flipped = labels.copy()
        flipped[:3] = (flipped[:3] + 1) % 3  # the instructor fixes three labels
        np.save(labels_path, flipped)
        capsys.readouterr()
        assert main(["grade", str(exam), str(subs), "--out", str(out)]) == 0
        printed = capsys.readouterr().out
        assert "labels changed → rescored" in printed
        assert float(grades(out)["ada_lovelace"]["metric"]) == pytest.approx(27 / 30)
        assert (out / "executed" / "ada_lovelace.ipynb").stat().st_mtime_ns == executed  # not run again
    finally:
        np.save(labels_path, labels)
    assert main(["rescore", str(out)]) == 0
    assert float(grades(out)["ada_lovelace"]["metric"]) == 1.0


def test_oral_final_grade_deadline_and_lms_export(session):
    root, exam, subs, out = session
    oral = root / "oral.csv"
    oral.write_text("student,oral\nada_lovelace,30\nbob_stone,24\ncmd_carl,\n")
    review = root / "review-full.csv"
    review.write_text("student,quality,max\nada_lovelace,10,10\n")  # a full project: 24 + 6 + bonus 1 = 31
    assert main(["report", str(out), "--oral", str(oral), "--manual-scores", str(review)]) == 0
    g = grades(out)
    assert g["ada_lovelace"]["final_text"] == "30 e lode"  # above the scale: never 31/30
    assert "absent" in g["cmd_carl"]["final_text"]
    assert g["bob_stone"]["late"] and "−" in g["bob_stone"]["late"]  # two days late: a penalty
    assert "after the deadline" in (out / "feedback" / "bob_stone.md").read_text()
    assert all(float(row["final_grade"] or 0) <= 30 for row in g.values())
    assert main(["export", str(out), "--to", "moodle"]) == 0
    with open(out / "grades-moodle.csv", newline="") as f:
        moodle = {row["Identifier"]: row for row in csv.DictReader(f)}
    assert set(moodle) == {"Participant 1001", "Participant 1002", "Participant 1003"}
    assert not moodle["Participant 1003"]["Full name"].startswith("=")  # a name, never a formula
    assert main(["export", str(out), "--to", "csv"]) == 0


def test_public_leaderboard_has_no_names_and_feedback_gives_the_pseudonym(session):
    root, exam, subs, out = session
    public = (out / "leaderboard-public.html").read_text()
    pseudonyms = json.loads((out / "pseudonyms.json").read_text())
    assert "Ada" not in public and "Lovelace" not in public and "Carl" not in public
    assert all(p in public for p in pseudonyms.values())
    assert pseudonyms["ada_lovelace"] in (out / "feedback" / "ada_lovelace.md").read_text()
    assert "Ada Lovelace" in (out / "leaderboard.html").read_text()  # the instructor's keeps names


def test_similarity_report_for_the_instructor(session):
    root, exam, subs, out = session
    assert main(["similarity", str(out), "--submissions", str(subs), "--exam", str(exam)]) == 0
    html = (out / "similarity.html").read_text()
    assert "INSTRUCTOR ONLY" in html.upper()
    assert "similarity" not in (out / "leaderboard-public.html").read_text().lower()


def test_manual_scores_from_nbgraders_gradebook(session):
    api = pytest.importorskip("nbgrader.api")
    sqlalchemy = pytest.importorskip("sqlalchemy")
    root, exam, subs, out = session
    url = f"sqlite:///{root / 'gradebook.db'}"
    api.Base.metadata.create_all(sqlalchemy.create_engine(url))
    with api.Gradebook(url) as gradebook:
        gradebook.add_assignment("exam")
        gradebook.add_notebook("report", "exam")
        gradebook.add_grade_cell("quality", "report", "exam", max_score=4, cell_type="markdown")
        gradebook.add_student("bob_stone")
        gradebook.add_submission("exam", "bob_stone")
        gradebook.find_grade("quality", "report", "exam", "bob_stone").manual_score = 2
        gradebook.db.commit()
    assert main(["report", str(out), "--nbgrader-gradebook", url, "--nbgrader-assignment", "exam"]) == 0
    bob = grades(out)["bob_stone"]
    assert bob["quality_source"] == "manual" and float(bob["quality_points"]) == 3.0  # 2/4 of 6 points
    assert main(["report", str(out), "--nbgrader-gradebook", url]) == 2  # the assignment is required
