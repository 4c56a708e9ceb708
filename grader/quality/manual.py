"""Instructor's scores for the quality part, which override the rubric estimate.

From a CSV (``student,quality[,max][,comment]``) or from nbgrader's gradebook (manually graded cells).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ManualScore:
    """An instructor's grade for the quality part: ``score`` out of ``max_score``."""

    student: str
    score: float
    max_score: float = 1.0
    comment: str = ""
    source: str = ""  # where it came from, e.g. "manual.csv:4" or "nbgrader:exam"

    @property
    def fraction(self) -> float:
        return min(1.0, max(0.0, self.score / self.max_score))


def _number(text: str, decimal_comma: bool) -> float:
    value = float(text.replace(",", ".") if decimal_comma else text)
    if not math.isfinite(value):
        raise ValueError
    return value


def load_manual_scores(path: Path | str) -> dict[str, ManualScore]:
    """Instructor's quality scores from a CSV: ``student,quality[,max][,comment]``.

    - With a ``max`` column, ``quality`` is out of that row's ``max`` (e.g. 17 out of 20).
    - Without it, ``quality`` must be a fraction in [0, 1].
    - A blank ``quality`` means "not graded yet": the row is skipped and the estimate stays.
    - ``;``-separated files with decimal commas (European spreadsheets) are accepted.
    Anything else wrong (missing column, empty or duplicate student, non-numeric, negative, above
    max) raises ValueError naming the file, the line and the problem.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")  # spreadsheets often add a BOM
    first = text.splitlines()[0] if text.strip() else ""
    semicolon = ";" in first and "," not in first
    reader = csv.DictReader(io.StringIO(text), delimiter=";" if semicolon else ",")

    def fail(problem: str) -> ValueError:
        return ValueError(f"{path}: line {reader.line_num}: {problem}")

    columns = {(name or "").strip().lower(): name for name in (reader.fieldnames or [])}
    missing = [c for c in ("student", "quality") if c not in columns]
    if missing:
        raise ValueError(f"{path}: line 1: missing column(s) {', '.join(missing)}; "
                         f"expected student,quality[,max][,comment], found {list(columns) or 'nothing'}")
    has_max = "max" in columns
    scores: dict[str, ManualScore] = {}
    for row in reader:
        def cell(name: str, row: dict = row) -> str:
            return (row.get(columns[name]) or "").strip() if name in columns else ""

        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # blank line
        student, quality = cell("student"), cell("quality")
        if not student:
            raise fail("empty student name")
        if student in scores:
            raise fail(f"student {student!r} appears twice (first at {scores[student].source})")
        if not quality:
            continue
        try:
            value = _number(quality, semicolon)
        except ValueError:
            raise fail(f"quality {quality!r} of {student!r} is not a number") from None
        maximum = 1.0
        if has_max:
            try:
                maximum = _number(cell("max"), semicolon)
            except ValueError:
                raise fail(f"max {cell('max')!r} of {student!r} is not a number") from None
            if maximum <= 0:
                raise fail(f"max {cell('max')!r} of {student!r} must be positive")
        if value < 0:
            raise fail(f"quality {quality!r} of {student!r} is negative")
        if value > maximum:
            hint = "" if has_max else "; without a 'max' column scores must be fractions in [0, 1]"
            raise fail(f"quality {quality!r} of {student!r} is above the maximum {maximum:g}{hint}")
        scores[student] = ManualScore(student, value, maximum, cell("comment"), f"{path.name}:{reader.line_num}")
    return scores


def load_nbgrader_manual_scores(gradebook_db_url: str, assignment: str, *,
                                course_id: str = "default_course") -> dict[str, ManualScore]:
    """Manual grades from nbgrader's gradebook: per student, manually graded points / their maximum.

    Manually graded cells are markdown answers, task cells and code answers nbgrader could not score
    (``auto_score is None``), plus any cell the instructor overrode. A submission whose manual cells
    are not all graded yet is left out, so its rubric estimate stays.
    """
    from nbgrader.api import Gradebook, MissingEntry

    if gradebook_db_url.startswith("sqlite:///"):
        db = Path(gradebook_db_url.removeprefix("sqlite:///"))
        if not db.exists():  # Gradebook would silently create an empty database
            raise FileNotFoundError(f"nbgrader gradebook not found: {db}")
    scores: dict[str, ManualScore] = {}
    with Gradebook(gradebook_db_url, course_id=course_id) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            raise ValueError(f"{gradebook_db_url}: no assignment named {assignment!r}") from None
        for submission in gradebook.assignment_submissions(assignment):
            grades = [g for notebook in submission.notebooks for g in notebook.grades
                      if g.cell_type == "markdown" or g.auto_score is None or g.manual_score is not None]
            if not grades or any(g.auto_score is None and g.manual_score is None for g in grades):
                continue
            total = sum(g.max_score or 0.0 for g in grades)
            if total <= 0:
                continue
            score = min(total, sum(g.score or 0.0 for g in grades))  # extra credit cannot pass 100 %
            scores[submission.student_id] = ManualScore(submission.student_id, score, total,
                                                        source=f"nbgrader:{assignment}")
    return scores
