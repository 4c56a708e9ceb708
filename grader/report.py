"""Reports of a graded class, rebuilt from the saved records at any time.

OUT/grades.csv           one row per student, in leaderboard order
OUT/feedback/<id>.md     what the student gets: the task, grade breakdown, why, rubric evidence
OUT/leaderboard.html     ranking, plots, the grading formula (grader/leaderboard.py)
OUT/leaderboard-public.html  the same for the class: pseudonyms, no names, no messages

Order: valid results by rank of the metric (the comparative 80 %), then failed submissions by total;
so the rank column always reads top to bottom. Metrics are printed with as many significant digits as
it takes to tell this class's results apart (MSE 0.00266 vs 0.00271), at least four.
Student text is escaped for each format (grader/escaping.py).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from grader.deadlines import LateVerdict, late_verdict
from grader.escaping import csv_text, md_lines, md_text
from grader.exam import Exam
from grader.final_grade import FinalGrade, compose
from grader.grading import Entry, Grade, formula, grade_class
from grader.results import FAILURE_CLASSES, Record, atomic_write_text

__all__ = ["Row", "build_rows", "csv_text", "feedback", "md_lines", "md_text", "metric_format", "write_reports"]

CSV_FIELDS = ["student", "name", "status", "failure_class", "metric", "metric_std", "parameters",
              "objective_points", "quality_points", "quality_source", "bonus", "parameter_bonus", "total",
              "late", "oral", "final_grade", "final_text", "passed", "rank", "tie", "message"]
ORAL_FILE = "oral_grades.json"  # student -> oral grade, imported once with --oral CSV
TIMES_FILE = "submission_times.json"  # student -> when handed in (ISO 8601), from timestamps/LMS/CSV


@dataclass
class Row:
    record: Record
    grade: Grade
    quality: float
    quality_source: str
    final: FinalGrade | None = None  # the grade that goes to the LMS (project, oral, late penalty, honours)
    late: LateVerdict | None = None
    oral: float | None = None
    manual_comment: str = ""  # the instructor's comment on the descriptive quality


def read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def add_finals(rows: list[Row], exam: Exam, out_dir: Path) -> None:
    """Each row's final grade: the project total, the oral grade (OUT/oral_grades.json) and a late
    penalty (OUT/submission_times.json and [deadline]), composed as [final] says."""
    from datetime import datetime

    orals = read_json(out_dir / ORAL_FILE)
    times = read_json(out_dir / TIMES_FILE)
    for row in rows:
        student = row.record.student
        row.oral = orals.get(student) if isinstance(orals.get(student), int | float) else None
        if exam.deadline is not None:
            try:
                when = datetime.fromisoformat(times[student]) if student in times else None
            except (TypeError, ValueError):
                when = None
            row.late = late_verdict(when, exam.deadline)
        row.final = compose(row.grade.total, row.oral, exam.final, scale=exam.grading.scale,
                            penalty=row.late.penalty if row.late else 0.0,
                            refused=row.late.text if row.late and row.late.refused else None)

def build_rows(records: list[Record], exam: Exam, manual: dict | None = None) -> list[Row]:
    manual = manual or {}
    qualities = {}
    for r in records:
        override = manual.get(r.student)
        if override is not None:
            qualities[r.student] = (override.fraction, "manual")
        else:
            qualities[r.student] = (float(r.quality.get("estimate", 0.0)) if r.quality else 0.0, "estimate")
    entries = [Entry(r.student, r.metric if r.status == "ok" else None, qualities[r.student][0], r.parameters)
               for r in records]
    grades = {g.student: g for g in grade_class(entries, exam.grading, exam.higher_is_better)}
    rows = [Row(r, grades[r.student], *qualities[r.student],
                manual_comment=getattr(manual.get(r.student), "comment", "") or "") for r in records]
    # ranked results first, in rank order (ties by total), then unranked submissions by total
    return sorted(rows, key=lambda row: (row.grade.rank is None, row.grade.rank or 0, -row.grade.total,
                                         row.record.student))


def valid_metrics(rows: list[Row]) -> list[float]:
    return [row.record.metric for row in rows if row.record.status == "ok" and row.record.metric is not None]


def best_metric(rows: list[Row], exam: Exam) -> float | None:
    values = valid_metrics(rows)
    if not values:
        return None
    return max(values) if exam.higher_is_better else min(values)


def metric_format(values: list[float], least: int = 4, most: int = 12) -> str:
    """A format spec ('.5g') with enough significant digits to print distinct values distinctly."""
    distinct = set(values)
    for digits in range(least, most + 1):
        if len({f"{v:.{digits}g}" for v in distinct}) == len(distinct):
            return f".{digits}g"
    return f".{most}g"


def write_reports(out_dir: Path, records: list[Record], exam: Exam, manual: dict | None = None) -> list[Row]:
    from grader.leaderboard import leaderboard, pseudonyms, public_leaderboard

    rows = build_rows(records, exam, manual)
    add_finals(rows, exam, out_dir)
    fmt = metric_format(valid_metrics(rows))
    rule = formula(exam.grading, exam.metric_display, exam.higher_is_better, best_metric(rows, exam))
    _write_csv(out_dir / "grades.csv", rows, fmt)
    names = pseudonyms(out_dir, [row.record.student for row in rows])
    for row in rows:
        atomic_write_text(out_dir / "feedback" / f"{_file_stem(row.record.student)}.md",
                          feedback(row, exam, rule, fmt, names[row.record.student]))
    atomic_write_text(out_dir / "leaderboard.html", leaderboard(rows, exam, rule, fmt))
    atomic_write_text(out_dir / "leaderboard-public.html", public_leaderboard(rows, exam, rule, names, fmt))
    return rows


def _file_stem(student: str) -> str:
    """The student id as a file name: ids from discovery already are; a hand-edited record is not
    trusted to stay inside the feedback folder."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", student) or "student"


def _write_csv(path: Path, rows: list[Row], fmt: str) -> None:
    buffer = io.StringIO()
    # text quoted (a ';' in a name cannot start a new cell where ';' is the separator), numbers bare
    writer = csv.DictWriter(buffer, CSV_FIELDS, quoting=csv.QUOTE_NONNUMERIC)
    writer.writeheader()
    for row in rows:
        r, g = row.record, row.grade
        cells = {
            "student": r.student, "name": r.name, "status": r.status, "failure_class": r.failure or "",
            "metric": "" if r.metric is None else format(r.metric, fmt),
            "metric_std": "" if r.metric_std is None else f"{r.metric_std:.3g}", "parameters": r.parameters or "",
            "objective_points": g.objective_points, "quality_points": g.quality_points,
            "quality_source": row.quality_source, "bonus": g.bonus, "parameter_bonus": g.parameter_bonus,
            "total": g.total, "late": row.late.text if row.late and row.late.days_late else "",
            "oral": "" if row.oral is None else row.oral,
            "final_grade": "" if row.final is None or row.final.number is None else row.final.number,
            "final_text": row.final.text if row.final else "",
            "passed": "" if row.final is None or row.final.passed is None else ("yes" if row.final.passed else "no"),
            "rank": g.rank or "", "tie": "tie" if g.tie else "",
            "message": r.message,
        }
        writer.writerow({k: csv_text(v) if isinstance(v, str) else v for k, v in cells.items()})
    atomic_write_text(path, buffer.getvalue())


def _objective_explained(row: Row, exam: Exam, fmt: str) -> list[str]:
    """Why the objective part is what it is, in one or two sentences."""
    r, g = row.record, row.grade
    direction = "higher" if exam.higher_is_better else "lower"
    value = format(r.metric, fmt)
    spread = f" ± {r.metric_std:.2g} over {len(r.metric_rounds or [])} rounds" if r.metric_std is not None else ""
    lines = [f"Your result: **{md_text(exam.metric_display)} = {value}{spread}** ({direction} is better)"
             + (f", rank {g.rank}" + (" (a tie)" if g.tie else "") if g.rank else "") + "."]
    if g.objective_fraction == 0:
        lines += ["", f"It earns no objective points: it is not better than the baseline of "
                      f"{exam.grading.baseline:g}, the result the exam counts as worth nothing."]
    return lines


def feedback(row: Row, exam: Exam, rule: str, fmt: str = ".4g", pseudonym: str | None = None) -> str:
    r, g = row.record, row.grade
    scale = exam.grading.scale
    lines = [f"# {md_text(exam.title)} — feedback for {md_text(r.name)}", ""]
    if exam.task:
        lines += ["## The task", "", *[f"> {md_text(line)}" if line.strip() else ">" for line in
                                       exam.task.strip().splitlines()], ""]
    lines += [f"**Project grade: {g.total:g} / {scale:g}**" + (f" (including a bonus of {g.bonus:g})" if g.bonus
                                                                 else ""), ""]
    if row.final is not None:
        lines += [f"**Final grade: {md_text(row.final.text)}**" + (f" — {md_text(row.final.explanation)}"
                                                                   if row.final.explanation else ""), ""]
    if row.late is not None:
        lines += [f"Hand-in time: {md_text(row.late.text)}", ""]
    lines += ["| part | points |", "|---|---|",
              f"| objective ({exam.grading.objective_weight:.0%}): {md_text(exam.metric_display)} on the hidden "
              f"test set | {g.objective_points:g} / {exam.grading.objective_weight * scale:g} |",
              f"| descriptive quality ({exam.grading.quality_weight:.0%}, {row.quality_source}) "
              f"| {g.quality_points:g} / {exam.grading.quality_weight * scale:g} |"]
    if exam.grading.parameter_bonus:
        lines += [f"| fewer parameters (bonus) | {g.parameter_bonus:g} / {exam.grading.parameter_bonus.points:g} |"]
    lines += [""]
    if r.status == "ok":
        lines += _objective_explained(row, exam, fmt)
    else:
        lines += [f"**Your notebook could not be scored: {md_text(FAILURE_CLASSES.get(r.failure, r.failure))} "
                  f"({f'`{r.failure}`' if r.failure in FAILURE_CLASSES else md_text(r.failure)}).**",
                  "", f"What happened: {md_lines(r.message)}", "",
                  "You keep the points for the descriptive quality of your notebook."]
    if r.parameters:
        lines += ["", f"Model parameters: {r.parameters:,}" + (f" (budget {exam.limits.max_parameters:,})"
                                                               if exam.limits.max_parameters else "")]
    items = r.quality.get("items", []) if r.quality else []
    if items:
        lines += ["", "## Descriptive quality: what the rubric found", "", "| item | points | evidence |",
                  "|---|---|---|"]
        lines += [f"| {md_text(i['title'])} | {i['points']:g} / {i['max_points']:g} | {md_text(i['evidence'])} |"
                  for i in items]
        if row.quality_source == "manual":
            lines += ["", "Your instructor graded this part by hand; the rubric above is for reference."]
    if row.manual_comment:
        lines += ["", f"**Your instructor's comment:** {md_lines(row.manual_comment)}"]
    if r.notes:
        lines += ["", "## Notes from the grader", ""] + [f"- {md_text((n.splitlines() or [''])[0])}" for n in r.notes]
    if pseudonym:
        lines += ["", f"On the public leaderboard you are listed as **{md_text(pseudonym)}**."]
    lines += ["", "## How the grade is computed", "", md_text(rule), ""]
    return "\n".join(lines)
