"""Runs inside the sandbox: executes one notebook with papermill and reports to the grader.

    python -I -c 'from grader._run_in_sandbox import main; ...' '<json config>'

(``-I``: the scratch folder, the notebook's working directory, is never on this process's import path.)

Config keys: input, parameters, cell_timeout, deadline_seconds, max_output_bytes, kernel_name, cwd.

The report goes through the pipe whose fd is in GRADER_REPORT_FD (see sandbox.run_sandboxed), never
through a file: the notebook's code runs as the same user in the same sandbox and could forge a file.
It cannot reach the pipe: the fd is not inherited by the kernel, and this process makes itself
non-dumpable, so /proc/<pid>/fd and ptrace are closed to the kernel (seccomp also denies ptrace).
The report is one line of JSON, {"status": "ok" | "exception" | "cell_timeout" | "dead_kernel" |
"timeout" | "output_too_large" | "error", "cell_index", "exec_count", "ename", "evalue", "detail"},
then the executed notebook (nbformat JSON), taken from papermill's memory, not from disk.
The grader still decides the verdict itself (grader.execute): a missing report means the runner died.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

_TRUNCATION_NOTE = "\n[grader: output stopped here: the notebook printed more than {mb:.0f} MiB]\n"


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.output_bytes = 0
        self.output_tripped = False
        self.deadline_hit = False
        self.current_cell: int | None = None
        self.notebook = None  # the last notebook papermill would have written to disk


STATE = _State()


def _size(obj) -> int:
    """How many bytes a message's content takes once saved as JSON (a NUL is 6 bytes there, "\\u0000");
    content too nested to serialize counts as over any limit."""
    try:
        return len(json.dumps(obj, default=str))
    except (RecursionError, ValueError, TypeError):
        return 2**62


def _kernel_processes():
    import psutil

    try:
        return psutil.Process().children(recursive=True)
    except psutil.Error:
        return []


def _signal_kernels(sig: int) -> None:
    import psutil

    for p in _kernel_processes():
        try:
            p.send_signal(sig)
        except psutil.Error:
            pass


def _stop_kernel(grace: float = 5.0) -> None:
    """Interrupt the running cell; kill the kernel if it does not stop (SIGINT can be ignored)."""
    _signal_kernels(signal.SIGINT)

    def escalate() -> None:
        _signal_kernels(signal.SIGKILL)

    t = threading.Timer(grace, escalate)
    t.daemon = True
    t.start()


def _install_hooks(max_output_bytes: int) -> None:
    """Bound what the notebook client keeps of the outputs; remember the running cell."""
    import nbformat
    from nbclient import NotebookClient
    from papermill.engines import NotebookExecutionManager

    original_output = NotebookClient.output
    original_cell_start = NotebookExecutionManager.cell_start

    def output(self, outs, msg, display_id, cell_index):
        n = _size(msg.get("content", {}))
        with STATE.lock:
            if STATE.output_tripped:
                return None
            STATE.output_bytes += n
            trip = STATE.output_bytes > max_output_bytes
            if trip:
                STATE.output_tripped = True
        if trip:
            outs.append(nbformat.v4.new_output(
                "stream", name="stderr", text=_TRUNCATION_NOTE.format(mb=max_output_bytes / 2**20)))
            # the run has failed anyway: stop the kernel at once rather than drain a flood of messages
            _signal_kernels(signal.SIGKILL)
            return None
        return original_output(self, outs, msg, display_id, cell_index)

    def cell_start(self, cell, cell_index=None, **kwargs):
        STATE.current_cell = cell_index
        return original_cell_start(self, cell, cell_index, **kwargs)

    NotebookClient.output = output
    NotebookExecutionManager.cell_start = cell_start


def _capture_writes() -> None:
    """papermill writes the notebook to disk as it runs and when it fails; keep it in memory instead."""
    import papermill.engines
    import papermill.execute

    def capture(nb, path):
        STATE.notebook = nb

    papermill.engines.write_ipynb = capture
    papermill.execute.write_ipynb = capture


def _protect_report_channel(fd: int) -> None:
    """Keep the report pipe away from the kernel: not inherited, and this process non-dumpable."""
    import ctypes

    os.set_inheritable(fd, False)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0
    except (OSError, AttributeError):
        pass


def _send_report(fd: int, status: dict) -> None:
    import nbformat

    body = json.dumps(status).encode() + b"\n"
    if STATE.notebook is not None:
        try:
            body += nbformat.writes(STATE.notebook).encode()
        except (RecursionError, ValueError, TypeError):  # an output that cannot be saved: drop the outputs
            for cell in STATE.notebook.cells:
                if cell.get("cell_type") == "code":
                    cell["outputs"] = []
            body += nbformat.writes(STATE.notebook).encode()
    view = memoryview(body)
    while view:
        view = view[os.write(fd, view):]
    os.close(fd)


def _student_index(index: int | None) -> int | None:
    """Map a cell index of papermill's notebook (with its injected-parameters cell) to the input's."""
    if index is None or STATE.notebook is None:
        return index
    try:
        cells = [c for c in STATE.notebook.cells
                 if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])]
        injected = sum(
            1 for c in cells[:index] if "injected-parameters" in c.get("metadata", {}).get("tags", [])
        )
        return index - injected
    except Exception:  # noqa: BLE001 - best effort
        return index


def main(argv: list[str]) -> int:
    cfg = json.loads(argv[0])
    report_fd = int(os.environ.pop("GRADER_REPORT_FD"))
    _protect_report_channel(report_fd)
    # The kernel must not inherit the runner's import path.
    os.environ.pop("PYTHONPATH", None)
    # jsonschema's optional IRI format checker builds a grammar at import (seconds of CPU); nbformat's
    # validation does not need it.
    sys.modules.setdefault("rfc3987_syntax", None)

    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    _install_hooks(int(cfg["max_output_bytes"]))
    _capture_writes()

    def on_deadline() -> None:
        STATE.deadline_hit = True
        _stop_kernel()

    timer = threading.Timer(float(cfg["deadline_seconds"]), on_deadline)
    timer.daemon = True
    timer.start()

    status: dict = {"status": "ok", "cell_index": None, "exec_count": None, "ename": None, "evalue": None,
                    "detail": ""}
    started = time.monotonic()
    try:
        papermill.execute_notebook(
            cfg["input"], "executed.ipynb", parameters=cfg["parameters"], kernel_name=cfg["kernel_name"],
            execution_timeout=cfg["cell_timeout"], log_output=False, progress_bar=False, cwd=cfg["cwd"],
            start_timeout=120, request_save_on_cell_execute=True, autosave_cell_every=10,
        )
    except PapermillExecutionError as exc:
        status.update(status="exception", cell_index=exc.cell_index, exec_count=exc.exec_count,
                      ename=exc.ename, evalue=str(exc.evalue)[:2000])
    except CellTimeoutError as exc:
        status.update(status="cell_timeout", cell_index=STATE.current_cell, detail=str(exc)[:500])
    except DeadKernelError as exc:
        status.update(status="dead_kernel", cell_index=STATE.current_cell, detail=str(exc)[:500])
    except (RecursionError, MemoryError) as exc:  # the notebook's outputs broke the client (too nested)
        status.update(status="exception", cell_index=STATE.current_cell, ename=type(exc).__name__,
                      evalue="the cell's output is nested too deeply or is too large to be saved")
    except BaseException as exc:  # noqa: BLE001 - kernel start failures and the like
        status.update(status="error", cell_index=STATE.current_cell, ename=type(exc).__name__,
                      detail=f"{type(exc).__name__}: {exc}"[:2000])
    finally:
        timer.cancel()
    if status["status"] != "ok" or STATE.output_tripped or STATE.deadline_hit:
        if STATE.output_tripped:
            status["status"] = "output_too_large"
        elif STATE.deadline_hit:
            status["status"] = "timeout"
    status["cell_index"] = _student_index(status["cell_index"])
    status["seconds"] = time.monotonic() - started
    status["output_bytes"] = STATE.output_bytes
    _send_report(report_fd, status)
    return 0


# how the grader starts this module: `python -I -c BOOTSTRAP CONFIG` (the folder that holds the grader
# package is appended, after the standard library and site-packages, for checkouts run uninstalled)
BOOTSTRAP = (
    "import sys; sys.path.append(sys.argv.pop(1)); "
    "from grader._run_in_sandbox import main; sys.exit(main(sys.argv[1:]))"
)
