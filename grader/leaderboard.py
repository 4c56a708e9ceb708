"""OUT/leaderboard.html (the instructor's: names, all details) and OUT/leaderboard-public.html (safe to
post for the class: pseudonyms, the metric and the failure class, no names, no messages, nothing quoted
from a notebook): the task, the grading rule, two plots and the ranking, for any metric.

Plots read right whatever the metric's direction: the x axis of the distribution runs from worse to
better (reversed for lower-is-better metrics, and says so), counts are whole students, and a second
plot shows how the metric turned into objective points under the exam's scheme.
"""

from __future__ import annotations

import base64
import io

from grader.escaping import esc
from grader.exam import Exam
from grader.report import Row, valid_metrics


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _axis_label(exam: Exam) -> str:
    return f"{exam.metric_display} ({'higher' if exam.higher_is_better else 'lower'} is better →)"


def _baseline_lines(ax, exam: Exam) -> None:
    ax.axvline(exam.grading.baseline, color="#C44E52", linestyle="--", label=f"baseline {exam.grading.baseline:g}")
    if exam.grading.scheme == "target" and exam.grading.target is not None:
        ax.axvline(exam.grading.target, color="#55A868", linestyle="--", label=f"target {exam.grading.target:g}")


def histogram_png(rows: list[Row], exam: Exam) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    values = valid_metrics(rows)
    fig, ax = plt.subplots(figsize=(6, 3))
    if values:
        ax.hist(values, bins=min(20, max(5, len(values))), color="#4C72B0", edgecolor="white")
    _baseline_lines(ax, exam)
    if not exam.higher_is_better:
        ax.invert_xaxis()  # better results to the right, as for higher-is-better metrics
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(title=f"Distribution of {exam.metric_display} ({len(values)} valid results)", xlabel=_axis_label(exam),
           ylabel="students")
    ax.legend()
    return _png(fig)


def points_png(rows: list[Row], exam: Exam) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scored = [(row.record.metric, row.grade.objective_points) for row in rows
              if row.record.status == "ok" and row.record.metric is not None]
    fig, ax = plt.subplots(figsize=(6, 3))
    if scored:
        ax.scatter([m for m, _ in scored], [p for _, p in scored], color="#4C72B0")
    _baseline_lines(ax, exam)
    if not exam.higher_is_better:
        ax.invert_xaxis()
    ax.set(title=f"Objective points by {exam.metric_display} ({exam.grading.scheme} scheme)",
           xlabel=_axis_label(exam), ylabel="objective points")
    ax.set_ylim(bottom=-0.5, top=exam.grading.objective_weight * exam.grading.scale + 0.5)
    ax.legend()
    return _png(fig)


def leaderboard(rows: list[Row], exam: Exam, rule: str, fmt: str = ".4g") -> str:
    rounds = any(row.record.metric_std is not None for row in rows)
    small = exam.grading.parameter_bonus is not None
    body = []
    for row in rows:
        r, g = row.record, row.grade
        metric = format(r.metric, fmt) if r.metric is not None else "—"
        if rounds and r.metric_std is not None:
            metric += f" ± {r.metric_std:.2g}"
        status = "ok" if r.status == "ok" else esc(r.failure or "failed")
        rank = f"{g.rank}{' (tie)' if g.tie else ''}" if g.rank else ""
        body.append(f"<tr class='{esc(r.status)}'><td>{rank}</td><td>{esc(r.name)}</td><td>{metric}</td>"
                    f"<td>{status}</td><td>{g.objective_points:g}</td><td>{g.quality_points:g}</td>"
                    f"<td>{g.bonus:g}</td>" + (f"<td>{r.parameters or '—'}</td><td>{g.parameter_bonus:g}</td>"
                                                 if small else "")
                    + f"<td><b>{g.total:g}</b></td><td>{esc(r.message[:160])}</td></tr>")
    failures: dict[str, int] = {}
    for row in rows:
        if row.record.failure:
            failures[row.record.failure] = failures.get(row.record.failure, 0) + 1
    failure_text = ", ".join(f"{k}: {v}" for k, v in sorted(failures.items())) or "none"
    metric_head = esc(exam.metric_display) + (" (mean ± std over rounds)" if rounds else "")
    extra_head = "<th>parameters</th><th>parameter bonus</th>" if small else ""
    task = f"<h2>The task</h2><blockquote>{esc(exam.task).replace(chr(10), '<br>')}</blockquote>" if exam.task else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(exam.title)} — leaderboard</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}}
tr.failed{{color:#8a1c1c}}.formula{{background:#f4f4f4;padding:1em;font-family:monospace}}</style></head>
<body><h1>{esc(exam.title)}</h1>
<p>{len(rows)} submissions, {sum(r.record.status == 'ok' for r in rows)} scored; failures: {esc(failure_text)}.</p>
{task}
<h2>How grades are computed</h2><p class="formula">{esc(rule)}</p>
<img alt="Distribution of {esc(exam.metric_display)}" src="data:image/png;base64,{histogram_png(rows, exam)}">
<img alt="Objective points by {esc(exam.metric_display)}" src="data:image/png;base64,{points_png(rows, exam)}">
<h2>Ranking</h2><table><tr><th>rank</th><th>student</th><th>{metric_head}</th><th>status</th>
<th>objective</th><th>quality</th><th>bonus</th>{extra_head}<th>total / {exam.grading.scale:g}</th><th>details</th></tr>
{''.join(body)}</table></body></html>
"""


def pseudonyms(out_dir, students: list[str]) -> dict[str, str]:
    """A stable pseudonym per student ("Student 7F3A"), random, kept in OUT/pseudonyms.json so that
    reruns keep them and the instructor can tell a student theirs (it is in their feedback)."""
    import json
    import secrets
    from pathlib import Path

    from grader.results import atomic_write_text

    path = Path(out_dir) / "pseudonyms.json"
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    used = set(known.values())
    for student in students:
        while student not in known:
            candidate = f"Student {secrets.token_hex(2).upper()}"
            if candidate not in used:
                known[student] = candidate
                used.add(candidate)
    atomic_write_text(path, json.dumps(known, indent=2, sort_keys=True))
    return known


def public_leaderboard(rows: list[Row], exam: Exam, rule: str, names: dict[str, str], fmt: str = ".4g") -> str:
    """The ranking for the class: pseudonyms, results and failure classes only."""
    from grader.results import FAILURE_CLASSES

    rounds = any(row.record.metric_std is not None for row in rows)
    body = []
    for row in sorted(rows, key=lambda r: (r.grade.rank is None, r.grade.rank or 0, names[r.record.student])):
        r, g = row.record, row.grade
        metric = format(r.metric, fmt) if r.metric is not None else "—"
        if rounds and r.metric_std is not None:
            metric += f" ± {r.metric_std:.2g}"
        status = "scored" if r.status == "ok" else FAILURE_CLASSES.get(r.failure or "", "not scored")
        rank = f"{g.rank}{' (tie)' if g.tie else ''}" if g.rank else ""
        body.append(f"<tr><td>{rank}</td><td>{esc(names[r.student])}</td><td>{metric}</td><td>{esc(status)}</td>"
                    f"<td>{g.objective_points:g}</td></tr>")
    task = f"<h2>The task</h2><blockquote>{esc(exam.task).replace(chr(10), '<br>')}</blockquote>" if exam.task else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(exam.title)} — results</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:900px}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}}
.formula{{background:#f4f4f4;padding:1em;font-family:monospace}}</style></head>
<body><h1>{esc(exam.title)}: results</h1>
<p>Each student is listed under the pseudonym written in their own feedback.</p>
{task}
<h2>How the objective points are computed</h2><p class="formula">{esc(rule)}</p>
<img alt="Distribution of {esc(exam.metric_display)}" src="data:image/png;base64,{histogram_png(rows, exam)}">
<h2>Ranking</h2><table><tr><th>rank</th><th>pseudonym</th><th>{esc(exam.metric_display)}</th><th>status</th>
<th>objective points</th></tr>
{''.join(body)}</table></body></html>
"""
