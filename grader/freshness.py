"""What a saved result depends on, and what to redo when something changed.

A record keeps one hash per thing its grade depends on. On a rerun, the grader compares them with the
current ones and says what went stale:

| part          | what it covers                                                   | when it changed        |
|---------------|------------------------------------------------------------------|------------------------|
| hand-in       | the notebook and the declared files                              | run the notebook again |
| test inputs   | the hidden inputs the notebook predicts                          | run the notebook again |
| run settings  | [exam], [predictions], [limits] of exam.toml, the template       | run the notebook again |
| metric        | the metric's name and code (the exam's file, or grader/metrics/) | rescore the kept predictions |
| labels        | the hidden labels and round ids                                  | rescore the kept predictions |

Grading settings ([grading], [final], [deadline]) only change the reports, which are rebuilt on every run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from grader import safe_files
from grader.exam import Exam

RUN_PARTS = ("hand-in", "test inputs", "run settings")
SCORE_PARTS = ("metric", "labels")
MAX_HASHED_BYTES = 512 * 2**20  # a larger hand-in file is fingerprinted by its size and time, not read
_METRICS_PACKAGE = Path(__file__).resolve().parent / "metrics"


def _hash_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode("utf-8", "backslashreplace") + b"\0")
        digest.update(safe_files.hash_limited(path, MAX_HASHED_BYTES).encode())
    return digest.hexdigest()[:16]


def _hash_json(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def metric_files(exam: Exam) -> list[Path]:
    """The code that computes the exam's metric: its own file, or the grader's metrics package."""
    file = exam.metric.partition(":")[0]
    if file.endswith(".py") and (exam.folder / file).is_file():
        return [exam.folder / file]
    return sorted(_METRICS_PACKAGE.glob("*.py"))


def parts(handin: list[Path], exam: Exam) -> dict[str, str]:
    """One hash per thing the grade depends on (see the module docstring)."""
    run_settings = {k: exam.raw.get(k) for k in ("exam", "predictions", "limits")}
    return {
        "hand-in": _hash_files(sorted(handin)),
        "test inputs": _hash_files([exam.test_inputs]),
        "run settings": _hash_json([run_settings, _hash_files([exam.template]) if exam.template else None]),
        "metric": _hash_json([exam.metric, exam.raw.get("metric"), _hash_files(metric_files(exam))]),
        "labels": _hash_files([exam.test_labels, *([exam.test_rounds] if exam.test_rounds else [])]),
    }


def combined(fingerprint_parts: dict[str, str]) -> str:
    return _hash_json(fingerprint_parts)


def stale(saved: dict[str, str] | None, current: dict[str, str]) -> list[str]:
    """The parts that changed since the record was saved (all of them for a record of an older grader)."""
    if not saved:
        return list(current)
    return [name for name, value in current.items() if saved.get(name) != value]
