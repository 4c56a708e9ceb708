"""Grader throughput: a class of real Keras weights-mode submissions, --jobs 1 and --jobs N, against the floor.

    python -m benchmarks.grader_throughput [--students 40] [--jobs 2]

The class is generated from the sample exam's valid students (alice, bob, grace: their notebooks and
model.keras files, copied under new names), so every submission starts TensorFlow, loads a model and
predicts the 5,000 hidden images, as a real class would. The floor is what one submission cannot
avoid: a Python process that imports TensorFlow, loads the model and predicts, measured in the same
run. Prints seconds per submission for each job count, the ratio to the floor and the speed-up.
`--tiny` grades NumPy-only notebooks instead (the harness's own cost, without TensorFlow).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from rich.console import Console
from rich.table import Table

from grader.batch import grade_class

REPO = Path(__file__).resolve().parents[1]
EXAM = REPO / "exams" / "fashion-budget"
VALID = ("alice_strong_cnn", "bob_weak_mlp", "grace_no_params_cell")

FLOOR = """
import time, sys
t = time.perf_counter()
import numpy as np, keras
model = keras.saving.load_model(sys.argv[1])
x = np.load(sys.argv[2])
pred = np.argmax(model.predict(x, verbose=0), axis=-1)
print(time.perf_counter() - t)
"""


def _grade(exam: Path, subs: Path, out: Path, jobs: int) -> tuple[float, int]:
    started = time.perf_counter()
    records = grade_class(exam, subs, out, jobs=jobs)
    return time.perf_counter() - started, sum(r.status == "ok" for r in records)


def _keras_class(subs: Path, n: int) -> None:
    samples = EXAM / "sample_submissions"
    for i in range(n):
        source = samples / VALID[i % len(VALID)]
        target = subs / f"s{i:03d}"
        shutil.copytree(source, target)
        notebook = next(target.glob("*.ipynb"))
        notebook.rename(target / f"s{i:03d}.ipynb")


def _tiny_class(root: Path, subs: Path, n: int) -> Path:
    from tests.exam_factory import RULE, make_exam, student_notebook

    subs.mkdir()
    for i in range(n):
        nbformat.write(student_notebook(RULE, "np.save(PREDICTIONS_PATH, pred)"), subs / f"s{i:03d}.ipynb")
    return make_exam(root / "exam", max_parameters=None)


def floor_seconds() -> float:
    """Python start + TensorFlow import + load + predict of one sample model, in a fresh process."""
    model = EXAM / "sample_submissions" / VALID[0] / "model.keras"
    inputs = EXAM / "data" / "hidden" / "test_inputs.npy"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", FLOOR, str(model), str(inputs)], check=True, capture_output=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--tiny", action="store_true", help="NumPy-only notebooks (the harness's own cost)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        subs = root / "subs"
        if args.tiny:
            exam, floor = _tiny_class(root, subs, args.students), None
        else:
            subprocess.run([sys.executable, str(EXAM / "make_data.py")], check=True, capture_output=True)
            _keras_class(subs, args.students)
            exam, floor = EXAM, floor_seconds()
        kind = "tiny NumPy-only" if args.tiny else "Keras weights-mode"
        table = Table(title=f"Grading {args.students} {kind} submissions"
                      + (f" (floor: {floor:.1f} s = Python + TensorFlow import + load + predict)" if floor else ""))
        for col in ("jobs", "wall time", "per submission", "per submission / floor", "scored", "speed-up"):
            table.add_column(col, justify="right")
        base = None
        for jobs in (1, args.jobs):
            seconds, ok = _grade(exam, subs, root / f"out-{jobs}", jobs)
            base = base or seconds
            per = seconds / args.students
            table.add_row(str(jobs), f"{seconds:.0f} s", f"{per:.1f} s", f"{per / floor:.2f}x" if floor else "-",
                          f"{ok}/{args.students}", f"{base / seconds:.2f}x")
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
