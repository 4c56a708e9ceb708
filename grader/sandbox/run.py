"""Run one command isolated from the grading machine, with resource limits.

Isolation uses bubblewrap (``bwrap``): new user, mount, pid, network, IPC, UTS and cgroup namespaces,
a read-only view of the system, a private HOME and /tmp, the scratch folder as the only persistent
writable place, and the grader's secrets (hidden labels, exam folder, other submissions, output folder,
the instructor's HOME ...) covered by empty file systems.

Limits use cgroups (v1 or v2) when a writable cgroup tree is available: memory (the OOM killer acts
inside the group and the grader reads the OOM count) and pids (processes *and threads*, as the kernel
counts them). Without cgroups, a watchdog polls the process tree with psutil (RSS and number of tasks)
and kills it: weaker, because a fast allocation can overshoot between two polls and a process that
escapes the tree (double fork + setsid) escapes the watchdog. File sizes use RLIMIT_FSIZE in the child
plus a size check of the scratch folder; the captured output is counted and capped by the grader.
The whole wall time is enforced by killing everything: the pid namespace (killing bubblewrap kills
every process inside), the cgroup, and the process group.

Never an address-space limit (RLIMIT_AS): TensorFlow reserves huge virtual ranges and would fail.

See the README, section "Security model", for what this protects against and what it does not.
"""

from __future__ import annotations

import functools
import glob
import logging
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: Where the student's HOME and scratch folder appear inside the sandbox.
SANDBOX_BASE = "/home" if os.path.isdir("/home") else "/tmp"
SANDBOX_HOME = f"{SANDBOX_BASE}/student"
SANDBOX_WORK = f"{SANDBOX_HOME}/work"
SANDBOX_UID = 1000

FAILURES = (
    "timeout",
    "out_of_memory",
    "too_many_processes",
    "output_too_large",
    "file_too_large",
    "sandbox_error",
)

_TAIL_BYTES = 64 * 1024  # how much of stdout / stderr the result keeps (the end of it)
_POLL = 0.1  # seconds between two checks of the running command
_SCAN_EVERY = 1.0  # seconds between two size checks of the scratch folder
_SCAN_MAX_ENTRIES = 200_000

# Host folders that are always covered inside the sandbox (sockets of system services, other users'
# files, temporary files of other programs). /tmp and the sandbox base (/home) get a private tmpfs.
_ALWAYS_HIDDEN = ("/run", "/var/run", "/var/tmp", "/root", "/var/lib/docker", "/var/spool")


class SandboxUnavailable(RuntimeError):
    """Raised by run_sandboxed(require_isolation=True) when bubblewrap cannot be used."""


class SandboxWarning(UserWarning):
    """Emitted when a command runs without filesystem / network isolation."""


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 900
    memory_bytes: int = 4 * 2**30
    max_processes: int = 256
    max_output_bytes: int = 50 * 2**20  # captured stdout/stderr and notebook outputs
    max_file_bytes: int = 500 * 2**20  # files written in scratch (RLIMIT_FSIZE per file + total size check)


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


# --------------------------------------------------------------------------------------------------
# messages


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
            f"The notebook wrote more than {_human_bytes(limits.max_file_bytes)} of files and was stopped. "
            "Save only the predictions and the model file."
        )
    if failure == "sandbox_error":
        return (
            "The grader could not run the notebook in its sandbox"
            + (f" ({detail})" if detail else "")
            + ". This is not a problem of your notebook; please tell your instructor."
        )
    return detail or failure


# --------------------------------------------------------------------------------------------------
# bubblewrap


def _bwrap_executable() -> str | None:
    """The bwrap program, or None. (Tests monkeypatch this to simulate a machine without it.)"""
    return shutil.which("bwrap")


_FEATURES: dict[str, set[str]] = {}  # bwrap path -> optional options it supports (older ones lack some)


@functools.lru_cache(maxsize=8)
def _probe(bwrap: str) -> tuple[bool, str, tuple[str, ...]]:
    """Try bwrap for real: (works, description or error, extra namespace flags that worked)."""
    try:
        version = subprocess.run(
            [bwrap, "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip() or "bubblewrap"
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"bwrap cannot be started: {exc}", ()
    try:
        helptext = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        helptext = ""
    _FEATURES[bwrap] = {f for f in ("--size", "--perms", "--disable-userns") if f in helptext}
    base = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all",
            "--die-with-parent", "--new-session"]
    attempts = [
        (("--unshare-user", "--disable-userns", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)),
         "user namespace"),
        (("--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)), "user namespace"),
        ((), "no user namespace"),
    ]
    if "--disable-userns" not in _FEATURES[bwrap]:
        attempts = attempts[1:]
    errors = []
    for extra, what in attempts:
        cmd = [bwrap, *base, *extra, "--cap-drop", "ALL", "--", "/bin/sh", "-c", "exit 0"]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.SubprocessError) as exc:
            errors.append(str(exc))
            continue
        if p.returncode == 0:
            return True, f"{version} ({what})", extra
        errors.append(p.stderr.strip() or f"exit status {p.returncode}")
    return False, "bwrap does not work here: " + "; ".join(dict.fromkeys(errors)), ()


def isolation_available() -> tuple[bool, str]:
    """(True, "bubblewrap 0.8.0 (user namespace)") or (False, why not)."""
    bwrap = _bwrap_executable()
    if not bwrap:
        return False, "bubblewrap (bwrap) is not installed"
    ok, what, _ = _probe(bwrap)
    return ok, what


_UNAVAILABLE_HELP = (
    "Without bubblewrap the notebook runs with resource limits only: it can read every file the "
    "grader can read (hidden labels included), write wherever the grader can write, and use the network. "
    "Install bubblewrap (apt-get install bubblewrap) and allow user namespaces "
    "(sysctl kernel.unprivileged_userns_clone=1 / kernel.apparmor_restrict_unprivileged_userns=0), "
    "or grade in a disposable VM or container, and use --require-sandbox to refuse to grade otherwise."
)
_warned = False


def _warn_unisolated(why: str) -> None:
    global _warned
    text = f"SANDBOX NOT ISOLATED: {why}. {_UNAVAILABLE_HELP}"
    log.warning(text)
    if not _warned:
        _warned = True
        warnings.warn(text, SandboxWarning, stacklevel=3)
        print("\n" + "!" * 100 + "\n" + text + "\n" + "!" * 100 + "\n", file=sys.stderr)


def _runtime_paths() -> list[Path]:
    """Folders the sandboxed grader runner needs even when they lie under a hidden folder."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)), str(Path(__file__).resolve().parent)}
    return sorted({Path(os.path.realpath(p)) for p in paths if p and os.path.isdir(p)})


def _is_under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def gpu_devices() -> list[str]:
    """NVIDIA and DRI device nodes present on this machine (bound into the sandbox when gpu=True)."""
    found = sorted(glob.glob("/dev/nvidia*")) + (["/dev/dri"] if os.path.exists("/dev/dri") else [])
    return [d for d in found if os.path.exists(d)]


def _bwrap_args(
    bwrap: str,
    ns_flags: Sequence[str],
    *,
    scratch: Path,
    readonly: Sequence[tuple[Path, str]],
    hide: Sequence[Path],
    env: Mapping[str, str],
    limits: Limits,
    devices: Sequence[str],
) -> list[str]:
    args = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for dev in devices:
        args += ["--dev-bind", dev, dev]
    features = _FEATURES.get(bwrap, set())
    tmp_size = ["--size", str(max(limits.max_file_bytes, 64 * 2**20))] if "--size" in features else []
    private = [Path("/tmp"), Path(SANDBOX_BASE)]
    for p in dict.fromkeys(private):
        args += [*tmp_size, "--tmpfs", str(p)]
    args += ["--dir", SANDBOX_HOME]

    # Hidden paths: resolved on the host (a symlink is hidden through its target), skipping those
    # already inside a private tmpfs. Folders get an empty tmpfs (made read-only at the end), files
    # /dev/null.
    hidden_dirs: list[Path] = []
    hidden_files: list[Path] = []
    user_hide = [Path(os.path.realpath(os.path.expanduser(str(h)))) for h in hide]
    candidates = [Path(os.path.realpath(p)) for p in (*_ALWAYS_HIDDEN, Path.home())] + user_hide
    for h in dict.fromkeys(candidates):
        if not os.path.lexists(h) or any(_is_under(h, p) for p in private):
            continue
        if h == Path("/"):
            raise ValueError("cannot hide /")
        (hidden_dirs if h.is_dir() else hidden_files).append(h)

    def hide_args(dirs: Iterable[Path], files: Iterable[Path]) -> list[str]:
        out: list[str] = []
        for d in dirs:
            out += ["--perms", "0755"] if "--perms" in features else []
            out += ["--size", str(2**20)] if "--size" in features else []
            out += ["--tmpfs", str(d)]
        for f in files:
            out += ["--ro-bind", "/dev/null", str(f)]
        return out

    # parents before children, so that a nested hide is not undone by its parent's tmpfs
    hidden_dirs.sort(key=lambda p: len(p.parts))
    args += hide_args(hidden_dirs, hidden_files)
    covered = hidden_dirs + private
    rebinds = [p for p in _runtime_paths() if any(_is_under(p, c) for c in covered)]
    rebinds.sort(key=lambda p: len(p.parts))
    for p in rebinds:
        args += ["--ro-bind", str(p), str(p)]
    # a hidden path inside something re-bound is hidden again
    args += hide_args(
        [d for d in hidden_dirs if any(_is_under(d, r) and d != r for r in rebinds)],
        [f for f in hidden_files if any(_is_under(f, r) for r in rebinds)],
    )

    args += ["--bind", str(scratch), SANDBOX_WORK]
    for src, dst in readonly:
        args += ["--ro-bind", str(Path(src).resolve()), str(dst)]
    for d in hidden_dirs:
        args += ["--remount-ro", str(d)]

    args += list(ns_flags)
    args += ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
             "--hostname", "sandbox", "--chdir", SANDBOX_WORK, "--clearenv"]
    for k, v in env.items():
        args += ["--setenv", k, v]
    return args


# --------------------------------------------------------------------------------------------------
# cgroups


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _kv(text: str) -> dict[str, int]:
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


def _own_cgroup(controller: str | None) -> str:
    """This process's cgroup path for a v1 controller, or the v2 path when controller is None."""
    for line in _read(Path("/proc/self/cgroup")).splitlines():
        hid, ctrls, path = line.split(":", 2)
        if controller is None and hid == "0":
            return path
        if controller is not None and controller in ctrls.split(","):
            return path
    return "/"


class _Cgroups:
    """Memory and pids cgroups for one run (v1 or v2); each controller may be missing."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.version = ""
        self.memory: Path | None = None
        self.pids: Path | None = None
        self.dirs: list[Path] = []
        name = f"grader-{os.getpid()}-{uuid.uuid4().hex[:10]}"
        root = Path("/sys/fs/cgroup")
        try:
            if (root / "cgroup.controllers").exists():
                self._setup_v2(root, name)
            else:
                self._setup_v1(root, name)
        except OSError as exc:  # pragma: no cover - depends on the machine
            log.info("cgroup setup failed: %s", exc)

    @staticmethod
    def _remove_stale(parent: Path) -> None:
        """Remove empty cgroups left by a grader process that was killed (its pid is gone)."""
        try:
            for d in parent.glob("grader-*-*"):
                pid = d.name.split("-")[1]
                if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                    try:
                        d.rmdir()
                    except OSError:
                        pass
        except OSError:
            pass

    # v1: one hierarchy per controller
    def _mkdir_v1(self, controller: str, name: str) -> Path | None:
        mount = Path("/sys/fs/cgroup") / controller
        if not (mount / "cgroup.procs").exists():
            return None
        for parent in (mount / _own_cgroup(controller).lstrip("/"), mount):
            if not parent.is_dir():
                continue
            self._remove_stale(parent)
            try:
                d = parent / name
                d.mkdir()
                self.dirs.append(d)
                return d
            except OSError:
                continue
        return None

    def _setup_v1(self, root: Path, name: str) -> None:
        mem = self._mkdir_v1("memory", name)
        if mem is not None:
            try:
                (mem / "memory.limit_in_bytes").write_text(str(self.limits.memory_bytes))
                if (mem / "memory.memsw.limit_in_bytes").exists():
                    try:
                        (mem / "memory.memsw.limit_in_bytes").write_text(str(self.limits.memory_bytes))
                    except OSError:
                        pass
                try:
                    (mem / "memory.swappiness").write_text("0")
                except OSError:
                    pass
                self.memory = mem
            except OSError as exc:
                log.info("memory cgroup v1 not usable: %s", exc)
        pids = self._mkdir_v1("pids", name)
        if pids is not None:
            try:
                (pids / "pids.max").write_text(str(self.limits.max_processes))
                self.pids = pids
            except OSError as exc:
                log.info("pids cgroup v1 not usable: %s", exc)
        if self.memory or self.pids:
            self.version = "v1"

    def _setup_v2(self, root: Path, name: str) -> None:
        own = root / _own_cgroup(None).lstrip("/")
        for parent in (own, root):
            self._remove_stale(parent)
            try:
                d = parent / name
                d.mkdir()
            except OSError:
                continue
            self.dirs.append(d)
            have = set(_read(d / "cgroup.controllers").split())
            if not {"memory", "pids"} <= have:
                try:  # only possible when the parent holds no process itself
                    (parent / "cgroup.subtree_control").write_text("+memory +pids")
                except OSError:
                    pass
            if (d / "memory.max").exists():
                (d / "memory.max").write_text(str(self.limits.memory_bytes))
                try:
                    (d / "memory.swap.max").write_text("0")
                except OSError:
                    pass
                self.memory = d
            if (d / "pids.max").exists():
                (d / "pids.max").write_text(str(self.limits.max_processes))
                self.pids = d
            if self.memory or self.pids:
                self.version = "v2"
                return
            self._rmdir(d)
            self.dirs.remove(d)

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in dict.fromkeys(x for x in (self.memory, self.pids) if x)]

    def describe(self) -> str:
        parts = [n for n, d in (("memory", self.memory), ("pids", self.pids)) if d]
        return f"cgroup {self.version} ({', '.join(parts)})" if parts else ""

    def members(self) -> set[int]:
        pids: set[int] = set()
        for f in self.procs_files:
            pids |= {int(x) for x in _read(Path(f)).split() if x.isdigit()}
        return pids

    def kill_all(self) -> None:
        for d in self.dirs:
            if (d / "cgroup.kill").exists():
                try:
                    (d / "cgroup.kill").write_text("1")
                except OSError:
                    pass
        for _ in range(100):
            members = self.members()
            if not members:
                return
            for pid in members:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)

    def oom_killed(self) -> bool:
        if self.memory is None:
            return False
        if self.version == "v1":
            ctl = _kv(_read(self.memory / "memory.oom_control"))
            if "oom_kill" not in ctl:  # kernels before 4.13: the limit was reached and held
                peak = self.peak_memory() or 0
                failcnt = _kv("failcnt " + _read(self.memory / "memory.failcnt").strip()).get("failcnt", 0)
                return failcnt > 0 and peak >= 0.98 * self.limits.memory_bytes
            return ctl.get("oom_kill", 0) > 0 or ctl.get("under_oom", 0) > 0
        return _kv(_read(self.memory / "memory.events")).get("oom_kill", 0) > 0

    def pids_limit_hit(self) -> bool:
        if self.pids is None:
            return False
        return _kv(_read(self.pids / "pids.events")).get("max", 0) > 0

    def peak_memory(self) -> int | None:
        if self.memory is None:
            return None
        f = "memory.max_usage_in_bytes" if self.version == "v1" else "memory.peak"
        text = _read(self.memory / f).strip()
        return int(text) if text.isdigit() else None

    @staticmethod
    def _rmdir(d: Path) -> None:
        for _ in range(50):
            try:
                d.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.05)
        log.warning("could not remove cgroup %s", d)

    def cleanup(self) -> None:
        self.kill_all()
        for d in reversed(self.dirs):
            self._rmdir(d)


# --------------------------------------------------------------------------------------------------
# running


# Joins the cgroups, sets the per-file size limit and execs the command (no preexec_fn: the grader
# may have threads).
_LAUNCHER = r"""
import ctypes, os, resource, signal, sys
cfg = sys.argv[1].split("\n") if sys.argv[1] else []
fsize = int(sys.argv[2])
# die with the grader (bubblewrap's --die-with-parent only ties the sandbox to bubblewrap)
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
except Exception:
    pass
if os.getppid() != int(sys.argv[3]):
    sys.exit(125)
for f in cfg:
    with open(f, "w") as fh:
        fh.write(str(os.getpid()))
resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
os.execvp(sys.argv[4], sys.argv[4:])
"""


class _Tail(threading.Thread):
    """Reads one pipe to its end, counting every byte and keeping only the tail."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.total = 0
        self.buf = bytearray()

    def run(self) -> None:
        try:
            while True:
                chunk = self.stream.read1(1 << 16) if hasattr(self.stream, "read1") else self.stream.read(1 << 16)
                if not chunk:
                    break
                self.total += len(chunk)
                self.buf += chunk
                if len(self.buf) > 2 * _TAIL_BYTES:
                    del self.buf[: len(self.buf) - _TAIL_BYTES]
        except (OSError, ValueError):
            pass

    def text(self) -> str:
        data = bytes(self.buf[-_TAIL_BYTES:])
        return data.decode("utf-8", errors="replace")


def _scan_size(root: Path, per_file_limit: int) -> tuple[int, bool]:
    """(total bytes of regular files under root, True if one file reached the per-file limit)."""
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
                    if seen > _SCAN_MAX_ENTRIES:
                        return total, at_limit
                    try:
                        st = e.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if stat.S_ISDIR(st.st_mode):
                        stack.append(e.path)
                    elif stat.S_ISREG(st.st_mode):
                        total += st.st_blocks * 512 if st.st_blocks * 512 < st.st_size else st.st_size
                        if st.st_size >= per_file_limit:
                            at_limit = True
        except OSError:
            continue
    return total, at_limit


def _tree(pid: int) -> list:
    import psutil

    try:
        p = psutil.Process(pid)
        return [p, *p.children(recursive=True)]
    except psutil.Error:
        return []


def _watchdog_usage(pid: int) -> tuple[int, int]:
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


def _kill_everything(proc: subprocess.Popen, cgroups: _Cgroups) -> None:
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


def _inside(arg: str, hosts: Sequence[str]) -> str:
    """A host path inside scratch, as the sandboxed command sees it."""
    for h in hosts:
        if arg == h or arg.startswith(h.rstrip("/") + "/"):
            return SANDBOX_WORK + arg[len(h.rstrip("/")):]
    return arg


def _default_env(home: str, extra: Mapping[str, str] | None) -> dict[str, str]:
    venv_bin = os.path.dirname(sys.executable)
    env = {
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
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
) -> SandboxResult:
    """Run ``cmd`` with ``scratch`` as its working directory, isolated and limited.

    Inside bubblewrap, ``scratch`` appears at SANDBOX_WORK, HOME is SANDBOX_HOME (a private tmpfs),
    /tmp is a private tmpfs, ``readonly`` binds host paths read-only at the given inside paths (put them
    under SANDBOX_HOME or over an existing path), and ``hide`` paths are covered (folders by an empty,
    read-only tmpfs, files by /dev/null). The environment is cleared: only a minimal one plus ``env``.
    Arguments of ``cmd`` that are host paths inside ``scratch`` are rewritten to SANDBOX_WORK paths.
    ``gpu=True`` binds /dev/nvidia* and /dev/dri; ``devices`` binds further device nodes.

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
            raise SandboxUnavailable(f"Cannot isolate the notebook: {why}. {_UNAVAILABLE_HELP}")
        _warn_unisolated(why)

    start = time.monotonic()
    fallback_home = None
    if ok:
        bwrap = _bwrap_executable()
        assert bwrap is not None
        _, _, ns_flags = _probe(bwrap)
        devs = list(dict.fromkeys([*(gpu_devices() if gpu else []), *devices]))
        argv = _bwrap_args(bwrap, ns_flags, scratch=scratch, readonly=readonly, hide=hide,
                           env=_default_env(SANDBOX_HOME, env), limits=limits, devices=devs)
        argv += ["--", *(_inside(a, (str(scratch), given)) for a in cmd)]
        run_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        cwd = str(scratch)
    else:
        fallback_home = tempfile.mkdtemp(prefix="grader-home-")
        argv = list(cmd)
        run_env = _default_env(fallback_home, env)
        cwd = str(scratch)

    cgroups = _Cgroups(limits)
    enforced = cgroups.describe()
    watch_memory = cgroups.memory is None
    watch_tasks = cgroups.pids is None
    if watch_memory or watch_tasks:
        enforced = ", ".join(x for x in (enforced, "watchdog (psutil)") if x)

    launcher = [sys.executable, "-S", "-c", _LAUNCHER, "\n".join(cgroups.procs_files),
                str(limits.max_file_bytes), str(os.getpid())]
    info_r, info_w = os.pipe() if ok else (-1, -1)
    if ok:
        argv[1:1] = ["--json-status-fd", str(info_w)]
    failure: str | None = None
    detail = ""
    returncode: int | None = None
    proc = None
    out = err = None
    try:
        try:
            proc = subprocess.Popen(
                launcher + argv, cwd=cwd, env=run_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, start_new_session=True, pass_fds=(info_w,) if ok else (),
            )
        except OSError as exc:
            failure, detail = "sandbox_error", f"cannot start: {exc}"
            return SandboxResult(None, failure, failure_message(failure, limits, detail),
                                 time.monotonic() - start, "", "", ok, enforced)
        finally:
            if info_w >= 0:
                os.close(info_w)
        out, err = _Tail(proc.stdout), _Tail(proc.stderr)
        out.start()
        err.start()
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
                total, at_limit = _scan_size(scratch, limits.max_file_bytes)
                if total > limits.max_file_bytes:
                    failure = "file_too_large"
                elif watch_memory or watch_tasks:
                    rss, tasks = _watchdog_usage(proc.pid)
                    if watch_memory and rss > limits.memory_bytes:
                        failure = "out_of_memory"
                    elif watch_tasks and tasks > limits.max_processes:
                        failure = "too_many_processes"
            if failure:
                _kill_everything(proc, cgroups)
                returncode = proc.wait()
                break
        # anything left behind (daemonised processes in the fallback) goes too
        cgroups.kill_all()
        out.join(timeout=5)
        err.join(timeout=5)
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
                total, at_limit = _scan_size(scratch, limits.max_file_bytes)
                if total > limits.max_file_bytes or at_limit:
                    failure = "file_too_large"
                elif not started and returncode != 0:
                    failure = "sandbox_error"
                    detail = err.text().strip().splitlines()[-1:] or ["bubblewrap failed"]
                    detail = detail[0][:300]
        elif failure == "timeout" and cgroups.oom_killed():
            failure = "out_of_memory"
        peak = cgroups.peak_memory()
    finally:
        if proc is not None and proc.poll() is None:
            _kill_everything(proc, cgroups)
            proc.wait()
        cgroups.cleanup()
        if info_r >= 0:
            os.close(info_r)
        if fallback_home:
            shutil.rmtree(fallback_home, ignore_errors=True)
        if proc is not None:
            for s in (proc.stdout, proc.stderr):
                try:
                    s.close()
                except OSError:
                    pass
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
    )


__all__ = [
    "FAILURES",
    "SANDBOX_HOME",
    "SANDBOX_WORK",
    "Limits",
    "SandboxResult",
    "SandboxUnavailable",
    "SandboxWarning",
    "failure_message",
    "gpu_devices",
    "isolation_available",
    "run_sandboxed",
]
