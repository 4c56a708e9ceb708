"""Proof, before grading, that the sandbox hides what it must: every hidden path is invisible inside,
and /proc's kernel knobs are read-only. Run once per grading process (see batch.check_hidden)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from grader.sandbox import bwrap as bw
from grader.sandbox.limits import Limits
from grader.sandbox.run import PYTHON, SandboxUnavailable, run_sandboxed

_VISIBILITY_CHECK = r"""
import json, os, sys
# a folder that only holds the way to a bound runtime path (e.g. a student kit's own grader package
# inside the exam folder) shows nothing of its own
runtime = json.loads(sys.argv[2])
def only_runtime(folder, entries):
    return all(any(r == os.path.join(folder, e) or r.startswith(os.path.join(folder, e) + "/") for r in runtime)
               for e in entries)
visible = []
for p in json.loads(sys.argv[1]):
    try:
        if os.path.isdir(p):
            entries = os.listdir(p)
            if entries and not only_runtime(p, entries):
                visible.append(p)
        elif os.path.exists(p):
            with open(p, "rb") as fh:
                if fh.read(1):
                    visible.append(p)
    except OSError:
        pass
try:  # /proc's kernel knobs must be read-only (a root grader's sandbox user is host uid 0)
    os.close(os.open("/proc/sys/kernel/core_pattern", os.O_WRONLY))
    visible.append("/proc/sys/kernel/core_pattern (writable)")
except OSError:
    pass
print(json.dumps(visible))
"""


def verify_hidden(paths: Sequence[Path], *, readonly: Sequence[tuple[Path, str]] = (),
                  hide: Sequence[Path] = ()) -> list[str]:
    """The paths (host paths, and where binds put them inside) that a sandboxed process can still
    read: an empty list means every one is really hidden. Run before grading; not for the fallback."""
    binds = bw.system_binds() + [(Path(s).resolve(), d) for s, d in readonly]
    candidates: list[str] = []
    for p in paths:
        candidates.append(str(Path(os.path.expanduser(str(p))).absolute()))
        candidates += bw.inside_paths(Path(os.path.expanduser(str(p))), binds)
    candidates = list(dict.fromkeys(candidates))
    with tempfile.TemporaryDirectory(prefix="grader-verify-") as scratch:
        runtime = [str(p) for p in bw.runtime_paths()]
        result = run_sandboxed([PYTHON, "-I", "-S", "-c", _VISIBILITY_CHECK, json.dumps(candidates),
                                json.dumps(runtime)],
                               scratch=Path(scratch), readonly=readonly, hide=hide,
                               limits=Limits(wall_seconds=60, memory_bytes=512 * 2**20), require_isolation=True)
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("[")]
    if result.failure or not lines:
        raise SandboxUnavailable(f"cannot check what the sandbox hides: {result.message} {result.stderr[-300:]}")
    return json.loads(lines[-1])
