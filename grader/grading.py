"""Turn the class's results into grades: 80 % comparative objective + 20 % quality (+ bonus).

Schemes for the objective part (a fraction in [0, 1] before weighting), all respecting the
metric's direction and giving 0 to failed submissions and results no better than the baseline:
- ``linear`` (default): baseline -> 0, best valid result in the class -> 1, linear between;
- ``rank``: the best rank gets 1, then (N - rank + 1) / N; ties share the better rank;
- ``target``: baseline -> 0, the exam's fixed target -> 1, linear between.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from grader.exam import Grading


@dataclass
class Entry:
    """What grading needs of one submission."""

    student: str
    metric: float | None  # None when the submission failed (no valid result)
    quality: float  # 0..1


@dataclass
class Grade:
    student: str
    objective_fraction: float
    objective_points: float
    quality_points: float
    bonus: float
    total: float
    final_grade: float
    rank: int | None


def _better(a: float, b: float, higher: bool) -> bool:
    return a > b if higher else a < b


def objective_fractions(entries: list[Entry], g: Grading, higher: bool) -> dict[str, float]:
    """The objective fraction of each student under the exam's scheme."""
    valid = {e.student: e.metric for e in entries if e.metric is not None}
    usable = {s: m for s, m in valid.items() if _better(m, g.baseline, higher)}
    fractions = {e.student: 0.0 for e in entries}
    if not usable:
        return fractions
    if g.scheme == "rank":
        ranks = competition_ranks(usable, higher)
        n = len(usable)
        fractions.update({s: (n - r + 1) / n for s, r in ranks.items()})
        return fractions
    top = g.target if g.scheme == "target" else (max if higher else min)(usable.values())
    span = top - g.baseline
    for s, m in usable.items():
        fractions[s] = min(1.0, max(0.0, (m - g.baseline) / span)) if span else 1.0
    return fractions


def competition_ranks(results: dict[str, float], higher: bool) -> dict[str, int]:
    """1 for the best; equal results share a rank, the next rank skips (1, 2, 2, 4)."""
    ordered = sorted(results.values(), reverse=higher)
    return {s: ordered.index(m) + 1 for s, m in results.items()}


def grade_class(entries: list[Entry], g: Grading, higher: bool) -> list[Grade]:
    fractions = objective_fractions(entries, g, higher)
    valid = {e.student: e.metric for e in entries if e.metric is not None}
    ranks = competition_ranks(valid, higher) if valid else {}
    best_students = {s for s, r in ranks.items() if r == 1 and _better(valid[s], g.baseline, higher)}
    grades = []
    for e in entries:
        objective = fractions[e.student] * g.objective_weight * g.scale
        quality = max(0.0, min(1.0, e.quality)) * g.quality_weight * g.scale
        bonus = g.bonus if e.student in best_students else 0.0
        total = objective + quality + bonus
        final = math.floor(total + 0.5)  # half up: 27.5 -> 28 (round() would give 28 but 26.5 -> 26)
        grades.append(Grade(e.student, round(fractions[e.student], 4), round(objective, 2),
                            round(quality, 2), bonus, round(total, 2), final, ranks.get(e.student)))
    return grades


def formula(g: Grading, metric: str, higher: bool, best: float | None) -> str:
    """The grading rule in words and symbols, printed in every report."""
    obj = f"{g.objective_weight:g} × {g.scale:g}"
    qual = f"{g.quality_weight:g} × {g.scale:g} × quality (0..1, rubric estimate or manual score)"
    if g.scheme == "linear":
        best_txt = f"{best:.4g}" if best is not None else "n/a (no valid result)"
        core = (f"clip(({metric} − {g.baseline:g}) / (best − {g.baseline:g}), 0, 1), best = {best_txt} "
                f"in this class")
    elif g.scheme == "target":
        core = f"clip(({metric} − {g.baseline:g}) / ({g.target:g} − {g.baseline:g}), 0, 1)"
    else:
        core = (f"(N − rank + 1) / N over the N valid results better than the baseline {g.baseline:g} "
                "(ties share the better rank)")
    direction = "higher is better" if higher else "lower is better"
    text = (f"grade = {obj} × {core}  +  {qual}"
            + (f"  +  bonus {g.bonus:g} for the best valid result" if g.bonus else "")
            + f".  Metric: {metric} ({direction}); failed submissions get 0 objective points "
              "but keep their quality points.")
    return text
