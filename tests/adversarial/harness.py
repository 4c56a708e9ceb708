"""Shared set-up for the sandbox tests: a fake exam and output folder the sandbox must hide."""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np

from grader.execute import ExecutionResult, execute_submission
from grader.sandbox import Limits

from . import fixtures

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable


def _visible_base() -> Path:
    """A writable folder inside the Python environment, which the sandbox binds read-only: a secret
    placed there is visible unless `hide` covers it, so hiding is really tested."""
    base = Path(sys.prefix) / "share" / "dl-course-kit-sandbox-tests"
    base.mkdir(parents=True, exist_ok=True)
    return base


def _unbound_base() -> Path:
    """A folder the allow-list sandbox never binds (the repository's build folder)."""
    base = REPO / "build" / "sandbox-tests"
    base.mkdir(parents=True, exist_ok=True)
    return base


@contextmanager
def unbound_dir(prefix: str) -> Iterator[Path]:
    """A folder outside everything the sandbox binds: invisible inside without any `hide`."""
    d = Path(tempfile.mkdtemp(prefix=prefix, dir=_unbound_base()))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@contextmanager
def visible_dir(prefix: str) -> Iterator[Path]:
    """A folder the sandbox would show if it were not hidden, so hiding is really tested."""
    d = Path(tempfile.mkdtemp(prefix=prefix, dir=_visible_base()))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@dataclass
class FakeExam:
    root: Path
    marker: bytes  # the secret: only in the hidden labels

    @property
    def folder(self) -> Path:
        return self.root / "exam"

    @property
    def public(self) -> Path:
        return self.folder / "data" / "public"

    @property
    def test_inputs(self) -> Path:
        return self.folder / "data" / "hidden" / "test_inputs.npy"

    @property
    def labels(self) -> Path:
        return self.folder / "data" / "hidden" / "test_labels.npy"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def other_result(self) -> Path:
        return self.out / "results" / "alice.json"

    @property
    def submissions(self) -> Path:
        return self.root / "submissions"

    def hide(self) -> list[Path]:
        return [self.folder, self.out, self.submissions]

    def run(self, name: str, *, limits: Limits | None = None, cell_timeout: float = 60,
            attack: dict | None = None, student: str = "bob") -> ExecutionResult:
        files = []
        sub = self.submissions / student
        sub.mkdir(parents=True, exist_ok=True)
        if attack is not None:
            (sub / "attack.json").write_text(json.dumps(attack))
            files.append(sub / "attack.json")
        nb = sub / "submission.ipynb"
        shutil.copyfile(fixtures.path(name), nb)
        return execute_submission(
            nb, student_files=files, public_data=self.public, test_inputs=self.test_inputs,
            work_dir=self.out / "work" / student, limits=limits or Limits(wall_seconds=180),
            cell_timeout=cell_timeout, hide=self.hide(),
        )


@contextmanager
def fake_exam() -> Iterator[FakeExam]:
    with visible_dir("exam-") as root:
        exam = FakeExam(root, secrets.token_hex(16).encode())
        exam.public.mkdir(parents=True)
        (exam.public / "README.txt").write_text("public data\n")
        exam.test_inputs.parent.mkdir(parents=True)
        np.save(exam.test_inputs, np.arange(60, dtype=np.float32).reshape(6, 10))
        np.save(exam.labels, np.array([exam.marker]))
        exam.other_result.parent.mkdir(parents=True)
        exam.other_result.write_text('{"student": "alice", "metric": 0.91}')
        yield exam


@contextmanager
def loopback_server() -> Iterator[dict]:
    """A TCP server on the host's 127.0.0.1: accepts at most one connection, for at most 30 s."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(30)
    state = {"port": srv.getsockname()[1], "accepted": 0}

    def serve() -> None:
        try:
            conn, _ = srv.accept()
            state["accepted"] += 1
            conn.close()
        except OSError:
            pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield state
    finally:
        try:
            srv.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        srv.close()
        t.join(timeout=5)


def printed_outputs(path) -> str:
    """What an executed notebook printed (its outputs, not its source), as one searchable string."""
    nb = nbformat.read(path, as_version=4)
    return json.dumps([c.get("outputs", []) for c in nb.cells])
