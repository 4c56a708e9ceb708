"""Run the course notebooks and print a table: notebook, mode, wall time, metric, target.

    python -m benchmarks.notebooks                 # every notebook, FAST mode
    python -m benchmarks.notebooks --mode full     # the full lessons (long: hours on a CPU)
    python -m benchmarks.notebooks --only 05 07 --mode both --keep out/runs   # executed copies kept
    python -m benchmarks.notebooks --markdown      # latest recorded row per notebook and mode
    python -m benchmarks.notebooks --update-docs   # that table into both READMEs, each notebook's line

Each run appends a row to benchmarks/notebook_results.csv, so full-mode numbers measured once
stay beside the FAST ones in benchmarks/README.md. `--update-docs` also rewrites one line in each
notebook's "What we reached" cell (it starts with RECORDED_PREFIX), so the figures a student reads
in the notebook are the recorded ones; tests/test_repository.py checks both stay in step.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import functools
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tests.notebook_tools import NOTEBOOK_DIR, notebook_sources, run_notebook

RESULTS_CSV = Path(__file__).with_name("notebook_results.csv")
READMES = [Path(__file__).parents[1] / "README.md", Path(__file__).with_name("README.md")]
TABLE_START, TABLE_END = "<!-- notebook-results:start -->", "<!-- notebook-results:end -->"
FIELDS = ["date", "notebook", "mode", "seconds", "metric", "value", "target", "status", "machine"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["fast", "full", "both"], default="fast")
    parser.add_argument("--only", nargs="*", default=[], help="notebook number prefixes, e.g. 05")
    parser.add_argument("--no-save", action="store_true", help="do not append to the CSV")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the executed notebooks (with their outputs) in DIR, e.g. to see why one failed")
    parser.add_argument("--markdown", action="store_true", help="print the recorded results as a table")
    parser.add_argument("--update-docs", action="store_true",
                        help="write the recorded results into README.md, benchmarks/README.md and the notebooks")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown_table())
        return 0
    if args.update_docs:
        table, latest = markdown_table(), latest_results()
        for readme in READMES:
            update_readme(readme, table)
            print(f"updated {readme}")
        for source in notebook_sources():
            if update_notebook(source, recorded_line(source.stem, latest)):
                print(f"updated {source} and its .ipynb")
        return 0

    modes = ["fast", "full"] if args.mode == "both" else [args.mode]
    sources = [s for s in notebook_sources() if not args.only or s.stem[:2] in args.only]
    machine = f"{platform.machine()} {platform.processor() or ''} cores={_cores()}".strip()
    table = Table(title="Course notebooks")
    for col in ("notebook", "mode", "wall time", "metric", "reached", "target", "status"):
        table.add_column(col, justify="right" if col in ("wall time", "reached", "target") else "left")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        outputs = args.keep or Path(tmp)
        for source in sources:
            for mode in modes:
                row = _run(source, mode, outputs / f"{source.stem}-{mode}")
                row.update(date=dt.date.today().isoformat(), machine=machine)
                rows.append(row)
                table.add_row(row["notebook"], mode, f"{row['seconds']:.0f} s", row["metric"],
                              str(row["value"]), str(row["target"]), row["status"])
    Console(width=140).print(table)
    if not args.no_save:
        new = not RESULTS_CSV.exists()
        with RESULTS_CSV.open("a", newline="") as f:
            writer = csv.DictWriter(f, FIELDS)
            if new:
                writer.writeheader()
            writer.writerows(rows)
    return 0 if all(r["status"] == "ok" for r in rows) else 1


def latest_results() -> dict[tuple[str, str], dict]:
    """The latest recorded run of each (notebook, mode)."""
    latest: dict[tuple[str, str], dict] = {}
    with RESULTS_CSV.open(newline="") as f:
        for row in csv.DictReader(f):
            latest[(row["notebook"], row["mode"])] = row
    return latest


def markdown_table() -> str:
    """One row per notebook: its check's metric, then FAST and full mode side by side (reached /
    target, wall time), from the latest recorded runs."""
    latest = latest_results()
    lines = ["| notebook | metric | FAST reached / target | FAST time | full reached / target | full time |"
             " measured |",
             "|---|---|---:|---:|---:|---:|---|"]
    for notebook in sorted({nb for nb, _ in latest}):
        metric, fast, full, sign = _runs_of(notebook, latest)
        dates = sorted({r["date"] for r in (fast, full) if r})
        lines.append(f"| {notebook} | {metric} | {_reached(fast, sign)} | {_time(fast)} | "
                     f"{_reached(full, sign)} | {_time(full)} | {', '.join(dates)} |")
    return "\n".join(lines)


RECORDED_PREFIX = "Recorded by `benchmarks/notebooks.py`"


def recorded_line(notebook: str, latest: dict[tuple[str, str], dict]) -> str:
    """The sentence a notebook's "What we reached" cell ends with: its latest recorded runs."""
    metric, fast, full, sign = _runs_of(notebook, latest)
    parts = []
    for label, row in (("FAST mode", fast), ("full lesson", full)):
        if row is None or row["status"] != "ok":
            parts.append(f"{label}: {_reached(row, sign)}")
        else:
            parts.append(f"{label} {row['value']} (target {sign} {row['target']}, {_time(row)}, {row['date']})")
    return f"{RECORDED_PREFIX} for `{metric}`: {'; '.join(parts)}."


def update_notebook(source: Path, line: str) -> bool:
    """Put `line` at the end of the source's "What we reached" cell (replacing an earlier one) and
    regenerate the .ipynb; False when the line was already there."""
    lines = source.read_text(encoding="utf-8").split("\n")
    new = f"# {line}"
    old = [i for i, text in enumerate(lines) if text.startswith(f"# {RECORDED_PREFIX}")]
    if old:
        if lines[old[0]] == new:
            return False
        lines[old[0]] = new
    else:
        # the end of the section: the cell's end (a line not commented) or the next "##" heading
        headings = [i for i, text in enumerate(lines) if text.startswith("# ## What we reached")]
        if not headings:
            raise SystemExit(f"{source}: add a '## What we reached' section for the recorded results")
        heading = headings[-1]
        end = next(i for i in range(heading + 1, len(lines))
                   if not lines[i].startswith("#") or lines[i].startswith("# ## "))
        while lines[end - 1] == "#":
            end -= 1
        lines[end:end] = ["#", new]
    source.write_text("\n".join(lines), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "jupytext", "--quiet", "--to", "ipynb", "--update",
                    "--update-metadata", '{"jupytext": null}', str(source)], check=True)
    return True


def _runs_of(notebook: str, latest: dict[tuple[str, str], dict]) -> tuple[str, dict | None, dict | None, str]:
    """(metric, FAST row, full row, "≥" or "≤"); a run of an earlier check is marked as such."""
    fast, full = latest.get((notebook, "fast")), latest.get((notebook, "full"))
    metrics = sorted({r["metric"] for r in (fast, full) if r and r["metric"]})
    sign = "≥" if _higher_is_better(notebook) else "≤"
    current = [r for r in (fast, full) if r and _is_current_check(notebook, r["metric"])]
    metric = current[0]["metric"] if current else " / ".join(metrics)
    fast, full = (r if r in current else _stale(r) for r in (fast, full))
    return metric, fast, full, sign


def update_readme(readme: Path, table: str) -> None:
    """Replace the text between the two markers; a README without them is an error, not a guess."""
    text = readme.read_text(encoding="utf-8")
    if TABLE_START not in text or TABLE_END not in text:
        raise SystemExit(f"{readme}: add the lines {TABLE_START} and {TABLE_END} where the table goes")
    head, rest = text.split(TABLE_START, 1)
    tail = rest.split(TABLE_END, 1)[1]
    readme.write_text(f"{head}{TABLE_START}\n{table}\n{TABLE_END}{tail}", encoding="utf-8")


def _is_current_check(notebook: str, metric: str) -> bool:
    """A recorded run counts only if the notebook's check still reports that metric."""
    return bool(metric) and f'"{metric}"' in _source_text(notebook)


def _stale(row: dict | None) -> dict | None:
    """A run of an earlier check: shown as such, never as a result of today's notebook."""
    if row is None or row["status"] != "ok":  # a failed run is shown as failed
        return row
    return {**row, "status": f"earlier check ({row['metric']})"}


def _higher_is_better(notebook: str) -> bool:
    """The direction the notebook's check states (the CSV records only numbers)."""
    return not re.search(r'"higher_is_better":\s*False', _source_text(notebook))


@functools.cache
def _source_text(notebook: str) -> str:
    """The notebook's .py source, read once per run ('' for a notebook that no longer exists)."""
    source = NOTEBOOK_DIR / f"{notebook}.py"
    return source.read_text(encoding="utf-8") if source.exists() else ""


def _reached(row: dict | None, sign: str) -> str:
    if row is None:
        return "not measured yet"
    if row["status"] != "ok":
        return row["status"]
    return f"{row['value']} / {sign} {row['target']}"


def _time(row: dict | None) -> str:
    return f"{float(row['seconds']):.0f} s" if row and row["status"] == "ok" else "-"


def _run(source: Path, mode: str, out: Path) -> dict:
    row = {"notebook": source.stem, "mode": mode, "metric": "", "value": "", "target": ""}
    try:
        run = run_notebook(source.with_suffix(".ipynb"), out, {"FAST": mode == "fast"},
                           cell_timeout=6 * 3600)
        reached = {k: run.result[k] for k in ("metric", "value", "target")}
        row.update(seconds=run.seconds, status="ok", **reached)
    except Exception as exc:  # one failing notebook must not hide the others' numbers
        row.update(seconds=0.0, status=f"failed: {type(exc).__name__}")
        # the temporary folder goes away: say why it failed (papermill's message names the cell)
        print(f"{source.stem} ({mode}) failed:\n{str(exc)[-3000:]}", file=sys.stderr)
    return row


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    raise SystemExit(main())
