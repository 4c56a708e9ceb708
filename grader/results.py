"""One record per graded submission, persisted atomically as it finishes.

``OUT/results/<student>.json`` is written with write-to-temp + fsync + rename, so a crash or
SIGKILL leaves either the old file or the new one, never half of one. A rerun reads them back
and skips every submission whose fingerprint is unchanged (grader/freshness.py says what it covers).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

FAILURE_CLASSES = {
    "invalid_submission": "the hand-in cannot be run (archive, no notebook, several notebooks)",
    "invalid_notebook": "the file is not a runnable notebook",
    "timeout": "the whole notebook ran past the time limit",
    "cell_timeout": "one cell ran past the per-cell time limit",
    "exception": "a cell raised an error",
    "dead_kernel": "the Python kernel died",
    "out_of_memory": "the notebook used more memory than allowed",
    "too_many_processes": "the notebook started too many processes",
    "output_too_large": "the notebook printed or displayed too much",
    "file_too_large": "the notebook wrote files over the size limit",
    "missing_predictions": "no predictions file was saved",
    "malformed_predictions": "the predictions file has the wrong format",
    "rule_broken": "an exam rule was broken",
    "sandbox_error": "the grader could not run the notebook (not the student's fault)",
    "grader_error": "the grader itself failed on this submission (not the student's fault)",
}


@dataclass
class Record:
    student: str
    name: str
    notebook: str | None
    fingerprint: str
    fingerprint_parts: dict[str, str] = field(default_factory=dict)  # see grader/freshness.py
    status: str = "ok"  # "ok" or "failed"
    failure: str | None = None  # a key of FAILURE_CLASSES
    message: str = ""
    metric: float | None = None
    metric_std: float | None = None  # across rounds, when the exam has rounds
    metric_rounds: list[float] | None = None  # the metric of each round
    parameters: int | None = None
    violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    quality: dict = field(default_factory=dict)  # QualityResult as a dict
    seconds: float = 0.0
    isolated: bool | None = None
    backend: str | None = None  # the Keras backend the notebook ran with
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage (grader grade --profile)

    @classmethod
    def from_dict(cls, data: dict) -> Record:
        """A saved record; keys of a newer or older grader version are dropped or defaulted."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def fail(self, failure: str, message: str) -> Record:
        self.status, self.failure, self.message = "failed", failure, message
        return self


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ResultStore:
    """The folder of per-submission records inside OUT_DIR."""

    def __init__(self, out_dir: Path):
        self.folder = Path(out_dir) / "results"

    def path(self, student: str) -> Path:
        return self.folder / f"{student}.json"

    def save(self, record: Record) -> None:
        atomic_write_text(self.path(record.student), json.dumps(dataclasses.asdict(record), indent=2))

    def load(self, student: str) -> Record | None:
        try:
            return Record.from_dict(json.loads(self.path(student).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None  # missing or unreadable: grade it again

    def all(self) -> list[Record]:
        records = [self.load(p.stem) for p in sorted(self.folder.glob("*.json"))]
        return [r for r in records if r is not None]
