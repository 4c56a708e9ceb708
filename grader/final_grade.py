"""The grade that goes on the record: the project total, optionally with an oral exam, on the final scale.

The harness grades the project (``grading.scale``, e.g. 30, where the bonus can take a total above the
scale: 30.6/30). What the institution records is different: one number on its scale, rounded by its
rule, never above the scale, the honours mark written its way ("30 e lode"), a pass mark, and often an
oral exam weighted in. This module turns the project total (and the oral grade) into that, from an
optional ``[final]`` table of exam.toml, and explains the arithmetic with the student's own numbers:

```toml
[final]
project_weight = 0.4        # weights of the project and the oral; they add up to 1 (one implies the other)
oral_weight = 0.6           # 0 (the default): no oral, the final grade is the project
oral_scale = 30             # the oral grade's scale
rounding = "half_up"        # "half_up" (27.5 -> 28), "down" (27.9 -> 27), "nearest_half" (27.3 -> 27.5)
scale = 30                  # the final scale (default: grading.scale)
honours_above = 30          # a total above this, before rounding, earns the honours mark (default: scale)
honours_text = "30 e lode"  # how the institution writes it; no honours without it
pass_threshold = 18         # optional: below it the grade reads "failed (14 < 18)"
cap = true                  # never a number above the scale (31/30 -> 30, or the honours mark)
```

Without ``[final]`` the final grade is the project total rounded half up and capped at the scale, with
no honours mark. Oral grades come from the instructor's CSV ``student,oral`` (``load_oral_grades``).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path

from grader.exam import ExamError

ROUNDING = ("half_up", "down", "nearest_half")
FINAL_KEYS = {"project_weight", "oral_weight", "oral_scale", "rounding", "scale", "honours_above",
              "honours_text", "pass_threshold", "cap"}
_ROUNDING_WORDS = {"half_up": "rounded half up", "down": "rounded down", "nearest_half": "rounded to the nearest half"}


@dataclass(frozen=True)
class FinalRule:
    project_weight: float = 1.0
    oral_weight: float = 0.0
    oral_scale: float = 30
    rounding: str = "half_up"
    scale: float = 30  # the final scale
    honours_above: float | None = None  # set whenever honours_text is
    honours_text: str | None = None
    pass_threshold: float | None = None
    cap: bool = True
    project_scale: float = 30  # grading.scale: the scale of the project total

    @property
    def uses_oral(self) -> bool:
        return self.oral_weight > 0


@dataclass(frozen=True)
class FinalGrade:
    number: float | None  # what an LMS takes; None when there is no grade (absent, refused)
    text: str  # what the record says: "28", "30 e lode", "absent: no oral grade", "failed (14 < 18)"
    passed: bool | None  # None: no pass mark configured, or no grade
    explanation: str  # the formula with this student's numbers


def _number(table: dict, key: str, default, *, positive: bool = False, unit: bool = False):
    value = table.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ExamError(f"final.{key}: expected a number, got {value!r}")
    if positive and value <= 0:
        raise ExamError(f"final.{key}: must be positive, got {value!r}")
    if unit and not 0 <= value <= 1:
        raise ExamError(f"final.{key}: must be between 0 and 1, got {value!r}")
    if value < 0:
        raise ExamError(f"final.{key}: must be >= 0, got {value!r}")
    return float(value)


def parse_final(raw: dict) -> FinalRule | None:
    """The ``[final]`` table of a parsed exam.toml as a FinalRule; None when there is none.

    Raises ExamError naming the key on bad input."""
    if "final" not in raw:
        return None
    table = raw["final"]
    if not isinstance(table, dict):
        raise ExamError("[final]: must be a table")
    unknown = sorted(set(table) - FINAL_KEYS)
    if unknown:
        raise ExamError(f"unknown key(s) {', '.join('final.' + k for k in unknown)}: expected "
                        f"{', '.join(sorted(FINAL_KEYS))}")
    grading = raw.get("grading")
    grading_scale = grading.get("scale", 30) if isinstance(grading, dict) else 30
    if isinstance(grading_scale, bool) or not isinstance(grading_scale, int | float) or grading_scale <= 0:
        grading_scale = 30  # exam.py reports grading.scale itself
    oral_weight = _number(table, "oral_weight", 0.0, unit=True)
    project_weight = _number(table, "project_weight", 1.0 - oral_weight, unit=True)
    if abs(project_weight + oral_weight - 1) > 1e-9:
        raise ExamError(f"final.project_weight + final.oral_weight: must add up to 1 (got {project_weight:g} + "
                        f"{oral_weight:g})")
    rounding = table.get("rounding", "half_up")
    if rounding not in ROUNDING:
        raise ExamError(f"final.rounding: {rounding!r} is not one of {', '.join(ROUNDING)}")
    scale = _number(table, "scale", grading_scale, positive=True)
    honours_text = table.get("honours_text")
    if honours_text is not None and (not isinstance(honours_text, str) or not honours_text.strip()):
        raise ExamError(f"final.honours_text: a non-empty string such as \"30 e lode\", got {honours_text!r}")
    honours_above = _number(table, "honours_above", None, positive=True)
    if honours_above is not None and honours_text is None:
        raise ExamError("final.honours_text: required with final.honours_above (how the institution writes "
                        "the honours mark, e.g. \"30 e lode\")")
    pass_threshold = _number(table, "pass_threshold", None)
    if pass_threshold is not None and pass_threshold > scale:
        raise ExamError(f"final.pass_threshold: {pass_threshold:g} is above the final scale {scale:g}")
    cap = table.get("cap", True)
    if not isinstance(cap, bool):
        raise ExamError(f"final.cap: true or false, got {cap!r}")
    return FinalRule(project_weight, oral_weight, _number(table, "oral_scale", 30, positive=True), rounding,
                     scale, (honours_above or scale) if honours_text else None,
                     honours_text.strip() if honours_text else None, pass_threshold, cap, float(grading_scale))


def round_grade(value: float, rounding: str) -> float:
    """Round as the institution does; decimal arithmetic, so 27.5 computed as 27.499999999 still gives 28."""
    d = Decimal(str(round(value, 9)))
    if rounding == "half_up":
        return float(d.quantize(Decimal(1), ROUND_HALF_UP))
    if rounding == "down":
        return float(d.quantize(Decimal(1), ROUND_FLOOR))
    if rounding == "nearest_half":
        return float((d * 2).quantize(Decimal(1), ROUND_HALF_UP) / 2)
    raise ValueError(f"unknown rounding {rounding!r}: one of {', '.join(ROUNDING)}")


def _g(value: float) -> str:
    return f"{round(value, 2):g}"


def compose(project_total: float | None, oral: float | None, rule: FinalRule | None, *,
            scale: float | None = None, penalty: float = 0.0, refused: str | None = None) -> FinalGrade:
    """The final grade of one student.

    ``rule`` None (no ``[final]``): the project total rounded half up, capped at ``scale`` (required
    then: the exam's grading.scale). ``penalty``: points off the final scale (a late hand-in), taken
    before rounding and before the honours check. ``refused``: why the hand-in is not graded at all.
    """
    if rule is None:
        if scale is None:
            raise ValueError("compose: without a [final] rule pass scale= (the exam's grading.scale)")
        rule = FinalRule(scale=scale, project_scale=scale)
    if refused:
        return FinalGrade(None, f"refused: {refused}", False, f"not graded: {refused}")
    if project_total is None:
        return FinalGrade(None, "absent: no project grade", None, "no project grade: no final grade")
    if rule.uses_oral and oral is None:
        return FinalGrade(None, "absent: no oral grade", None,
                          f"the final grade needs the oral exam ({rule.oral_weight:.0%} of the grade)")
    if rule.uses_oral:
        total = rule.scale * (rule.project_weight * project_total / rule.project_scale
                              + rule.oral_weight * oral / rule.oral_scale)
        steps = (f"final = {rule.scale:g} × ({rule.project_weight:g} × {_g(project_total)}/{rule.project_scale:g} "
                 f"+ {rule.oral_weight:g} × {_g(oral)}/{rule.oral_scale:g}) = {_g(total)}")
    elif rule.scale != rule.project_scale:
        total = rule.scale * project_total / rule.project_scale
        steps = f"final = {rule.scale:g} × {_g(project_total)}/{rule.project_scale:g} = {_g(total)}"
    else:
        total = project_total
        steps = f"final = project {_g(total)}/{rule.scale:g}"
    if penalty:
        total = max(0.0, total - penalty)
        steps += f" − {_g(penalty)} (late) = {_g(total)}"
    honours = rule.honours_text is not None and total > rule.honours_above + 1e-9
    rounded = round_grade(total, rule.rounding)
    number = min(rounded, rule.scale) if rule.cap else rounded
    steps += f"; {_ROUNDING_WORDS[rule.rounding]}: {_g(rounded)}"
    if number != rounded:
        steps += f", capped at the scale: {_g(number)}"
    if honours:
        steps += f"; above {rule.honours_above:g}: {rule.honours_text}"
        return FinalGrade(number, rule.honours_text, True if rule.pass_threshold is not None else None, steps)
    passed = None if rule.pass_threshold is None else number >= rule.pass_threshold
    if passed is False:
        steps += f"; below the pass mark {rule.pass_threshold:g}"
        return FinalGrade(number, f"failed ({_g(number)} < {rule.pass_threshold:g})", False, steps)
    return FinalGrade(number, _g(number), passed, steps)


def load_oral_grades(path: Path | str, known_students: set[str], *, scale: float | None = None) -> dict[str, float]:
    """Oral grades from the instructor's CSV: columns ``student,oral`` (other columns ignored).

    Separator ``,`` or ``;``; a decimal comma is accepted (``27,5`` quoted, or in a ``;`` file). A blank
    oral is an absent student (not in the result). Unknown student ids, duplicates, values that are not
    numbers or lie outside 0..scale are errors (ValueError) naming the line."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader, [])]
    if "student" not in header or "oral" not in header:
        raise ValueError(f"{path}: the first line must name the columns student and oral (got {first!r})")
    at_student, at_oral = header.index("student"), header.index("oral")
    grades: dict[str, float] = {}
    seen: set[str] = set()
    unknown: list[str] = []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise ValueError(f"{path}:{line}: {len(row)} cells for {len(header)} columns; a decimal comma "
                             f"splits a cell: quote it (\"27,5\") or separate the columns with ';'")
        student = row[at_student].strip() if at_student < len(row) else ""
        value = row[at_oral].strip() if at_oral < len(row) else ""
        if not student:
            raise ValueError(f"{path}:{line}: no student id")
        if student not in known_students:
            unknown.append(student)
            continue
        if student in seen:
            raise ValueError(f"{path}:{line}: {student} is listed twice")
        seen.add(student)
        if not value:
            continue  # absent from the oral
        try:
            number = float(value.replace(",", "."))
        except ValueError:
            raise ValueError(f"{path}:{line}: oral grade {value!r} of {student} is not a number") from None
        if not math.isfinite(number) or number < 0 or (scale is not None and number > scale):
            raise ValueError(f"{path}:{line}: oral grade {value!r} of {student} is outside 0..{scale or '∞'}")
        grades[student] = number
    if unknown:
        known = sorted(known_students)
        listed = ", ".join(known[:100]) + (f" ... and {len(known) - 100} more" if len(known) > 100 else "")
        raise ValueError(f"{path}: unknown student id(s) {', '.join(unknown)}; the ids of this class are: "
                         f"{listed or '(none)'}")
    return grades
