"""Grades back into the LMS: the file Moodle or Canvas imports, or a plain CSV for anything else.

The grades end where the institution keeps them. Typing 120 numbers into a web form invites mistakes,
and both LMSs import a CSV — each its own, matched to students by its own ids:

- ``moodle``: the assignment's offline grading worksheet (Assignment -> "Download grading worksheet" /
  "Upload grading worksheet"; needs the "Offline grading worksheet" feedback type). Columns as Moodle
  writes them (mod/assign/gradingtable.php, English strings of mod/assign/lang/en/assign.php). On upload
  Moodle (mod/assign/feedback/offline) reads only ``Identifier`` ("Participant 12345": the number of the
  ``Full Name_12345_assignsubmission_file_`` download folders), ``Grade``, ``Last modified (grade)`` and
  the feedback columns (``Feedback comments`` when the "Feedback comments" type is on); it compares the
  column names in the uploader's language, so upload with Moodle set to English. It skips a grade above
  the assignment's maximum grade (set it to the final scale), and a student whose grade was changed in
  Moodle after ``Last modified (grade)`` unless "Allow updating records that have been modified more
  recently in Moodle" is ticked. Pass the worksheet downloaded from Moodle (``worksheet=``) to keep its
  e-mail, status and dates (and be warned of a different maximum grade); without it, ``Last modified
  (grade)`` is the export time. Feedback comments are short plain text, HTML-escaped because Moodle
  shows that field as HTML.
- ``canvas``: the Gradebook CSV (Grades -> Import). Canvas (canvas-lms, class GradebookImporter) wants the
  header ``Student, ID, SIS User ID, SIS Login ID, Section`` then one column per assignment named
  ``Assignment Name (assignment_id)`` (without the id it matches the title exactly, else creates a new
  assignment), and skips a row whose first cell contains "Points Possible". It finds each student by the
  Canvas user ``ID``, then ``SIS User ID``, then ``SIS Login ID``, then the exact name; a student it cannot
  find is listed as unmatched in its preview. Pass Canvas's own Gradebook export as ``worksheet=`` to fill
  the SIS ids and sections.
- ``csv``: student, name, final grade number, final text, passed.

Every text cell goes through ``csv_text`` (no spreadsheet formula); students without an LMS id are named
in the returned warnings, never dropped silently.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from grader.escaping import csv_text
from grader.exam import Exam
from grader.final_grade import FinalGrade, compose, parse_final
from grader.report import Row
from grader.results import atomic_write_text
from grader.safe_files import read_limited

TARGETS = ("moodle", "canvas", "csv")
MOODLE_COLUMNS = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                  "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments"]
CANVAS_STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_ROW = "    Points Possible"  # as Canvas writes it; the importer looks for "Points Possible"
CSV_COLUMNS = ["student", "name", "final_grade", "final_text", "passed"]
MAX_LMS_FILE = 50 * 2**20
_PARTICIPANT = re.compile(r"(\d+)\s*$")
_ASSIGNMENT_ID = re.compile(r"\s\(\d+\)$")
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]


def moodle_date(when: datetime) -> str:
    """Moodle's English date format ('strftimedaydatetime'): 'Tuesday, 30 June 2026, 11:03 PM' (local time)."""
    when = when.astimezone() if when.tzinfo else when
    hour = when.hour % 12 or 12
    return (f"{_DAYS[when.weekday()]}, {when.day} {_MONTHS[when.month - 1]} {when.year}, "
            f"{hour}:{when.minute:02d} {'AM' if when.hour < 12 else 'PM'}")


def read_table(path: Path | str) -> tuple[list[str], list[dict[str, str]]]:
    """A CSV downloaded from an LMS (UTF-8, BOM or not, ',' or ';'): its header and its rows. The instructor's
    file (a symlink to it is followed), but its cells hold student names: size-limited, read as text only."""
    text = read_limited(Path(path).resolve(), MAX_LMS_FILE).decode("utf-8-sig")
    first = text.splitlines()[0] if text else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip() for h in next(reader, [])]
    return header, [dict(zip(header, (c.strip() for c in row))) for row in reader if any(c.strip() for c in row)]


def read_moodle_worksheet(path: Path | str) -> dict[str, dict[str, str]]:
    """The rows of a Moodle grading worksheet by participant id ('Participant 12345' -> '12345')."""
    header, rows = read_table(path)
    if "Identifier" not in header:
        raise ValueError(f"{path}: not a Moodle grading worksheet in English (no 'Identifier' column; columns: "
                         f"{', '.join(header[:12])}); download it with Moodle's language set to English")
    found = {}
    for row in rows:
        match = _PARTICIPANT.search(row.get("Identifier", ""))
        if match:
            found[match.group(1)] = row
    return found


def _canvas_roster(path: Path | str) -> dict[str, dict[str, str]]:
    header, rows = read_table(path)
    if header[:2] != ["Student", "ID"]:
        raise ValueError(f"{path}: not a Canvas Gradebook export (it starts with Student, ID; got "
                         f"{', '.join(header[:5])})")
    return {row["ID"]: row for row in rows if row.get("ID") and "Points Possible" not in row.get("Student", "")}


def _finals(rows: list[Row], exam: Exam, finals: Mapping[str, FinalGrade] | None) -> dict[str, FinalGrade]:
    finals, rule = finals or {}, parse_final(exam.raw)
    return {row.record.student: finals.get(row.record.student)
            or compose(row.grade.total, None, rule, scale=exam.grading.scale) for row in rows}


def final_scale(exam: Exam) -> float:
    """The scale of the final grade: ``[final] scale``, else the project's ``grading.scale``."""
    rule = parse_final(exam.raw)
    return rule.scale if rule else exam.grading.scale


def _number(value: float | None) -> float | int | str:
    if value is None:
        return ""
    return int(value) if float(value).is_integer() else round(value, 2)


def _cells(values: list) -> list:
    return [csv_text(v) if isinstance(v, str) else v for v in values]


def _write(out_path: Path, header: list[str], rows: list[list]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC)  # text quoted, numbers bare
    writer.writerow(header)
    writer.writerows(_cells(r) for r in rows)
    atomic_write_text(Path(out_path), buffer.getvalue())


def feedback_comment(row: Row, final: FinalGrade, exam: Exam, ranked: int) -> str:
    """A short plain-text summary for the LMS: result, points, rank."""
    g, r = row.grade, row.record
    scale = exam.grading.scale
    plain = final.number is not None and final.text == f"{round(final.number, 2):g}"
    parts = [f"Final grade: {final.text}" + (f"/{final_scale(exam):g}." if plain else "."),
             f"Project: {g.total:g}/{scale:g} points (objective {g.objective_points:g}, quality {g.quality_points:g}"
             + (f", bonus {g.bonus + g.parameter_bonus:g}" if g.bonus or g.parameter_bonus else "") + ")."]
    if g.rank:
        parts.append(f"Rank {g.rank} of {ranked}" + (" (a tie)." if g.tie else "."))
    else:
        parts.append(f"Not ranked: the notebook could not be scored ({r.failure or 'failed'}).")
    parts.append(f"How: {final.explanation}.")
    return html.escape(" ".join(parts), quote=False)


def export(rows: list[Row], exam: Exam, out_path: Path | str, to: str = "moodle", *,
           lms_ids: Mapping[str, str] | None = None, finals: Mapping[str, FinalGrade] | None = None,
           worksheet: Path | str | None = None, assignment: str | None = None,
           now: datetime | None = None) -> list[str]:
    """Write the grades of ``rows`` (grader.report.build_rows) as the LMS ``to`` imports them.

    ``lms_ids``: student -> Moodle participant id / Canvas user id (from discovery). ``finals``: student
    -> FinalGrade (grader.final_grade.compose); default: the project total, rounded and capped.
    ``worksheet``: the file downloaded from the LMS, to keep what it knows. ``assignment`` (Canvas): the
    column name ``Name (assignment_id)``. Returns the warnings for the instructor."""
    if to not in TARGETS:
        raise ValueError(f"unknown LMS {to!r}: one of {', '.join(TARGETS)}")
    lms_ids = lms_ids or {}
    finals_by_student = _finals(rows, exam, finals)
    warnings: list[str] = []
    for row in rows:
        final = finals_by_student[row.record.student]
        if final.number is None:
            warnings.append(f"{row.record.student}: no grade exported ({final.text})")
    if to == "csv":
        _write(Path(out_path), CSV_COLUMNS, [
            [row.record.student, row.record.name, _number(f.number), f.text,
             "" if f.passed is None else ("yes" if f.passed else "no")]
            for row in rows for f in [finals_by_student[row.record.student]]])
        return warnings
    writer = _moodle if to == "moodle" else _canvas
    return warnings + writer(rows, exam, Path(out_path), lms_ids, finals_by_student, worksheet, assignment, now)


def _moodle(rows, exam, out_path, lms_ids, finals, worksheet, assignment, now) -> list[str]:
    warnings = []
    known = read_moodle_worksheet(worksheet) if worksheet else None
    max_grade = final_scale(exam)
    graded_at = moodle_date(now or datetime.now().astimezone())
    ranked = sum(1 for row in rows if row.grade.rank)
    table = []
    for row in rows:
        student, final = row.record.student, finals[row.record.student]
        lms_id = lms_ids.get(student)
        if not lms_id or not str(lms_id).isdigit():
            warnings.append(f"{student} ({row.record.name}): no Moodle participant id: left out of the Moodle file, "
                            "enter this grade by hand")
            continue
        old = (known or {}).get(str(lms_id))
        if known is not None and old is None:
            warnings.append(f"{student}: participant {lms_id} is not in the downloaded worksheet (another course "
                            "or assignment?); Moodle will ignore this row")
        old = old or {}
        if old.get("Maximum Grade") and _float(old["Maximum Grade"]) not in (None, max_grade):
            warnings.append(f"Moodle's maximum grade is {old['Maximum Grade']} but the final scale is {max_grade:g}: "
                            f"set the assignment's maximum grade to {max_grade:g} before uploading")
        if final.number is not None and final.number > max_grade:
            warnings.append(f"{student}: grade {final.number:g} is above the maximum {max_grade:g}; Moodle will "
                            "skip it ([final] cap = false)")
        table.append([f"Participant {lms_id}", old.get("Full name") or row.record.name, old.get("Email address", ""),
                      old.get("Status") or "Submitted for grading", _number(final.number), _number(max_grade),
                      old.get("Grade can be changed") or "Yes", _date(old.get("Last modified (submission)")) or "",
                      _date(old.get("Last modified (grade)")) or graded_at, feedback_comment(row, final, exam, ranked)])
    _write(out_path, MOODLE_COLUMNS, table)
    return list(dict.fromkeys(warnings))


def _canvas(rows, exam, out_path, lms_ids, finals, worksheet, assignment, now) -> list[str]:
    warnings = []
    roster = _canvas_roster(worksheet) if worksheet else None
    column = assignment or exam.title
    if not _ASSIGNMENT_ID.search(column):
        warnings.append(f"Canvas column {column!r} has no assignment id: Canvas matches an assignment of exactly "
                        "this title or creates a new one; name it 'Title (assignment_id)' to be sure")
    points = final_scale(exam)
    table = [[CANVAS_POINTS_ROW, "", "", "", "", _number(points)]]
    for row in rows:
        student, final = row.record.student, finals[row.record.student]
        canvas_id = str(lms_ids.get(student) or "")
        if not canvas_id:
            warnings.append(f"{student} ({row.record.name}): no Canvas user id; the row is kept with ID empty, "
                            "Canvas will match it by name or list it as unmatched")
        old = (roster or {}).get(canvas_id, {})
        if roster is not None and canvas_id and not old:
            warnings.append(f"{student}: Canvas user {canvas_id} is not in the Gradebook export")
        name = old.get("Student") or row.record.name
        if "Points Possible" in name:  # Canvas would read the row as the points row, not as a student
            name = name.replace("Points Possible", "Points_Possible")
            warnings.append(f"{student}: 'Points Possible' in the name written as 'Points_Possible' for Canvas")
        table.append([name, canvas_id, old.get("SIS User ID", ""),
                      old.get("SIS Login ID", ""), old.get("Section", ""), _number(final.number)])
    _write(out_path, [*CANVAS_STUDENT_COLUMNS, column], table)
    return warnings


def _date(text: str | None) -> str | None:
    """A date cell of the worksheet; Moodle's '-' (never) is left empty, as it reads the same."""
    return None if text in (None, "", "-") else text


def _float(text: str) -> float | None:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None
