"""What the harness costs on top of papermill: the same notebook, bare papermill vs `grader grade`.

    python -m benchmarks.grader_overhead [--pairs 3] [--student alice_strong_cnn]

Alternates the two (pairs of runs, so that machine load hits both alike) on one weights-mode
submission of the sample exam, with the same injected parameters, and prints per pair:
- bare: `papermill` on the host, in a copy of the student's folder (no sandbox, no checks);
- grader, per submission: the record's own wall time (copy, checks, parameter count, sandbox,
  papermill inside it, rubric, score), i.e. what each additional student costs;
- grader, whole command: the `grader grade` process end to end for this one student (adds the fixed
  costs of a batch: process pool, the start-up check of hidden paths, reports and plots).
Then the median ratios. The target (issue 15) is per submission within 1.15x of bare papermill.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
EXAM = REPO / "exams" / "fashion-budget"


def bare_papermill(student_dir: Path, tmp: Path) -> float:
    work = tmp / "bare"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(student_dir, work)
    notebook = next(work.glob("*.ipynb"))
    params = {"GRADING": True, "DATA_DIR": str(EXAM / "data" / "public"),
              "TEST_INPUTS": str(EXAM / "data" / "hidden" / "test_inputs.npy"),
              "PREDICTIONS_PATH": str(work / "predictions.npy"), "MODEL_PATH": str(work / "model.keras")}
    args = [str(Path(sys.executable).with_name("papermill")), str(notebook), str(work / "out.ipynb"),
            "--cwd", str(work), "-k", "python3"]
    for key, value in params.items():
        args += ["-y", json.dumps({key: value})]
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - started


def grader(student_dir: Path, tmp: Path) -> tuple[float, float]:
    subs, out = tmp / "subs", tmp / "out"
    shutil.rmtree(subs, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(student_dir, subs / student_dir.name)
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("grader")), "grade", str(EXAM), str(subs), "--out", str(out)],
                   check=True, capture_output=True)
    whole = time.perf_counter() - started
    record = json.loads((out / "results" / f"{student_dir.name}.json").read_text())
    if record["status"] != "ok":
        raise SystemExit(f"the submission did not grade ok: {record['failure']}: {record['message']}")
    return record["seconds"], whole


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--student", default="alice_strong_cnn")
    args = parser.parse_args(argv)
    student_dir = EXAM / "sample_submissions" / args.student
    subprocess.run([sys.executable, str(EXAM / "make_data.py")], check=True, capture_output=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.pairs):
            bare = bare_papermill(student_dir, Path(tmp))
            per_submission, whole = grader(student_dir, Path(tmp))
            rows.append((bare, per_submission, whole))
    table = Table(title=f"bare papermill vs grader grade, {args.student}, {args.pairs} alternating pairs (s)")
    for col in ("pair", "bare papermill", "grader per submission", "ratio", "grader whole command", "ratio"):
        table.add_column(col)
    for i, (bare, per, whole) in enumerate(rows, 1):
        table.add_row(str(i), f"{bare:.1f}", f"{per:.1f}", f"{per / bare:.2f}x", f"{whole:.1f}", f"{whole / bare:.2f}x")
    table.add_row("median", f"{statistics.median(r[0] for r in rows):.1f}",
                  f"{statistics.median(r[1] for r in rows):.1f}",
                  f"{statistics.median(r[1] / r[0] for r in rows):.2f}x",
                  f"{statistics.median(r[2] for r in rows):.1f}",
                  f"{statistics.median(r[2] / r[0] for r in rows):.2f}x")
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
