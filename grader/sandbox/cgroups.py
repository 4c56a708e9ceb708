"""Memory and pids cgroups (v1 or v2) for one sandboxed run.

The OOM killer acts inside the group and the grader reads the OOM count; pids counts processes *and
threads*, as the kernel does. Each controller may be missing (no writable cgroup tree): the runner then
falls back on a psutil watchdog (see run.py).
"""

from __future__ import annotations

import logging
import os
import signal
import time
import uuid
from pathlib import Path

from grader.sandbox.limits import Limits

log = logging.getLogger(__name__)



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


class Cgroups:
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


