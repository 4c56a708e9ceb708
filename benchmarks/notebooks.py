"""Run the course notebooks and print a table: notebook, mode, wall time, metric, target.

    python -m benchmarks.notebooks                 # every notebook, FAST mode
    python -m benchmarks.notebooks --mode full     # the full lessons (long: hours on a CPU)
    python -m benchmarks.notebooks --only 05 07 --mode both
    python -m benchmarks.notebooks --markdown      # latest recorded row per notebook and mode

Each run appends a row to benchmarks/notebook_results.csv, so full-mode numbers measured once
stay beside the FAST ones in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import platform
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tests.notebook_tools import notebook_sources, run_notebook

RESULTS_CSV = Path(__file__).with_name("notebook_results.csv")
FIELDS = ["date", "notebook", "mode", "seconds", "metric", "value", "target", "status", "machine"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["fast", "full", "both"], default="fast")
    parser.add_argument("--only", nargs="*", default=[], help="notebook number prefixes, e.g. 05")
    parser.add_argument("--no-save", action="store_true", help="do not append to the CSV")
    parser.add_argument("--markdown", action="store_true", help="print the recorded results as a table")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown_table())
        return 0

    modes = ["fast", "full"] if args.mode == "both" else [args.mode]
    sources = [s for s in notebook_sources() if not args.only or s.stem[:2] in args.only]
    machine = f"{platform.machine()} {platform.processor() or ''} cores={_cores()}".strip()
    table = Table(title="Course notebooks")
    for col in ("notebook", "mode", "wall time", "metric", "reached", "target", "status"):
        table.add_column(col, justify="right" if col in ("wall time", "reached", "target") else "left")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for source in sources:
            for mode in modes:
                row = _run(source, mode, Path(tmp) / f"{source.stem}-{mode}")
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


def markdown_table() -> str:
    """The latest recorded run of each notebook in each mode, as a Markdown table."""
    latest: dict[tuple[str, str], dict] = {}
    with RESULTS_CSV.open(newline="") as f:
        for row in csv.DictReader(f):
            latest[(row["notebook"], row["mode"])] = row
    lines = ["| notebook | mode | wall time | metric | reached | target | status | date |",
             "|---|---|---:|---|---:|---:|---|---|"]
    for (notebook, mode), r in sorted(latest.items()):
        lines.append(f"| {notebook} | {mode} | {float(r['seconds']):.0f} s | {r['metric']} | {r['value']} | "
                     f"{r['target']} | {r['status']} | {r['date']} |")
    return "\n".join(lines)


def _run(source: Path, mode: str, out: Path) -> dict:
    row = {"notebook": source.stem, "mode": mode, "metric": "", "value": "", "target": ""}
    try:
        run = run_notebook(source.with_suffix(".ipynb"), out, {"FAST": mode == "fast"},
                           cell_timeout=6 * 3600)
        reached = {k: run.result[k] for k in ("metric", "value", "target")}
        row.update(seconds=run.seconds, status="ok", **reached)
    except Exception as exc:  # one failing notebook must not hide the others' numbers
        row.update(seconds=0.0, status=f"failed: {type(exc).__name__}")
    return row


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    raise SystemExit(main())
