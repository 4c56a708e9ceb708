"""The parameter count of a handed-in model file, computed in a child process with limits.

grader/model_params.py reads only the weight shapes, but it does so with libhdf5, a C library parsing
hostile bytes: one changed byte (a heap free list that points at itself) made it loop and allocate
8 GB in 20 s. So the trusted grader never parses the file itself: a sandboxed child (bubblewrap when
available, else a plain child with an address-space limit) does, under a time and memory limit, and
reports the count as one line of JSON. A child that fails, times out or runs out of memory means the
file is damaged.

    python -I -c BOOTSTRAP GRADER_PARENT MODEL_PATH   ->   {"parameters": 81234} | {"error": "..."}
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from grader.model_params import ModelFileError

SECONDS = 20
MEMORY_BYTES = 1 << 30
BOOTSTRAP = ("import sys; sys.path.append(sys.argv.pop(1)); from grader.model_count import main; "
             "sys.exit(main(sys.argv[1]))")


def main(path: str) -> int:
    from grader.model_params import count_parameters

    try:
        print(json.dumps({"parameters": count_parameters(Path(path))}))
    except ModelFileError as exc:
        print(json.dumps({"error": str(exc)}))
    return 0


def count_parameters_isolated(path: Path) -> int:
    """The parameter count of ``path``, or ModelFileError (damaged, hostile, too slow or too large)."""
    from grader import safe_files
    from grader.sandbox import PYTHON, SANDBOX_HOME, Limits, isolation_available, run_sandboxed

    parent = str(Path(__file__).resolve().parent.parent)
    name = Path(path).name
    try:  # never through a symlink: a bind mount would follow it
        os.close(safe_files.open_regular(path))
    except safe_files.UnsafeFile as exc:
        raise ModelFileError(f"{exc}; save the model itself with model.save(MODEL_PATH)") from exc
    with tempfile.TemporaryDirectory(prefix="grader-count-") as scratch:
        if isolation_available()[0]:
            inside = f"{SANDBOX_HOME}/model/{name}"
            result = run_sandboxed([PYTHON, "-I", "-c", BOOTSTRAP, parent, inside], scratch=Path(scratch),
                                   readonly=[(Path(path), inside)],
                                   limits=Limits(wall_seconds=SECONDS, memory_bytes=MEMORY_BYTES, max_processes=16))
            out, failure = result.stdout, result.failure
        else:
            out, failure = _unsandboxed(parent, str(path))
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if failure or not lines:
        why = {"timeout": f"it took more than {SECONDS} s to read", "out_of_memory":
               f"reading it needed more than {MEMORY_BYTES >> 20} MB"}.get(failure or "", "it cannot be read")
        raise ModelFileError(f"{name} looks damaged: {why}; save the model itself with model.save(MODEL_PATH)")
    info = json.loads(lines[-1])
    if "error" in info:
        raise ModelFileError(info["error"])
    return int(info["parameters"])


def _unsandboxed(parent: str, path: str) -> tuple[str, str | None]:
    """Without bubblewrap: a child with an address-space limit and a timeout, started from /."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES * 2, MEMORY_BYTES * 2))

    try:
        p = subprocess.run([os.path.abspath(sys.executable), "-I", "-c", BOOTSTRAP, parent, path],
                           capture_output=True, text=True, timeout=SECONDS, preexec_fn=limit, cwd="/")
    except subprocess.TimeoutExpired:
        return "", "timeout"
    return p.stdout, None if p.returncode == 0 else "out_of_memory"
