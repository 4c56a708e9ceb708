"""Run one command isolated from the grading machine, with resource limits.

Isolation uses bubblewrap (``bwrap``, see bwrap.py): new user, mount, pid, network, IPC, UTS and cgroup
namespaces, an allow-list file system, no capabilities and a seccomp filter (seccomp.py). Limits use
cgroups (cgroups.py) and fall back on a psutil watchdog. File sizes use RLIMIT_FSIZE in the child plus a
size and count check of the scratch folder; the captured output is counted and capped by the grader.
The whole wall time is enforced by killing everything: the pid namespace (killing bubblewrap kills
every process inside), the cgroup, and the process group.

Nothing from the scratch folder ever runs in a trusted process: the small launcher that joins the cgroups
and execs bubblewrap runs as ``python -I -S`` from ``/`` (no current folder or PYTHON* variable on its
import path), and bubblewrap enters the scratch folder only inside the sandbox.

Never an address-space limit (RLIMIT_AS): TensorFlow reserves huge virtual ranges and would fail.

See the README, section "Security model", for what this protects against and what it does not.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

from grader.sandbox import bwrap as bw
from grader.sandbox import seccomp
from grader.sandbox.cgroups import Cgroups
from grader.sandbox.limits import Limits, SandboxResult, failure_message
from grader.sandbox.watch import files_failure, kill_everything, watchdog_usage

log = logging.getLogger(__name__)

_TAIL_BYTES = 64 * 1024  # how much of stdout / stderr the result keeps (the end of it)
_POLL = 0.1  # seconds between two checks of the running command
_SCAN_EVERY = 0.25  # seconds between two size checks of the scratch folder
NEUTRAL_CWD = "/"  # where trusted helper processes start: never a folder a student wrote into
# this interpreter by an absolute path: commands run elsewhere (a sandbox, another cwd) still find it
PYTHON = os.path.abspath(sys.executable)


class SandboxUnavailable(RuntimeError):
    """Raised by run_sandboxed(require_isolation=True) when bubblewrap cannot be used."""


class SandboxWarning(UserWarning):
    """Emitted when a command runs without filesystem / network isolation."""


def isolation_available() -> tuple[bool, str]:
    """(True, "bubblewrap 0.8.0 (user namespace)") or (False, why not)."""
    bwrap = bw.bwrap_executable()
    if not bwrap:
        return False, "bubblewrap (bwrap) is not installed"
    ok, what, _ = bw.probe(bwrap)
    return ok, what


UNAVAILABLE_HELP = (
    "Without bubblewrap the notebook runs with resource limits only: it can read every file the "
    "grader can read (hidden labels included), write wherever the grader can write, and use the network. "
    "Install bubblewrap (apt-get install bubblewrap) and allow user namespaces "
    "(sysctl kernel.unprivileged_userns_clone=1 / kernel.apparmor_restrict_unprivileged_userns=0), "
    "or grade in a disposable VM or container, and use --require-sandbox to refuse to grade otherwise."
)
_warned = False


def _warn_unisolated(why: str) -> None:
    global _warned
    text = f"SANDBOX NOT ISOLATED: {why}. {UNAVAILABLE_HELP}"
    log.warning(text)
    if not _warned:
        _warned = True
        warnings.warn(text, SandboxWarning, stacklevel=3)
        print("\n" + "!" * 100 + "\n" + text + "\n" + "!" * 100 + "\n", file=sys.stderr)


# Joins the cgroups, sets the per-file size limit and execs the command (no preexec_fn: the grader
# may have threads). Run as `python -I -S -c` from NEUTRAL_CWD: it imports only the standard library.
_LAUNCHER = r"""
import ctypes, os, resource, signal, sys
cfg = sys.argv[1].split("\n") if sys.argv[1] else []
fsize, parent, chdir = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
# die with the grader (bubblewrap's --die-with-parent only ties the sandbox to bubblewrap)
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
except Exception:
    pass
if os.getppid() != parent:
    sys.exit(125)
for f in cfg:
    with open(f, "w") as fh:
        fh.write(str(os.getpid()))
resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
if chdir:
    os.chdir(chdir)
os.execvp(sys.argv[5], sys.argv[5:])
"""


class _Tail(threading.Thread):
    """Reads one pipe to its end, counting every byte and keeping only the tail (or, with
    ``keep_head``, the first ``keep_head`` bytes: the report of the runner)."""

    def __init__(self, stream, keep_head: int = 0):
        super().__init__(daemon=True)
        self.stream = stream
        self.keep_head = keep_head
        self.total = 0
        self.buf = bytearray()

    def run(self) -> None:
        read = getattr(self.stream, "read1", None) or self.stream.read
        try:
            while True:
                chunk = read(1 << 16)
                if not chunk:
                    break
                self.total += len(chunk)
                if self.keep_head:
                    if len(self.buf) < self.keep_head:
                        self.buf += chunk[: self.keep_head - len(self.buf)]
                    continue  # past the cap: drain, so the writer never blocks
                self.buf += chunk
                if len(self.buf) > 2 * _TAIL_BYTES:
                    del self.buf[: len(self.buf) - _TAIL_BYTES]
        except (OSError, ValueError):
            pass

    @property
    def overflowed(self) -> bool:
        return bool(self.keep_head) and self.total > self.keep_head

    def text(self) -> str:
        data = bytes(self.buf[-_TAIL_BYTES:])
        return data.decode("utf-8", errors="replace")


def _inside(arg: str, hosts: Sequence[str]) -> str:
    """A host path inside scratch, as the sandboxed command sees it."""
    for h in hosts:
        if arg == h or arg.startswith(h.rstrip("/") + "/"):
            return bw.SANDBOX_WORK + arg[len(h.rstrip("/")):]
    return arg


def _default_env(home: str, extra: Mapping[str, str] | None) -> dict[str, str]:
    venv_bin = os.path.dirname(PYTHON)
    env = {
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "USER": "student",
        "LOGNAME": "student",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "MPLBACKEND": "Agg",
        "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow"),
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
    }
    if extra:
        env.update({str(k): str(v) for k, v in extra.items()})
    return env


def run_sandboxed(
    cmd: list[str],
    *,
    scratch: Path,
    readonly: Sequence[tuple[Path, str]] = (),
    hide: Sequence[Path] = (),
    limits: Limits,
    env: Mapping[str, str] | None = None,
    require_isolation: bool = False,
    gpu: bool = False,
    devices: Sequence[str] = (),
    report_max_bytes: int = 0,
) -> SandboxResult:
    """Run ``cmd`` with ``scratch`` as its working directory, isolated and limited.

    Inside bubblewrap, ``scratch`` appears at SANDBOX_WORK, HOME is SANDBOX_HOME (a private tmpfs),
    /tmp is a private tmpfs, ``readonly`` binds host paths read-only at the given inside paths (under
    SANDBOX_HOME, or over a file of scratch to make it read-only), and ``hide`` paths inside anything
    bound are covered (folders by an empty, read-only tmpfs, files by /dev/null). The environment is
    cleared: only a minimal one plus ``env``. Arguments of ``cmd`` that are host paths inside ``scratch``
    are rewritten to SANDBOX_WORK paths. ``gpu=True`` binds /dev/nvidia* and /dev/dri; ``devices``
    binds further device nodes.

    ``report_max_bytes`` > 0 opens a pipe whose write end the command finds in the environment variable
    GRADER_REPORT_FD; the first ``report_max_bytes`` written to it come back as ``result.report``
    (None if more was written). It is the runner's channel to the grader: unlike a file in scratch, the
    notebook cannot forge it (see _run_in_sandbox.py).

    Without bubblewrap (see isolation_available), raises SandboxUnavailable if ``require_isolation``;
    otherwise warns loudly and runs ``cmd`` directly in ``scratch`` with the limits only: ``readonly``
    and ``hide`` are ignored there, so the command must use host paths (see execute.py).
    """
    given = str(Path(scratch))
    scratch = Path(scratch).resolve()
    if not scratch.is_dir():
        raise FileNotFoundError(f"scratch folder {scratch} does not exist")
    ok, why = isolation_available()
    if not ok:
        if require_isolation:
            raise SandboxUnavailable(f"Cannot isolate the notebook: {why}. {UNAVAILABLE_HELP}")
        _warn_unisolated(why)

    start = time.monotonic()
    private = Path(tempfile.mkdtemp(prefix="grader-box-"))  # trusted: synthetic /etc files, fallback HOME
    fds_to_close: list[int] = []
    report_r = report_w = -1
    extra_env = dict(env or {})
    if report_max_bytes > 0:
        report_r, report_w = os.pipe()
        fds_to_close.append(report_w)
        extra_env["GRADER_REPORT_FD"] = str(report_w)
    info_r = info_w = -1
    if ok:
        bwrap = bw.bwrap_executable()
        assert bwrap is not None
        _, _, ns_flags = bw.probe(bwrap)
        try:
            seccomp_fd: int | None = seccomp.open_filter()
            fds_to_close.append(seccomp_fd)
        except seccomp.SeccompUnavailable as exc:
            if require_isolation:
                raise SandboxUnavailable(f"Cannot filter system calls: {exc}. Install libseccomp2 and "
                                         "pyseccomp (requirements.txt).") from exc
            log.warning("sandbox without a seccomp filter: %s", exc)
            seccomp_fd = None
        devs = list(dict.fromkeys([*(bw.gpu_devices() if gpu else []), *devices]))
        argv = bw.build_args(bwrap, ns_flags, scratch=scratch, identity_dir=private, readonly=readonly,
                             hide=hide, env=_default_env(bw.SANDBOX_HOME, extra_env),
                             max_tmp_bytes=limits.max_file_bytes, devices=devs, seccomp_fd=seccomp_fd)
        argv += ["--", *(_inside(a, (str(scratch), given)) for a in cmd)]
        info_r, info_w = os.pipe()
        fds_to_close.append(info_w)
        argv[1:1] = ["--json-status-fd", str(info_w)]
        run_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        chdir = ""  # bubblewrap enters SANDBOX_WORK inside the sandbox
    else:
        argv = list(cmd)
        run_env = _default_env(str(private), extra_env)
        chdir = str(scratch)  # no sandbox: only the command itself (never the launcher) starts there

    cgroups = Cgroups(limits)
    enforced = cgroups.describe()
    if ok:
        enforced = ", ".join(x for x in (enforced, "seccomp" if seccomp_fd is not None else "") if x)
    watch_memory = cgroups.memory is None
    watch_tasks = cgroups.pids is None
    if watch_memory or watch_tasks:
        enforced = ", ".join(x for x in (enforced, "watchdog (psutil)") if x)

    launcher = [PYTHON, "-I", "-S", "-c", _LAUNCHER, "\n".join(cgroups.procs_files),
                str(limits.max_file_bytes), str(os.getpid()), chdir]
    failure: str | None = None
    detail = ""
    returncode: int | None = None
    proc = None
    out = err = report = None
    try:
        try:
            proc = subprocess.Popen(
                launcher + argv, cwd=NEUTRAL_CWD, env=run_env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                pass_fds=tuple(fds_to_close),
            )
        except OSError as exc:
            failure, detail = "sandbox_error", f"cannot start: {exc}"
            return SandboxResult(None, failure, failure_message(failure, limits, detail),
                                 time.monotonic() - start, "", "", ok, enforced)
        finally:
            for fd in fds_to_close:
                os.close(fd)
        out, err = _Tail(proc.stdout), _Tail(proc.stderr)
        out.start()
        err.start()
        if report_r >= 0:
            report = _Tail(os.fdopen(report_r, "rb", buffering=0), keep_head=report_max_bytes)
            report_r = -1  # owned by the reader now
            report.start()
        next_scan = time.monotonic() + _SCAN_EVERY
        while True:
            try:
                returncode = proc.wait(timeout=_POLL)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if now - start > limits.wall_seconds:
                failure = "timeout"
            elif out.total + err.total > limits.max_output_bytes:
                failure = "output_too_large"
            elif cgroups.pids_limit_hit():
                failure = "too_many_processes"
            elif now >= next_scan:
                next_scan = now + _SCAN_EVERY
                failure = files_failure(scratch, limits, final=False)
                if failure is None and (watch_memory or watch_tasks):
                    rss, tasks = watchdog_usage(proc.pid)
                    if watch_memory and rss > limits.memory_bytes:
                        failure = "out_of_memory"
                    elif watch_tasks and tasks > limits.max_processes:
                        failure = "too_many_processes"
            if failure:
                kill_everything(proc, cgroups)
                returncode = proc.wait()
                break
        # anything left behind (daemonised processes in the fallback) goes too
        cgroups.kill_all()
        out.join(timeout=5)
        err.join(timeout=5)
        if report is not None:
            report.join(timeout=10)
        started = True
        if ok:
            try:
                os.set_blocking(info_r, False)
                started = b'"exit-code"' in os.read(info_r, 65536)
            except OSError:
                started = False
        if failure is None:
            if cgroups.oom_killed():
                failure = "out_of_memory"
            elif cgroups.pids_limit_hit():
                failure = "too_many_processes"
            elif out.total + err.total > limits.max_output_bytes:
                failure = "output_too_large"
            else:
                failure = files_failure(scratch, limits, final=True)
                if failure is None and not started and returncode != 0:
                    failure = "sandbox_error"
                    detail = (err.text().strip().splitlines()[-1:] or ["bubblewrap failed"])[0][:300]
        elif failure == "timeout" and cgroups.oom_killed():
            failure = "out_of_memory"
        peak = cgroups.peak_memory()
    finally:
        if proc is not None and proc.poll() is None:
            kill_everything(proc, cgroups)
            proc.wait()
        cgroups.cleanup()
        for fd in (info_r, report_r):
            if fd >= 0:
                os.close(fd)
        shutil.rmtree(private, ignore_errors=True)
        if proc is not None:
            for s in (proc.stdout, proc.stderr):
                try:
                    s.close()
                except OSError:
                    pass
    report_bytes = None
    if report is not None and not report.overflowed and report.total:
        report_bytes = bytes(report.buf)
    return SandboxResult(
        returncode=returncode,
        failure=failure,
        message=failure_message(failure, limits, detail),
        seconds=time.monotonic() - start,
        stdout=out.text() if out else "",
        stderr=err.text() if err else "",
        isolated=ok,
        limits_enforced_by=enforced,
        peak_memory_bytes=peak,
        report=report_bytes,
        report_overflowed=report is not None and report.overflowed,
    )
