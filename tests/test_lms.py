"""LMS export: Moodle's grading worksheet, Canvas's Gradebook CSV and a plain CSV, read back with csv,
checked against the column lists the LMSs document, with a hostile student name neutralized."""

import csv
import dataclasses
from datetime import datetime

import pytest
from dateutil import parser as dateparser

from grader.exam import load_exam
from grader.final_grade import compose, parse_final
from grader.lms import (
    CANVAS_STUDENT_COLUMNS,
    CSV_COLUMNS,
    MOODLE_COLUMNS,
    export,
    moodle_date,
    read_moodle_worksheet,
)
from grader.report import build_rows
from grader.results import Record
from tests.exam_factory import make_exam

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d")
HOSTILE = "=cmd|' /C calc'!A0"
NOW = datetime(2026, 7, 3, 9, 5)


@pytest.fixture
def exam(tmp_path):
    return load_exam(make_exam(tmp_path / "exam"))


def record(student, name, metric=None, **kw):
    ok = metric is not None
    return Record(student=student, name=name, notebook="n.ipynb", fingerprint="f", status="ok" if ok else "failed",
                  failure=None if ok else "timeout", message="m", metric=metric, quality={"estimate": 0.5}, **kw)


@pytest.fixture
def rows(exam):
    records = [record("alice", "Alice Rossi", 0.95), record("eve", HOSTILE, 0.80),
               record("bob", "Bob <b>Bianchi</b>", 0.70), record("carol", "Carla Verdi")]
    return build_rows(records, exam)


IDS = {"alice": "12345", "eve": "23456", "carol": "34567"}  # bob has none


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def assert_no_formula(table):
    for row in table:
        for cell in row:
            if cell.startswith(FORMULA_START) or cell.lstrip().startswith(FORMULA_START):
                float(cell)  # only numbers may start with '-'


def test_moodle_worksheet_columns_and_cells(tmp_path, exam, rows):
    out = tmp_path / "moodle.csv"
    warnings = export(rows, exam, out, "moodle", lms_ids=IDS, now=NOW)
    table = read(out)
    assert table[0] == MOODLE_COLUMNS
    assert_no_formula(table)
    by_id = {r[0]: dict(zip(MOODLE_COLUMNS, r)) for r in table[1:]}
    assert set(by_id) == {"Participant 12345", "Participant 23456", "Participant 34567"}
    alice, eve = by_id["Participant 12345"], by_id["Participant 23456"]
    assert eve["Full name"] == "'" + HOSTILE
    assert alice["Grade"] == str(compose(rows[0].grade.total, None, None, scale=30).number).removesuffix(".0")
    assert alice["Maximum Grade"] == "30" and alice["Grade can be changed"] == "Yes"
    assert alice["Last modified (grade)"] == "Friday, 3 July 2026, 9:05 AM" and alice["Email address"] == ""
    assert alice["Feedback comments"].startswith("Final grade: ") and "Rank 1 of 3" in alice["Feedback comments"]
    assert "could not be scored (timeout)" in by_id["Participant 34567"]["Feedback comments"]
    assert all("<" not in r["Feedback comments"] for r in by_id.values())
    assert [w for w in warnings if w.startswith("bob")] == [
        "bob (Bob <b>Bianchi</b>): no Moodle participant id: left out of the Moodle file, enter this grade by hand"]
    raw = out.read_text(encoding="utf-8")
    assert not raw.startswith("\ufeff") and '"Identifier","Full name"' in raw


def test_moodle_reads_its_own_date_format():
    assert moodle_date(datetime(2026, 6, 30, 23, 3)) == "Tuesday, 30 June 2026, 11:03 PM"
    assert moodle_date(datetime(2026, 7, 1, 0, 5)) == "Wednesday, 1 July 2026, 12:05 AM"
    assert moodle_date(datetime(2026, 7, 1, 12, 0)) == "Wednesday, 1 July 2026, 12:00 PM"
    assert dateparser.parse(moodle_date(NOW)) == NOW  # what deadlines.py reads back


def test_moodle_keeps_what_the_downloaded_worksheet_knows(tmp_path, exam, rows):
    sheet = tmp_path / "downloaded.csv"
    sheet.write_text(",".join(MOODLE_COLUMNS) + "\n"
                     + "Participant 12345,Alice Rossi,alice@uni.it,Submitted for grading,,100.00,Yes,"
                       "\"Tuesday, 30 June 2026, 11:03 PM\",\"Wednesday, 1 July 2026, 8:00 AM\",\n"
                     + "Participant 34567,Carla Verdi,carla@uni.it,No submission,,100.00,No,-,-,\n",
                     encoding="utf-8")
    out = tmp_path / "moodle.csv"
    warnings = export(rows, exam, out, "moodle", lms_ids=IDS, worksheet=sheet, now=NOW)
    by_id = {r[0]: dict(zip(MOODLE_COLUMNS, r)) for r in read(out)[1:]}
    alice = by_id["Participant 12345"]
    assert alice["Email address"] == "alice@uni.it"
    assert alice["Last modified (grade)"] == "Wednesday, 1 July 2026, 8:00 AM"  # Moodle's own: edits after it win
    assert alice["Last modified (submission)"] == "Tuesday, 30 June 2026, 11:03 PM"
    carla = by_id["Participant 34567"]
    assert carla["Grade can be changed"] == "No" and carla["Email address"] == "carla@uni.it"
    assert carla["Last modified (submission)"] == ""  # Moodle's '-' (never) is not written as a text "'-"
    assert carla["Last modified (grade)"] == "Friday, 3 July 2026, 9:05 AM"
    assert sum("maximum grade is 100.00 but the final scale is 30" in w for w in warnings) == 1
    assert any(w.startswith("eve: participant 23456 is not in the downloaded worksheet") for w in warnings)
    assert set(read_moodle_worksheet(sheet)) == {"12345", "34567"}


def test_final_grades_with_oral_and_honours(tmp_path, exam, rows):
    exam = dataclasses.replace(exam, raw={**exam.raw, "final": {"oral_weight": 0.6, "honours_text": "30 e lode",
                                                                "pass_threshold": 18}})
    rule = parse_final(exam.raw)
    orals = {"alice": 30, "eve": 5}
    finals = {r.record.student: compose(r.grade.total + 10, orals.get(r.record.student), rule) for r in rows}
    out = tmp_path / "moodle.csv"
    warnings = export(rows, exam, out, "moodle", lms_ids=IDS, finals=finals, now=NOW)
    by_id = {r[0]: dict(zip(MOODLE_COLUMNS, r)) for r in read(out)[1:]}
    alice = by_id["Participant 12345"]
    assert alice["Grade"] == "30" and "30 e lode" in alice["Feedback comments"]
    assert "failed (" in by_id["Participant 23456"]["Feedback comments"]  # escaped: no '<' for Moodle's HTML
    assert "&lt;" in by_id["Participant 23456"]["Feedback comments"]
    assert by_id["Participant 34567"]["Grade"] == ""  # no oral: Moodle leaves the grade alone
    assert "carol: no grade exported (absent: no oral grade)" in warnings
    plain = tmp_path / "plain.csv"
    export(rows, exam, plain, "csv", finals=finals)
    got = {r["student"]: r for r in csv.DictReader(open(plain, newline="", encoding="utf-8"))}
    assert got["alice"]["final_text"] == "30 e lode" and got["alice"]["passed"] == "yes"
    assert got["eve"]["passed"] == "no" and got["carol"]["passed"] == "" and got["carol"]["final_grade"] == ""


def test_canvas_gradebook(tmp_path, exam, rows):
    out = tmp_path / "canvas.csv"
    warnings = export(rows, exam, out, "canvas", lms_ids={"alice": "101", "eve": "102"},
                      assignment="Tiny exam (4711)")
    table = read(out)
    assert table[0] == [*CANVAS_STUDENT_COLUMNS, "Tiny exam (4711)"]
    assert table[1] == ["    Points Possible", "", "", "", "", "30"]
    assert_no_formula(table)
    by_name = {r[0]: r for r in table[2:]}
    assert by_name["'" + HOSTILE][1] == "102" and by_name["Alice Rossi"][1] == "101"
    assert by_name["Bob <b>Bianchi</b>"][1] == "" and by_name["Carla Verdi"][1] == ""  # kept, ID empty
    assert sorted(w.split(" ")[0] for w in warnings) == ["bob", "carol"]
    assert all("no Canvas user id" in w for w in warnings)


def test_canvas_roster_and_assignment_warning(tmp_path, exam, rows):
    roster = tmp_path / "gradebook.csv"
    roster.write_text("\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Tiny exam (4711)\n"
                      "    Points Possible,,,,,30.00\n"
                      "\"Rossi, Alice\",101,S001,arossi,Group A,\n", encoding="utf-8")
    out = tmp_path / "canvas.csv"
    warnings = export(rows, exam, out, "canvas", lms_ids={"alice": "101", "eve": "102"}, worksheet=roster)
    table = read(out)
    assert table[0][-1] == "Tiny exam"
    alice = next(r for r in table if r[1] == "101")
    assert alice[:5] == ["Rossi, Alice", "101", "S001", "arossi", "Group A"]
    assert any("has no assignment id" in w for w in warnings)
    assert any(w.startswith("eve: Canvas user 102 is not in the Gradebook export") for w in warnings)


def test_a_name_cannot_pose_as_the_canvas_points_row(tmp_path, exam):
    rows = build_rows([record("alice", "Alice", 0.9), record("pp", "    Points Possible", 0.8)], exam)
    out = tmp_path / "canvas.csv"
    warnings = export(rows, exam, out, "canvas", lms_ids={"alice": "1", "pp": "2"}, assignment="Exam (9)")
    table = read(out)
    assert [r[0] for r in table if "Points Possible" in r[0]] == ["    Points Possible"]  # only ours
    assert ["    Points_Possible", "2"] == next(r for r in table if r[1] == "2")[:2]
    assert any(w.startswith("pp: 'Points Possible' in the name") for w in warnings)


def test_plain_csv(tmp_path, exam, rows):
    out = tmp_path / "grades.csv"
    assert export(rows, exam, out, "csv") == []
    table = read(out)
    assert table[0] == CSV_COLUMNS
    assert_no_formula(table)
    got = {r[0]: r for r in table[1:]}
    assert got["eve"][1] == "'" + HOSTILE and got["alice"][4] == "" and got["alice"][3] == got["alice"][2]


def test_unknown_target(tmp_path, exam, rows):
    with pytest.raises(ValueError, match="moodle, canvas, csv"):
        export(rows, exam, tmp_path / "x.csv", "blackboard")
