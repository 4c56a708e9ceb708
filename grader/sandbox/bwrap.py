"""bubblewrap's command line: an allow-list file system, namespaces, no capabilities.

The sandbox starts from an empty root and binds, read-only, only what a Python kernel needs:
``/usr`` (with the merged-/usr symlinks /bin, /lib ...), a few files of ``/etc`` (the dynamic loader's
cache, fonts, time zone), the Python environment the grader runs in, and the grader package itself.
Synthetic ``/etc/passwd``, ``/etc/group`` and ``/etc/hosts`` name the sandbox user. On top come what
the caller binds (the staged test inputs, the public data, the handed-in files, read-only) and the
scratch folder, the only persistent writable place. Everything else (the exam folder with its labels,
the output folder, other submissions, HOME, /root, /run, /var ...) is simply not there.

``hide`` covers paths *inside* something bound (e.g. a dataset bundled in site-packages, or Debian's
/usr/share/datasets): folders by an empty read-only tmpfs, files by /dev/null. ``verify_hidden`` in
run.py proves at start-up that each one is really invisible.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

#: Where the student's HOME and scratch folder appear inside the sandbox.
SANDBOX_BASE = "/home"
SANDBOX_HOME = f"{SANDBOX_BASE}/student"
SANDBOX_WORK = f"{SANDBOX_HOME}/work"
SANDBOX_UID = 1000

# What of /etc a Python kernel (and TensorFlow, matplotlib, jupyter) reads; nothing else of /etc exists.
ETC_ENTRIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "fonts", "localtime", "timezone", "nsswitch.conf",
               "alternatives", "mime.types", "os-release", "gai.conf", "host.conf", "protocols", "services",
               "matplotlibrc")
# Top-level folders that are symlinks into /usr on merged-/usr systems, or real folders elsewhere.
SYSTEM_DIRS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")

_PASSWD = f"student:x:{SANDBOX_UID}:{SANDBOX_UID}:student:{SANDBOX_HOME}:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"
_GROUP = f"student:x:{SANDBOX_UID}:\nnogroup:x:65534:\n"
_HOSTS = "127.0.0.1 localhost sandbox\n::1 localhost ip6-localhost\n"


def bwrap_executable() -> str | None:
    """The bwrap program, or None. (Tests monkeypatch this to simulate a machine without it.)"""
    return shutil.which("bwrap")


FEATURES: dict[str, set[str]] = {}  # bwrap path -> optional options it supports (older ones lack some)


def runtime_paths() -> list[Path]:
    """The Python environment and the grader package: bound read-only at their own paths.

    Only the grader package folder itself, never the folder above it: in a checkout of this repository
    that folder also holds the exams and their hidden labels."""
    package = Path(__file__).resolve().parent.parent
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)), str(package)}
    out: set[Path] = set()
    for p in paths:
        if p and os.path.isdir(p):
            out.add(Path(os.path.abspath(p)))
            out.add(Path(os.path.realpath(p)))
    # a path inside another bound path needs no bind of its own
    return sorted(p for p in out if not any(q != p and q in p.parents for q in out))


def _system_entries() -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
    """(read-only binds, symlinks) of the system: /usr, the merged-/usr links, a little of /etc."""
    binds: list[tuple[Path, str]] = [(Path("/usr"), "/usr")]
    links: list[tuple[str, str]] = []
    for p in [Path("/") / n for n in SYSTEM_DIRS] + [Path("/etc") / n for n in ETC_ENTRIES]:
        if p.is_symlink():
            links.append((os.readlink(p), str(p)))
        elif p.exists():
            binds.append((p, str(p)))
    return binds, links


def system_binds() -> list[tuple[Path, str]]:
    """Host paths bound into every sandbox: the system and the Python runtime."""
    return _system_entries()[0] + [(p, str(p)) for p in runtime_paths()]


def system_args() -> list[str]:
    """bubblewrap options for the system part of the file system, plus /dev and /proc."""
    binds, links = _system_entries()
    args: list[str] = []
    for src, dest in binds:
        args += ["--ro-bind", str(src), dest]
    for target, dest in links:
        args += ["--symlink", target, dest]
    return [*args, "--dev", "/dev", "--proc", "/proc"]


# Kernel interfaces under /proc a sandboxed process must not change or read, as Docker and Flatpak mask
# them. When the grader runs as root, the sandbox user is host uid 0 without capabilities, and sysctl
# permission checks look only at the uid: a writable /proc/sys would let a notebook set
# kernel.core_pattern and have the kernel run its script as root on the host.
PROC_READ_ONLY = ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs")
PROC_MASKED = ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/latency_stats",
               "/proc/timer_stats", "/proc/kallsyms", "/proc/kmsg", "/proc/config.gz")


def proc_args() -> list[str]:
    """Read-only binds over /proc's kernel knobs and /dev/null over its kernel secrets (after --proc)."""
    args: list[str] = []
    for path in PROC_READ_ONLY:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    for path in PROC_MASKED:
        if os.path.exists(path):
            args += ["--ro-bind", "/dev/null", path]
    return args


def write_identity_files(folder: Path) -> list[str]:
    """Synthetic /etc/passwd, /etc/group, /etc/hosts, /etc/hostname (no host accounts or names leak)."""
    files = {"passwd": _PASSWD, "group": _GROUP, "hosts": _HOSTS, "hostname": "sandbox\n"}
    args = []
    for name, text in files.items():
        (folder / name).write_text(text)
        args += ["--ro-bind", str(folder / name), f"/etc/{name}"]
    return args


@functools.lru_cache(maxsize=8)
def probe(bwrap: str) -> tuple[bool, str, tuple[str, ...]]:
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
    FEATURES[bwrap] = {f for f in ("--size", "--perms", "--disable-userns") if f in helptext}
    base = [*system_args(), "--unshare-all", "--die-with-parent", "--new-session"]
    uid = ("--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID))
    attempts = [
        (("--unshare-user", "--disable-userns", *uid), "user namespace"),
        (("--unshare-user", *uid), "user namespace"),
        ((), "no user namespace"),
    ]
    if "--disable-userns" not in FEATURES[bwrap]:
        attempts = attempts[1:]
    errors = []
    for extra, what in attempts:
        cmd = [bwrap, *base, *extra, "--cap-drop", "ALL", "--", "/bin/sh", "-c", "exit 0"]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=20, cwd="/")
        except (OSError, subprocess.SubprocessError) as exc:
            errors.append(str(exc))
            continue
        if p.returncode == 0:
            return True, f"{version} ({what})", extra
        errors.append(p.stderr.strip() or f"exit status {p.returncode}")
    return False, "bwrap does not work here: " + "; ".join(dict.fromkeys(errors)), ()


def _is_under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def gpu_devices() -> list[str]:
    """NVIDIA and DRI device nodes present on this machine (bound into the sandbox when gpu=True)."""
    found = sorted(glob.glob("/dev/nvidia*")) + (["/dev/dri"] if os.path.exists("/dev/dri") else [])
    return [d for d in found if os.path.exists(d)]


def inside_paths(host_path: Path, binds: Sequence[tuple[Path, str]]) -> list[str]:
    """Where a host path appears inside the sandbox, through each bind that contains it."""
    found = []
    real = Path(os.path.realpath(host_path))
    for src, dest in binds:
        for candidate in dict.fromkeys((Path(os.path.abspath(host_path)), real)):
            if _is_under(candidate, src):
                found.append(str(Path(dest) / candidate.relative_to(src)))
    return list(dict.fromkeys(found))


def build_args(
    bwrap: str,
    ns_flags: Sequence[str],
    *,
    scratch: Path,
    identity_dir: Path,
    readonly: Sequence[tuple[Path, str]],
    hide: Sequence[Path],
    env: Mapping[str, str],
    max_tmp_bytes: int,
    devices: Sequence[str],
    seccomp_fd: int | None,
) -> list[str]:
    """The full bwrap command line, up to (not including) ``--`` and the command."""
    features = FEATURES.get(bwrap, set())
    args = [bwrap, *system_args(), *proc_args(), *write_identity_files(identity_dir)]
    for dev in devices:
        args += ["--dev-bind", dev, dev]
    tmp_size = ["--size", str(max(max_tmp_bytes, 64 * 2**20))] if "--size" in features else []
    args += [*tmp_size, "--tmpfs", "/tmp", *tmp_size, "--tmpfs", SANDBOX_BASE, "--dir", SANDBOX_HOME]

    for p in runtime_paths():
        args += ["--ro-bind", str(p), str(p)]
    args += ["--bind", str(scratch), SANDBOX_WORK]
    caller = [(Path(src).resolve(), str(dst)) for src, dst in readonly]
    for src, dest in caller:  # after scratch: a handed-in file may sit over its copy in scratch
        args += ["--ro-bind", str(src), dest]
    binds = system_binds() + caller

    # `hide` only matters inside something bound; parents before children so a nested hide survives
    targets: list[tuple[str, bool]] = []
    for h in hide:
        h = Path(os.path.expanduser(str(h)))
        if not os.path.lexists(h):
            continue
        for inside in inside_paths(h, binds):
            targets.append((inside, os.path.isdir(h)))
    for inside, is_dir in sorted(dict.fromkeys(targets), key=lambda t: len(Path(t[0]).parts)):
        if is_dir:
            args += ["--perms", "0755"] if "--perms" in features else []
            args += ["--size", str(2**20)] if "--size" in features else []
            args += ["--tmpfs", inside, "--remount-ro", inside]
        else:
            args += ["--ro-bind", "/dev/null", inside]

    args += ["--remount-ro", "/"]  # the root holds only mount points (/etc, /home ...): nothing to write there
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    args += list(ns_flags)
    args += ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
             "--hostname", "sandbox", "--chdir", SANDBOX_WORK, "--clearenv"]
    for k, v in env.items():
        args += ["--setenv", k, v]
    return args
