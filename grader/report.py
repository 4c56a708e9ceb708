"""Reports of a graded class, rebuilt from the saved records at any time.

OUT/grades.csv           one row per student
OUT/feedback/<id>.md     what the student gets: grade breakdown, failure explained, rubric evidence
OUT/leaderboard.html     ranking, metric distribution plot, the grading formula

Names, messages and rubric evidence come from students (a folder named ``=HYPERLINK(...)``, an
exception message with ``<script>``): every text cell of the CSV that a spreadsheet would read as a
formula gets a leading ``'`` (OWASP's CSV-injection advice) and text cells are quoted, every string
in the HTML is escaped, and the Markdown feedback shows them as text, never as HTML or Markdown.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import re
from dataclasses import dataclass
from pathlib import Path

from grader.exam import Exam
from grader.grading import Entry, Grade, formula, grade_class
from grader.results import FAILURE_CLASSES, Record, atomic_write_text

CSV_FIELDS = ["student", "name", "status", "failure_class", "metric", "parameters", "objective_points",
              "quality_points", "quality_source", "bonus", "total", "final_grade", "rank", "message"]


@dataclass
class Row:
    record: Record
    grade: Grade
    quality: float
    quality_source: str


def build_rows(records: list[Record], exam: Exam, manual: dict | None = None) -> list[Row]:
    manual = manual or {}
    qualities = {}
    for r in records:
        override = manual.get(r.student)
        if override is not None:
            qualities[r.student] = (override.fraction, "manual")
        else:
            qualities[r.student] = (float(r.quality.get("estimate", 0.0)) if r.quality else 0.0, "estimate")
    entries = [Entry(r.student, r.metric if r.status == "ok" else None, qualities[r.student][0])
               for r in records]
    grades = {g.student: g for g in grade_class(entries, exam.grading, exam.higher_is_better)}
    rows = [Row(r, grades[r.student], *qualities[r.student]) for r in records]
    return sorted(rows, key=lambda row: (-row.grade.total, row.record.student))


def best_metric(rows: list[Row], exam: Exam) -> float | None:
    values = [row.record.metric for row in rows if row.record.status == "ok" and row.record.metric is not None]
    if not values:
        return None
    return max(values) if exam.higher_is_better else min(values)


def write_reports(out_dir: Path, records: list[Record], exam: Exam, manual: dict | None = None) -> list[Row]:
    rows = build_rows(records, exam, manual)
    rule = formula(exam.grading, exam.metric, exam.higher_is_better, best_metric(rows, exam))
    _write_csv(out_dir / "grades.csv", rows)
    for row in rows:
        atomic_write_text(out_dir / "feedback" / f"{_file_stem(row.record.student)}.md", feedback(row, exam, rule))
    atomic_write_text(out_dir / "leaderboard.html", leaderboard(rows, exam, rule))
    return rows


def _file_stem(student: str) -> str:
    """The student id as a file name: ids from discovery already are; a hand-edited record is not
    trusted to stay inside the feedback folder."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", student) or "student"


# A cell starting with one of these is a formula to Excel, LibreOffice or Google Sheets (OWASP);
# the full-width forms too in some locales. Leading blanks are skipped by some importers.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_text(value: str) -> str:
    """A text cell no spreadsheet evaluates: a leading ' when it could start a formula."""
    if value.startswith(FORMULA_START) or value.lstrip().startswith(FORMULA_START):
        return "'" + value
    return value


def _write_csv(path: Path, rows: list[Row]) -> None:
    buffer = io.StringIO()
    # text quoted (a ';' in a name cannot start a new cell where ';' is the separator), numbers bare
    writer = csv.DictWriter(buffer, CSV_FIELDS, quoting=csv.QUOTE_NONNUMERIC)
    writer.writeheader()
    for row in rows:
        r, g = row.record, row.grade
        cells = {
            "student": r.student, "name": r.name, "status": r.status, "failure_class": r.failure or "",
            "metric": "" if r.metric is None else f"{r.metric:.4f}", "parameters": r.parameters or "",
            "objective_points": g.objective_points, "quality_points": g.quality_points,
            "quality_source": row.quality_source, "bonus": g.bonus, "total": g.total,
            "final_grade": g.final_grade, "rank": g.rank or "", "message": r.message,
        }
        writer.writerow({k: csv_text(v) if isinstance(v, str) else v for k, v in cells.items()})
    atomic_write_text(path, buffer.getvalue())


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")
_MD_LINE_START = re.compile(r"^(\d+)([.)])")


def md_text(value: object) -> str:
    """Student text inside one line of Markdown (a heading, a table cell, a list item): shown as
    typed, never as HTML, a link, an image, emphasis or a table column."""
    text = " ".join(str(value).split())
    text = html.escape(text, quote=False)  # < > & as entities: no raw HTML, no autolinks
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_lines(value: object) -> str:
    """Student text of several lines (an error message) as one Markdown paragraph, line breaks
    kept: no line can start a heading, list, quote, code block or table of its own."""
    lines = []
    for line in str(value).splitlines():
        line = md_text(line)
        if line and line[0] in "#>+-=~":
            line = "\\" + line
        lines.append(_MD_LINE_START.sub(r"\1\\\2", line))
    return "  \n".join(lines)


def feedback(row: Row, exam: Exam, rule: str) -> str:
    r, g = row.record, row.grade
    scale = exam.grading.scale
    lines = [f"# {exam.title} — feedback for {md_text(r.name)}", "",
             f"**Grade: {g.total:g} / {scale:g}**" + (f" (including a bonus of {g.bonus:g})" if g.bonus else ""),
             "", "| part | points |", "|---|---|",
             f"| objective ({exam.grading.objective_weight:.0%}): {exam.metric} on the hidden test set "
             f"| {g.objective_points:g} / {exam.grading.objective_weight * scale:g} |",
             f"| descriptive quality ({exam.grading.quality_weight:.0%}, {row.quality_source}) "
             f"| {g.quality_points:g} / {exam.grading.quality_weight * scale:g} |", ""]
    if r.status == "ok":
        lines += [f"Your result: **{exam.metric} = {r.metric:.4f}**"
                  + (f", rank {g.rank}" if g.rank else "") + "."]
    else:
        lines += [f"**Your notebook could not be scored: {md_text(FAILURE_CLASSES.get(r.failure, r.failure))} "
                  f"({f'`{r.failure}`' if r.failure in FAILURE_CLASSES else md_text(r.failure)}).**",
                  "", f"What happened: {md_lines(r.message)}", "",
                  "You keep the points for the descriptive quality of your notebook."]
    if r.parameters:
        lines += [f"Model parameters: {r.parameters:,}" + (f" (budget {exam.limits.max_parameters:,})"
                                                           if exam.limits.max_parameters else "")]
    items = r.quality.get("items", []) if r.quality else []
    if items:
        lines += ["", "## Descriptive quality: what the rubric found", "", "| item | points | evidence |",
                  "|---|---|---|"]
        lines += [f"| {md_text(i['title'])} | {i['points']:g} / {i['max_points']:g} | {md_text(i['evidence'])} |"
                  for i in items]
        if row.quality_source == "manual":
            lines += ["", "Your instructor graded this part by hand; the rubric above is for reference."]
    if r.notes:
        lines += ["", "## Notes from the grader", ""] + [f"- {md_text((n.splitlines() or [''])[0])}" for n in r.notes]
    lines += ["", "## How the grade is computed", "", rule, ""]
    return "\n".join(lines)


def _histogram_png(rows: list[Row], exam: Exam) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = [row.record.metric for row in rows if row.record.status == "ok" and row.record.metric is not None]
    fig, ax = plt.subplots(figsize=(6, 3))
    if values:
        ax.hist(values, bins=min(20, max(5, len(values))), color="#4C72B0", edgecolor="white")
    ax.axvline(exam.grading.baseline, color="#C44E52", linestyle="--", label=f"baseline {exam.grading.baseline:g}")
    if exam.grading.scheme == "target" and exam.grading.target is not None:
        ax.axvline(exam.grading.target, color="#55A868", linestyle="--", label=f"target {exam.grading.target:g}")
    ax.set(title=f"Distribution of {exam.metric} ({len(values)} valid results)", xlabel=exam.metric,
           ylabel="students")
    ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def leaderboard(rows: list[Row], exam: Exam, rule: str) -> str:
    def esc(value: object) -> str:
        return html.escape(str(value), quote=True)

    body = []
    for row in rows:
        r, g = row.record, row.grade
        metric = f"{r.metric:.4f}" if r.metric is not None else "—"
        status = "ok" if r.status == "ok" else esc(r.failure or "failed")
        body.append(f"<tr class='{esc(r.status)}'><td>{g.rank or ''}</td><td>{esc(r.name)}</td><td>{metric}</td>"
                    f"<td>{status}</td><td>{g.objective_points:g}</td><td>{g.quality_points:g}</td>"
                    f"<td>{g.bonus:g}</td><td><b>{g.total:g}</b></td><td>{esc(r.message[:160])}</td></tr>")
    failures: dict[str, int] = {}
    for row in rows:
        if row.record.failure:
            failures[row.record.failure] = failures.get(row.record.failure, 0) + 1
    failure_text = ", ".join(f"{k}: {v}" for k, v in sorted(failures.items())) or "none"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(exam.title)} — leaderboard</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}}
tr.failed{{color:#8a1c1c}}.formula{{background:#f4f4f4;padding:1em;font-family:monospace}}</style></head>
<body><h1>{esc(exam.title)}</h1>
<p>{len(rows)} submissions, {sum(r.record.status == 'ok' for r in rows)} scored; failures: {esc(failure_text)}.</p>
<h2>How grades are computed</h2><p class="formula">{esc(rule)}</p>
<img alt="Distribution of {esc(exam.metric)}" src="data:image/png;base64,{_histogram_png(rows, exam)}">
<h2>Ranking</h2><table><tr><th>rank</th><th>student</th><th>{esc(exam.metric)}</th><th>status</th>
<th>objective</th><th>quality</th><th>bonus</th><th>total / {exam.grading.scale:g}</th><th>details</th></tr>
{''.join(body)}</table></body></html>
"""
