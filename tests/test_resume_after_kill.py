"""Nothing lost: SIGKILL the grader mid-batch, rerun, get the same grades as an uninterrupted run,
without executing again the submissions that had finished."""

import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from tests.exam_factory import RULE, make_exam, student_notebook

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

CLASS = {
    "amy": [RULE, "np.save(PREDICTIONS_PATH, pred)"],
    "ben": [RULE, "pred[::3] = 0\nnp.save(PREDICTIONS_PATH, pred)"],
    "cat": [RULE, "raise RuntimeError('oops')"],
    "dan": [RULE, "pred[::2] = 2\nnp.save(PREDICTIONS_PATH, pred)"],
}


def grade_cmd(exam, subs, out):
    return [sys.executable, "-m", "grader.cli", "grade", str(exam), str(subs), "--out", str(out), "--jobs", "1"]


def snapshot(out):
    """Each saved record's modification time and content."""
    folder = out / "results"
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.glob("*.json")} if folder.exists() else {}


def test_sigkill_then_rerun_gives_the_same_grades(tmp_path):
    exam = make_exam(tmp_path / "exam", max_parameters=None)
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, code in CLASS.items():
        nbformat.write(student_notebook(*code), subs / f"{name}.ipynb")

    reference = tmp_path / "reference"
    subprocess.run(grade_cmd(exam, subs, reference), check=True, capture_output=True, timeout=600)

    out = tmp_path / "interrupted"
    # First kill 3 s in (start-up, nothing finished), then once two records are saved (mid-batch).
    for stop_when in (lambda elapsed: elapsed > 3, lambda elapsed: len(snapshot(out)) >= 2):
        proc = subprocess.Popen(grade_cmd(exam, subs, out), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        started = time.monotonic()
        while proc.poll() is None and time.monotonic() - started < 300 and not stop_when(time.monotonic() - started):
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)  # the grader, its workers and their sandboxes
        proc.wait()
    finished_before = snapshot(out)
    assert 2 <= len(finished_before) < len(CLASS), "the kill should land mid-batch"

    rerun = subprocess.run(grade_cmd(exam, subs, out), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"{len(finished_before)} already graded" in rerun.stdout
    after = snapshot(out)
    for name, state in finished_before.items():
        assert after[name] == state, f"{name} was executed again"
    assert (out / "grades.csv").read_text() == (reference / "grades.csv").read_text()
    assert not list((out / "results").glob(".*.tmp")), "no half-written record is left visible"
