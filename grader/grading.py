"""Turn the class's results into grades: 80 % comparative objective + 20 % quality (+ bonus).

Schemes for the objective part (a fraction in [0, 1] before weighting), all respecting the
metric's direction and giving 0 to failed submissions and results no better than the baseline:
- ``linear`` (default): baseline -> 0, best valid result in the class -> 1, linear between;
- ``rank``: the best rank gets 1, then (N - rank + 1) / N; ties share the better rank;
- ``target``: baseline -> 0, the exam's fixed target -> 1, linear between.

Results closer than ``tie_tolerance`` to the best of their group share a rank (and a bonus).
A secondary criterion, ``parameter_bonus``, adds points for fewer parameters to valid results better
than the baseline: linear from ``full_at`` (all the points) to ``zero_at`` (none), or by rank of the count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from grader.exam import Grading, ParameterBonus


@dataclass
class Entry:
    """What grading needs of one submission."""

    student: str
    metric: float | None  # None when the submission failed (no valid result)
    quality: float  # 0..1
    parameters: int | None = None  # of the model, when counted


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
    parameter_bonus: float = 0.0
    tie: bool = False  # shares its rank with another result (within the exam's tie tolerance)


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
        ranks = competition_ranks(usable, higher, g.tie_tolerance)
        n = len(usable)
        fractions.update({s: (n - r + 1) / n for s, r in ranks.items()})
        return fractions
    top = g.target if g.scheme == "target" else (max if higher else min)(usable.values())
    span = top - g.baseline
    for s, m in usable.items():
        fractions[s] = min(1.0, max(0.0, (m - g.baseline) / span)) if span else 1.0
    return fractions


def competition_ranks(results: dict[str, float], higher: bool, tolerance: float = 0.0) -> dict[str, int]:
    """1 for the best; results within ``tolerance`` of the first result of their group share its
    rank, and the next rank skips (1, 2, 2, 4)."""
    ordered = sorted(results.items(), key=lambda item: item[1], reverse=higher)
    ranks: dict[str, int] = {}
    leader = None
    for position, (student, value) in enumerate(ordered, start=1):
        if leader is None or abs(value - leader[1]) > tolerance:
            leader = (position, value)
        ranks[student] = leader[0]
    return ranks


def parameter_bonuses(entries: list[Entry], g: Grading, higher: bool) -> dict[str, float]:
    """Bonus points for fewer parameters, for valid results better than the baseline."""
    rule: ParameterBonus | None = g.parameter_bonus
    eligible = {e.student: e.parameters for e in entries if rule and e.metric is not None
                and e.parameters is not None and _better(e.metric, g.baseline, higher)}
    if not rule or not eligible:
        return {}
    if rule.scheme == "rank":
        ranks = competition_ranks({s: float(n) for s, n in eligible.items()}, higher=False)
        return {s: round(rule.points * (len(eligible) - r + 1) / len(eligible), 2) for s, r in ranks.items()}
    span = rule.zero_at - rule.full_at
    return {s: round(rule.points * min(1.0, max(0.0, (rule.zero_at - n) / span)), 2) for s, n in eligible.items()}


def grade_class(entries: list[Entry], g: Grading, higher: bool) -> list[Grade]:
    fractions = objective_fractions(entries, g, higher)
    valid = {e.student: e.metric for e in entries if e.metric is not None}
    ranks = competition_ranks(valid, higher, g.tie_tolerance) if valid else {}
    best_students = {s for s, r in ranks.items() if r == 1 and _better(valid[s], g.baseline, higher)}
    shared = {r for r in ranks.values() if list(ranks.values()).count(r) > 1}
    extra = parameter_bonuses(entries, g, higher)
    grades = []
    for e in entries:
        objective = fractions[e.student] * g.objective_weight * g.scale
        quality = max(0.0, min(1.0, e.quality)) * g.quality_weight * g.scale
        bonus = g.bonus if e.student in best_students else 0.0
        small = extra.get(e.student, 0.0)
        total = objective + quality + bonus + small
        final = math.floor(total + 0.5)  # half up: 27.5 -> 28 (round() would give 28 but 26.5 -> 26)
        grades.append(Grade(e.student, round(fractions[e.student], 4), round(objective, 2),
                            round(quality, 2), bonus, round(total, 2), final, ranks.get(e.student),
                            parameter_bonus=small, tie=ranks.get(e.student) in shared))
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
    pb = g.parameter_bonus
    small = ""
    if pb and pb.scheme == "linear":
        small = (f"  +  up to {pb.points:g} for fewer parameters (all at ≤ {pb.full_at:,}, none at ≥ "
                 f"{pb.zero_at:,}, linear between)")
    elif pb:
        small = f"  +  {pb.points:g} × (N − rank + 1) / N by rank of the parameter count (fewest first)"
    ties = f" Results within {g.tie_tolerance:g} of each other are ties." if g.tie_tolerance else ""
    text = (f"grade = {obj} × {core}  +  {qual}"
            + (f"  +  bonus {g.bonus:g} for the best valid result" if g.bonus else "") + small
            + f".  Metric: {metric} ({direction}); failed submissions get 0 objective points "
              "but keep their quality points." + ties)
    return text
