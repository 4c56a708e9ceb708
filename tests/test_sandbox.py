"""grader.sandbox: isolation (network, files, HOME, /tmp) and limits (time, memory, processes, output,
files). Every hostile snippet is bounded by itself, so these tests stay safe on a shared machine even
if the sandbox were broken; nothing ever contacts an address outside this machine."""

from __future__ import annotations

import os
import shutil
import textwrap
import uuid
import warnings
from pathlib import Path

import psutil
import pytest

from grader import sandbox
from grader.sandbox import SANDBOX_HOME, SANDBOX_WORK, Limits, SandboxUnavailable, run_sandboxed

from .adversarial.harness import PY, loopback_server, visible_dir

ISOLATED, WHY = sandbox.isolation_available()
needs_bwrap = pytest.mark.skipif(not ISOLATED, reason=f"no isolation here: {WHY}")


def run(code: str, scratch: Path, **kw) -> sandbox.SandboxResult:
    kw.setdefault("limits", Limits(wall_seconds=60))
    scratch.mkdir(exist_ok=True)
    return run_sandboxed([PY, "-c", textwrap.dedent(code)], scratch=scratch, **kw)


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    d = tmp_path / "scratch"
    d.mkdir()
    return d


def test_isolation_is_available_here():
    # CI installs bubblewrap: a machine where this fails grades without filesystem isolation
    assert ISOLATED, WHY
    assert "bubblewrap" in WHY


@needs_bwrap
@pytest.mark.timeout(60)
def test_runs_in_scratch_with_private_home(scratch):
    r = run("""
        import os
        print(os.getcwd()); print(os.environ['HOME'])
        open('hello.txt', 'w').write('hi')
        print(sorted(os.environ))
    """, scratch)
    assert r.failure is None and r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0] == SANDBOX_WORK and lines[1] == SANDBOX_HOME
    assert (scratch / "hello.txt").read_text() == "hi"
    assert r.isolated and ("cgroup" in r.limits_enforced_by or "watchdog" in r.limits_enforced_by)
    # the grader's own environment (tokens, credentials ...) does not leak in
    assert all(k not in lines[2] for k in ("SSH_AUTH_SOCK", "PYTEST_CURRENT_TEST"))


@needs_bwrap
@pytest.mark.timeout(60)
def test_no_network_only_loopback(scratch):
    with loopback_server() as server:
        r = run(f"""
            import socket, os, subprocess, shutil
            s = socket.socket(); s.settimeout(3)
            try:
                s.connect(('127.0.0.1', {server['port']})); print('CONNECTED')
            except OSError as e:
                print('blocked', type(e).__name__)
            print('IFACES', sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]))
            if shutil.which('ip'):
                print(subprocess.run(['ip', '-o', 'link'], capture_output=True, text=True).stdout)
        """, scratch)
    assert r.failure is None, r
    assert "CONNECTED" not in r.stdout and "blocked" in r.stdout
    assert server["accepted"] == 0
    assert "IFACES ['lo']" in r.stdout
    links = [ln for ln in r.stdout.splitlines() if ln[:1].isdigit() and ": " in ln]
    assert all(ln.split(": ")[1].startswith("lo") for ln in links), links


@needs_bwrap
@pytest.mark.timeout(90)
def test_hidden_paths_are_not_visible(scratch):
    marker = uuid.uuid4().hex.encode()
    with visible_dir("secret-") as d:
        secret_dir = d / "labels"
        secret_dir.mkdir()
        (secret_dir / "labels.npy").write_bytes(b"LABELS " + marker)
        secret_file = d / "key.txt"
        secret_file.write_bytes(b"KEY " + marker)
        code = f"""
            import os, time
            marker = bytes.fromhex(os.environ['MARKER_HEX'])
            for p in ({str(secret_dir / 'labels.npy')!r}, {str(secret_file)!r}):
                try:
                    print('READ', p, marker in open(p, 'rb').read())
                except OSError as e:
                    print('blocked', p, type(e).__name__)
            t0, found = time.time(), []
            for top, dirs, files in os.walk('/'):
                dirs[:] = [x for x in dirs if os.path.join(top, x) not in ('/proc', '/sys', '/dev')]
                if time.time() - t0 > 6:
                    break
                for name in files:
                    path = os.path.join(top, name)
                    try:
                        if not os.path.islink(path) and os.path.getsize(path) < 2**20:
                            if marker in open(path, 'rb').read():
                                found.append(path)
                    except OSError:
                        pass
            print('FOUND', found)
        """
        env = {"MARKER_HEX": marker.hex()}
        control = run(code.replace("os.walk('/')", "os.walk('/nonexistent')"), scratch, env=env)
        assert f"READ {secret_dir / 'labels.npy'} True" in control.stdout  # the test can see it at all
        r = run(code, scratch, hide=[secret_dir, secret_file], env=env)
    assert r.failure is None, r
    assert "True" not in r.stdout and "FOUND []" in r.stdout, r.stdout


@needs_bwrap
@pytest.mark.timeout(60)
def test_writes_outside_scratch_fail(scratch):
    with visible_dir("target-") as d:
        target = d / "result.json"
        target.write_text("original")
        r = run(f"""
            for p in ({str(target)!r}, '/etc/grader-test', '/usr/grader-test', {str(d / 'new.txt')!r}):
                try:
                    open(p, 'w').write('HACKED'); print('WROTE', p)
                except OSError as e:
                    print('blocked', p, type(e).__name__)
        """, scratch, hide=[])
        assert target.read_text() == "original"
        assert not (d / "new.txt").exists()
    assert "WROTE" not in r.stdout and r.stdout.count("blocked") == 4, r.stdout
    assert not Path("/etc/grader-test").exists()


@needs_bwrap
@pytest.mark.timeout(60)
def test_home_and_tmp_are_private(scratch):
    host_tmp = Path("/tmp") / f"grader-host-{uuid.uuid4().hex}"
    host_tmp.write_text("host")
    try:
        r = run(f"""
            import os
            print('HOSTTMP', os.path.exists({str(host_tmp)!r}))
            open('/tmp/from-sandbox-{host_tmp.name}', 'w').write('x')
            print('HOME', sorted(os.listdir(os.path.expanduser('~'))))
            print('INSTRUCTOR', os.listdir({str(Path.home())!r}) if os.path.isdir({str(Path.home())!r}) else [])
        """, scratch)
    finally:
        host_tmp.unlink()
    assert r.failure is None, r
    assert "HOSTTMP False" in r.stdout
    assert not Path(f"/tmp/from-sandbox-{host_tmp.name}").exists()
    assert "HOME ['work']" in r.stdout
    home_entries = set(os.listdir(Path.home())) - {".pyenv"}  # the interpreter may be re-bound there
    instructor = r.stdout.split("INSTRUCTOR", 1)[1]
    assert not any(f"'{e}'" in instructor for e in home_entries), instructor


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_memory_bomb_is_out_of_memory(scratch):
    r = run("""
        import time
        chunks = []
        for _ in range(40):             # at most 2 GiB, 50 MiB at a time
            chunks.append(bytearray(50 * 2**20))
            for i in range(0, len(chunks[-1]), 4096):
                chunks[-1][i] = 1
        time.sleep(5)
    """, scratch, limits=Limits(wall_seconds=90, memory_bytes=512 * 2**20))
    assert r.failure == "out_of_memory", r
    assert "512.0 MiB" in r.message and "batch size" in r.message


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_fork_bomb_is_too_many_processes(scratch):
    r = run("""
        import os, time
        failures = 0
        for _ in range(3000):           # stops itself after a few thousand attempts
            try:
                pid = os.fork()
            except OSError:
                failures += 1
                if failures > 20:
                    break
                continue
            if pid == 0:
                time.sleep(10)
                os._exit(0)
        print('failures', failures)
    """, scratch, limits=Limits(wall_seconds=90, max_processes=64))
    assert r.failure == "too_many_processes", r
    assert "64" in r.message


@pytest.mark.timeout(60)
def test_endless_loop_times_out_and_everything_is_killed(scratch):
    tag = f"endless-{uuid.uuid4().hex}"
    r = run(f"""
        import subprocess, sys
        subprocess.Popen([sys.executable, '-c', 'while True: pass', '{tag}'], start_new_session=True)
        while True:
            pass
    """, scratch, limits=Limits(wall_seconds=3))
    assert r.failure == "timeout", r
    assert 3 <= r.seconds < 20
    left = [p for p in psutil.process_iter(["cmdline"]) if tag in " ".join(p.info["cmdline"] or [])]
    assert left == [], left


@pytest.mark.timeout(60)
def test_output_flood_is_stopped(scratch):
    r = run("""
        import sys
        line = 'x' * (2**20 - 1) + '\\n'
        for _ in range(200):            # at most 200 MB
            sys.stdout.write(line)
    """, scratch, limits=Limits(wall_seconds=50, max_output_bytes=10 * 2**20))
    assert r.failure == "output_too_large", r
    assert len(r.stdout) <= 128 * 1024


@pytest.mark.timeout(60)
def test_big_file_is_file_too_large(scratch):
    r = run("""
        chunk = b'\\0' * 2**20
        try:
            with open('huge.bin', 'wb') as f:
                for _ in range(50):     # at most 50 MiB
                    f.write(chunk)
        except OSError as e:
            print('stopped', e)
    """, scratch, limits=Limits(wall_seconds=50, max_file_bytes=10 * 2**20))
    assert r.failure == "file_too_large", r
    assert (scratch / "huge.bin").stat().st_size <= 10 * 2**20


@pytest.mark.timeout(60)
def test_cgroups_are_removed_afterwards(scratch):
    run("print(1)", scratch)
    mine = f"grader-{os.getpid()}-"
    for root in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/memory"), Path("/sys/fs/cgroup/pids")):
        if root.is_dir():
            assert not [p for p in root.rglob(f"{mine}*") if p.is_dir()]


@pytest.mark.timeout(60)
def test_without_bubblewrap_warns_and_can_refuse(scratch, monkeypatch):
    monkeypatch.setattr(sandbox.bwrap, "bwrap_executable", lambda: None)
    monkeypatch.setattr(sandbox.run, "_warned", False)
    assert sandbox.isolation_available() == (False, "bubblewrap (bwrap) is not installed")
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        run("print(1)", scratch, require_isolation=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = run("import os; print(os.getcwd())", scratch)
    assert any(issubclass(w.category, sandbox.SandboxWarning) for w in caught)
    assert not r.isolated and r.failure is None and r.stdout.strip() == str(scratch.resolve())
    # the limits still hold
    r = run("while True: pass", scratch, limits=Limits(wall_seconds=2))
    assert r.failure == "timeout"


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_watchdog_without_cgroups(scratch, monkeypatch):
    """Where no cgroup can be created, a psutil watchdog polls RSS and tasks (weaker, but bounded)."""
    monkeypatch.setattr(sandbox.cgroups.Cgroups, "_setup_v1", lambda self, root, name: None)
    monkeypatch.setattr(sandbox.cgroups.Cgroups, "_setup_v2", lambda self, root, name: None)
    r = run("""
        import time
        chunks = [bytearray(50 * 2**20) for _ in range(12)]   # 600 MiB, then hold it
        for c in chunks:
            for i in range(0, len(c), 4096):
                c[i] = 1
        time.sleep(20)
    """, scratch, limits=Limits(wall_seconds=60, memory_bytes=256 * 2**20))
    assert r.failure == "out_of_memory", r
    assert "cgroup" not in r.limits_enforced_by and r.limits_enforced_by.endswith("watchdog (psutil)")


@needs_bwrap
@pytest.mark.timeout(60)
def test_gpu_option_binds_only_existing_devices(scratch):
    r = run("import os; print(sorted(os.listdir('/dev')))", scratch, gpu=True)
    assert r.failure is None, r
    for dev in sandbox.gpu_devices():
        assert os.path.basename(dev) in r.stdout
    assert shutil.which("bwrap")


@pytest.mark.timeout(90)
def test_sandbox_dies_with_the_grader(scratch):
    """A grader killed with SIGKILL leaves no notebook running (nor, at the next run, its cgroups)."""
    import signal
    import subprocess
    import sys
    import time

    tag = f"orphan-{uuid.uuid4().hex}"
    grader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        from pathlib import Path
        from grader.sandbox import Limits, run_sandboxed
        run_sandboxed([{PY!r}, '-c', 'import time; time.sleep(60)', '{tag}'], scratch=Path({str(scratch)!r}),
                      limits=Limits(wall_seconds=60))
    """)], cwd=Path(__file__).resolve().parents[1])

    def running() -> list:
        return [p for p in psutil.process_iter(["cmdline"]) if tag in " ".join(p.info["cmdline"] or [])]

    deadline = time.monotonic() + 40
    while not running() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert running(), "the sandboxed command never started"
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    deadline = time.monotonic() + 10
    while running() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert running() == []
    run("print(1)", scratch)  # removes the dead grader's empty cgroups
    dead = f"grader-{grader.pid}-"
    for root in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/memory"), Path("/sys/fs/cgroup/pids")):
        if root.is_dir():
            assert not [p for p in root.rglob(f"{dead}*") if p.is_dir()]


@needs_bwrap
@pytest.mark.timeout(60)
def test_host_paths_inside_scratch_are_translated(scratch):
    (scratch / "model.keras").write_bytes(b"m")
    r = run_sandboxed([PY, "-c", "import sys; print(open(sys.argv[1], 'rb').read(), sys.argv[2])",
                       str(scratch / "model.keras"), str(scratch.parent / "elsewhere")],
                      scratch=scratch, limits=Limits(wall_seconds=60))
    assert r.failure is None and r.stdout.split() == ["b'm'", str(scratch.parent / "elsewhere")], r
