"""Grader throughput: the same class graded with --jobs 1 and --jobs N, side by side.

    python -m benchmarks.grader_throughput [--students 8] [--jobs 2]

Uses the tests' tiny NumPy-only exam, so the numbers measure the harness itself (sandbox start,
kernel start, papermill, scoring), not a model. Prints seconds per submission and the speed-up.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import nbformat
from rich.console import Console
from rich.table import Table

from grader.batch import grade_class
from tests.exam_factory import RULE, make_exam, student_notebook


def _grade(exam: Path, subs: Path, out: Path, jobs: int) -> tuple[float, int]:
    started = time.perf_counter()
    records = grade_class(exam, subs, out, jobs=jobs)
    return time.perf_counter() - started, sum(r.status == "ok" for r in records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        exam = make_exam(root / "exam", max_parameters=None)
        subs = root / "subs"
        subs.mkdir()
        for i in range(args.students):
            nbformat.write(student_notebook(RULE, "np.save(PREDICTIONS_PATH, pred)"), subs / f"s{i:03d}.ipynb")
        table = Table(title=f"Grading {args.students} tiny submissions")
        for col in ("jobs", "wall time", "per submission", "scored", "speed-up vs 1 job"):
            table.add_column(col, justify="right")
        base = None
        for jobs in (1, args.jobs):
            seconds, ok = _grade(exam, subs, root / f"out-{jobs}", jobs)
            base = base or seconds
            table.add_row(str(jobs), f"{seconds:.1f} s", f"{seconds / args.students:.1f} s", f"{ok}/{args.students}",
                          f"{base / seconds:.2f}×")
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
