"""Watching a sandboxed run from outside: the scratch folder's size and entry count, the process tree's
memory and tasks (the watchdog, where cgroups are missing), and killing everything at a limit."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
from pathlib import Path

from grader.sandbox.cgroups import Cgroups
from grader.sandbox.limits import Limits


def scan_scratch(root: Path, limits: Limits) -> tuple[int, bool, int]:
    """(bytes of regular files under root, True if one file reached the per-file limit, entries seen).

    Stops counting one entry past ``limits.max_files``: that alone is a failure, and a folder of a
    million files must not make the grader walk it."""
    total = 0
    at_limit = False
    stack = [str(root)]
    seen = 0
    while stack:
        top = stack.pop()
        try:
            with os.scandir(top) as it:
                for e in it:
                    seen += 1
                    if seen > limits.max_files:
                        return total, at_limit, seen
                    try:
                        st = e.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if stat.S_ISDIR(st.st_mode):
                        stack.append(e.path)
                    elif stat.S_ISREG(st.st_mode):
                        total += st.st_blocks * 512 if st.st_blocks * 512 < st.st_size else st.st_size
                        if st.st_size >= limits.max_file_bytes:
                            at_limit = True
        except OSError:
            continue
    return total, at_limit, seen


def files_failure(root: Path, limits: Limits, final: bool) -> str | None:
    total, at_limit, count = scan_scratch(root, limits)
    if total > limits.max_file_bytes or count > limits.max_files or (final and at_limit):
        return "file_too_large"
    return None


def _tree(pid: int) -> list:
    import psutil

    try:
        p = psutil.Process(pid)
        return [p, *p.children(recursive=True)]
    except psutil.Error:
        return []


def watchdog_usage(pid: int) -> tuple[int, int]:
    """(RSS bytes, tasks = processes + threads) of the process tree under pid."""
    import psutil

    rss = tasks = 0
    for p in _tree(pid):
        try:
            rss += p.memory_info().rss
            tasks += p.num_threads()
        except psutil.Error:
            continue
    return rss, tasks


def kill_everything(proc: subprocess.Popen, cgroups: Cgroups) -> None:
    import psutil

    victims = _tree(proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher/bwrap process group (start_new_session)
    except OSError:
        pass
    for p in victims:
        try:
            p.kill()
        except psutil.Error:
            pass
    cgroups.kill_all()
