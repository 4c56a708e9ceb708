"""Limits of one sandboxed run, its result record, and the sentences a student reads about them."""

from __future__ import annotations

from dataclasses import dataclass

FAILURES = (
    "timeout",
    "out_of_memory",
    "too_many_processes",
    "output_too_large",
    "file_too_large",
    "sandbox_error",
)


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 900
    memory_bytes: int = 4 * 2**30
    max_processes: int = 256
    max_output_bytes: int = 50 * 2**20  # captured stdout/stderr and notebook outputs
    max_file_bytes: int = 500 * 2**20  # files written in scratch (RLIMIT_FSIZE per file + total size check)
    max_files: int = 10_000  # files and folders in scratch: many small files cost inodes and scan time


@dataclass
class SandboxResult:
    returncode: int | None
    failure: str | None  # None or one of FAILURES
    message: str  # a sentence a student can act on
    seconds: float
    stdout: str  # tail, capped
    stderr: str  # tail, capped
    isolated: bool  # True when bubblewrap was used
    limits_enforced_by: str = ""  # e.g. "cgroup v1 (memory, pids)" or "watchdog (psutil)"
    peak_memory_bytes: int | None = None
    report: bytes | None = None  # what the command wrote to its report pipe (see run_sandboxed)
    report_overflowed: bool = False  # the command wrote more than report_max_bytes to it




def _human_bytes(n: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} bytes"


def _human_seconds(s: float) -> str:
    if s >= 120:
        return f"{s / 60:.1f} minutes"
    return f"{s:g} seconds"


def failure_message(failure: str | None, limits: Limits, detail: str = "") -> str:
    """A sentence a student can act on, for one failure class of the sandbox."""
    if failure is None:
        return "The notebook ran to the end."
    if failure == "timeout":
        return (
            f"The notebook ran for more than {_human_seconds(limits.wall_seconds)} (the time limit for the "
            "whole notebook) and was stopped. Make it faster: fewer epochs, a smaller model, or less work "
            "when GRADING is True."
        )
    if failure == "out_of_memory":
        return (
            f"The notebook used more than {_human_bytes(limits.memory_bytes)} of memory and was stopped. "
            "Reduce batch size or model size, and do not keep copies of large arrays."
        )
    if failure == "too_many_processes":
        return (
            f"The notebook started more than {limits.max_processes} processes or threads and was stopped. "
            "Do not start many worker processes (e.g. multiprocessing, workers=, use_multiprocessing=True)."
        )
    if failure == "output_too_large":
        return (
            f"The notebook printed more than {_human_bytes(limits.max_output_bytes)} of output and was "
            "stopped. Print less: e.g. fit(..., verbose=2) or verbose=0, and no printing inside loops."
        )
    if failure == "file_too_large":
        return (
            f"The notebook wrote more than {_human_bytes(limits.max_file_bytes)} of files (or more than "
            f"{limits.max_files:,} files and folders) and was stopped. Save only the predictions and the "
            "model file."
        )
    if failure == "sandbox_error":
        return (
            "The grader could not run the notebook in its sandbox"
            + (f" ({detail})" if detail else "")
            + ". This is not a problem of your notebook; please tell your instructor."
        )
    return detail or failure


