"""Execute one submitted notebook with papermill inside the sandbox and classify what happened.

The papermill client and the kernel both run inside the sandbox (grader/_run_in_sandbox.py), in a fresh
scratch folder holding copies of the student's files. The hidden test inputs are staged (copied) into
a folder bound read-only, the public data is bound read-only, and everything in ``hide`` is covered.
After the run, the executed notebook, the predictions file and the model file are copied out of the
scratch folder into ``work_dir`` -- regular files only, never through a symlink, size-capped.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.sandbox import SANDBOX_HOME, SANDBOX_WORK, Limits, isolation_available, run_sandboxed

log = logging.getLogger(__name__)

STATUSES = ("ok", "timeout", "cell_timeout", "exception", "dead_kernel", "out_of_memory",
            "too_many_processes", "output_too_large", "file_too_large", "sandbox_error")

PREDICTIONS_NAME = "predictions.npy"
_RUNNER_DIR = ".grader"  # in scratch: the runner's status file and executed notebook
_GRACE_SECONDS = 15.0  # the runner stops the kernel at the time limit; the sandbox kills after this


@dataclass
class ExecutionResult:
    status: str  # "ok" or one of STATUSES
    message: str  # what a student can act on
    cell_index: int | None  # 0-based index of the cell in the notebook given to execute_submission
    seconds: float
    executed_notebook: Path | None  # in work_dir, also on failure (partial outputs)
    predictions: Path | None  # copied out of scratch, or None if absent / not a regular file / too big
    model_file: Path | None  # the file at MODEL_PATH after the run, copied out likewise
    isolated: bool
    notes: list[str] = dataclasses.field(default_factory=list)  # for the instructor's log


# --------------------------------------------------------------------------------------------------
# files in and out of the scratch folder


def _open_beneath(root: Path, rel: str) -> int | None:
    """Open root/rel for reading without following any symlink on the way; None if impossible."""
    parts = PurePosixPath(rel).parts
    if not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
        return None
    flags_dir = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(root, flags_dir)
    except OSError:
        return None
    try:
        for part in parts[:-1]:
            nfd = os.open(part, flags_dir, dir_fd=fd)
            os.close(fd)
            fd = nfd
        return os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd)
    except OSError:
        return None
    finally:
        os.close(fd)


def copy_out(root: Path, rel: str, dest: Path, max_bytes: int) -> tuple[Path | None, str]:
    """Copy the regular file root/rel to dest (no symlinks followed, at most max_bytes).

    Returns (dest or None, why not)."""
    fd = _open_beneath(root, rel)
    if fd is None:
        why = "missing" if not os.path.lexists(root / rel) else "not a regular file (a symlink?)"
        return None, why
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, "not a regular file"
        if st.st_size > max_bytes:
            return None, f"too large ({st.st_size} bytes, at most {max_bytes})"
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        copied = 0
        with open(tmp, "wb") as out:
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                copied += len(chunk)
                if copied > max_bytes:
                    out.close()
                    tmp.unlink(missing_ok=True)
                    return None, "too large"
                out.write(chunk)
        os.replace(tmp, dest)
        return dest, ""
    finally:
        os.close(fd)


def _copy_in(src: Path, dest_dir: Path, notes: list[str], name: str | None = None) -> None:
    """Copy a handed-in file or folder into scratch; symlinks and special files are skipped."""
    try:
        st = os.lstat(src)
    except OSError as exc:
        notes.append(f"cannot read {src.name}: {exc}")
        return
    target = dest_dir / (name or src.name)
    if stat.S_ISREG(st.st_mode):
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as fin, open(target, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
    elif stat.S_ISDIR(st.st_mode):
        target.mkdir(exist_ok=True)
        for child in sorted(src.iterdir()):
            _copy_in(child, target, notes)
    else:
        notes.append(f"skipped {src.name}: not a regular file or folder")


def _remove_stale_runs() -> None:
    """Remove scratch folders left by grader processes that were killed (their pid is gone)."""
    try:
        for d in Path(tempfile.gettempdir()).glob("grader-run-*-*"):
            pid = d.name.split("-")[2]
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}") and not d.is_symlink():
                shutil.rmtree(d, ignore_errors=True)
    except OSError:
        pass


def _stage(src: Path, dest_dir: Path) -> Path:
    """Copy the hidden inputs (file or folder) into a staging folder; return the staged path."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / src.name
    if src.is_dir():
        shutil.copytree(src, target, symlinks=False)
    else:
        shutil.copyfile(src, target)
    return target


# --------------------------------------------------------------------------------------------------
# messages


def _cell_words(index: int | None) -> str:
    return f"cell {index + 1}" if index is not None else "a cell"


def _message(status: str, info: dict, *, cell_index: int | None, cell_timeout: float, limits: Limits,
             sandbox_message: str, seconds: float) -> str:
    where = f" while running {_cell_words(cell_index)}" if cell_index is not None else ""
    if status == "ok":
        return f"The notebook ran to the end in {seconds:.0f} s."
    if status == "exception":
        ename, evalue = info.get("ename") or "Error", (info.get("evalue") or "").strip()
        count = info.get("exec_count")
        shown = f" (In [{count}])" if count else ""
        return f"{_cell_words(cell_index).capitalize()}{shown} raised {ename}: {evalue}".rstrip(": ")
    if status == "cell_timeout":
        return (f"{_cell_words(cell_index).capitalize()} ran for more than {cell_timeout:g} seconds (the "
                "time limit for one cell) and was stopped. Make it faster, e.g. fewer epochs or a smaller "
                "model when GRADING is True.")
    if status == "dead_kernel":
        return (f"The Python kernel died{where} (it crashed or was killed: e.g. os._exit, a crash in a "
                "native library, or killing its own process). Check that the notebook runs from top to "
                "bottom on your machine.")
    if status == "timeout" and not sandbox_message:
        from grader.sandbox import failure_message

        return failure_message("timeout", limits).rstrip(".") + f"{where}."
    return sandbox_message.rstrip(".") + (f"{where}." if where and status != "sandbox_error" else ".")


# --------------------------------------------------------------------------------------------------


def execute_submission(
    notebook: Path,
    *,
    student_files: Sequence[Path],
    public_data: Path,
    test_inputs: Path,
    work_dir: Path,
    limits: Limits,
    cell_timeout: float,
    model_file: str = "model.keras",
    hide: Sequence[Path] = (),
    require_isolation: bool = False,
    gpu: bool = False,
) -> ExecutionResult:
    """Run ``notebook`` (already normalized: it has a cell tagged ``parameters``) in the sandbox.

    Injected parameters: GRADING=True, DATA_DIR, TEST_INPUTS, PREDICTIONS_PATH, MODEL_PATH, as paths
    seen by the notebook. Results land in ``work_dir``: executed.ipynb, predictions.npy and
    model/<model_file name>. ``hide``: host paths the notebook must not see (labels, exam folder,
    output folder, other submissions ...); the instructor's HOME is always hidden.
    Raises sandbox.SandboxUnavailable if ``require_isolation`` and bubblewrap cannot be used.
    """
    notebook = Path(notebook)
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    rel_model = PurePosixPath(model_file)
    if rel_model.is_absolute() or ".." in rel_model.parts or not rel_model.parts:
        raise ValueError(f"model_file must be a relative path inside the submission: {model_file!r}")
    notes: list[str] = []
    isolated, why = isolation_available()
    if require_isolation and not isolated:
        from grader.sandbox import _UNAVAILABLE_HELP, SandboxUnavailable

        raise SandboxUnavailable(f"Cannot isolate the notebook: {why}. {_UNAVAILABLE_HELP}")

    executed = work_dir / "executed.ipynb"
    predictions_out = work_dir / PREDICTIONS_NAME
    model_out = work_dir / "model" / rel_model.name
    for stale in (executed, predictions_out, model_out):
        stale.unlink(missing_ok=True)

    _remove_stale_runs()
    tmp_root = Path(tempfile.mkdtemp(prefix=f"grader-run-{os.getpid()}-"))
    try:
        scratch = tmp_root / "scratch"
        staging = tmp_root / "inputs"
        scratch.mkdir()
        for f in student_files:
            if Path(f).name in (PREDICTIONS_NAME, _RUNNER_DIR):
                notes.append(f"ignored the handed-in {Path(f).name}: the grader writes that name")
                continue
            _copy_in(Path(f), scratch, notes)
        nb_name = "submission.ipynb"
        _copy_in(notebook, scratch, notes, name=nb_name)
        (scratch / _RUNNER_DIR).mkdir(exist_ok=True)
        staged = _stage(Path(test_inputs), staging)

        if isolated:
            inside_work = SANDBOX_WORK
            inside_inputs = f"{SANDBOX_HOME}/test_inputs"
            inside_data = f"{SANDBOX_HOME}/data"
            readonly = [(staging, inside_inputs), (Path(public_data), inside_data)]
            test_inputs_param = f"{inside_inputs}/{staged.name}"
        else:  # the fallback runs on the host: host paths
            inside_work = str(scratch)
            inside_data = str(Path(public_data).resolve())
            readonly = []
            test_inputs_param = str(staged)
        runner_dir = f"{inside_work}/{_RUNNER_DIR}"
        config = {
            "input": f"{inside_work}/{nb_name}",
            "output": f"{runner_dir}/executed.ipynb",
            "status": f"{runner_dir}/status.json",
            "parameters": {
                "GRADING": True,
                "DATA_DIR": inside_data,
                "TEST_INPUTS": test_inputs_param,
                "PREDICTIONS_PATH": f"{inside_work}/{PREDICTIONS_NAME}",
                "MODEL_PATH": f"{inside_work}/{rel_model}",
            },
            "cell_timeout": cell_timeout,
            "deadline_seconds": limits.wall_seconds,
            "max_output_bytes": limits.max_output_bytes,
            "kernel_name": "python3",
            "cwd": inside_work,
        }
        package_parent = str(Path(__file__).resolve().parent.parent)
        cmd = [sys.executable, "-m", "grader._run_in_sandbox", json.dumps(config)]
        env = {"PYTHONPATH": package_parent, "JUPYTER_PLATFORM_DIRS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        box_limits = dataclasses.replace(limits, wall_seconds=limits.wall_seconds + _GRACE_SECONDS)
        sandbox = run_sandboxed(cmd, scratch=scratch, readonly=readonly, hide=list(hide), limits=box_limits,
                                env=env, require_isolation=require_isolation, gpu=gpu)
        try:
            (work_dir / "sandbox.log").write_text(
                f"isolated={sandbox.isolated} limits={sandbox.limits_enforced_by} "
                f"returncode={sandbox.returncode} failure={sandbox.failure} seconds={sandbox.seconds:.1f} "
                f"peak_memory={sandbox.peak_memory_bytes}\n--- stdout (tail)\n{sandbox.stdout}\n"
                f"--- stderr (tail)\n{sandbox.stderr}\n")
        except OSError:
            pass

        # what the runner says happened (a hint only: the notebook could have written this file)
        info: dict = {}
        fd = _open_beneath(scratch, f"{_RUNNER_DIR}/status.json")
        if fd is not None:
            try:
                with os.fdopen(fd, "rb") as fh:
                    info = json.loads(fh.read(65536) or b"{}")
                if not isinstance(info, dict):
                    info = {}
            except (OSError, ValueError):
                info = {}
        runner_status = str(info.get("status") or "")
        cell_index = info.get("cell_index")
        if not isinstance(cell_index, int) or cell_index < 0:
            cell_index = None

        if sandbox.failure:
            status = sandbox.failure
        elif runner_status in ("ok", "exception", "cell_timeout", "dead_kernel", "timeout",
                               "output_too_large"):
            status = runner_status
        elif runner_status == "error":
            status = "sandbox_error"
            notes.append(f"runner error: {info.get('detail', '')}")
        elif sandbox.returncode not in (0, None):
            # the runner itself was killed or crashed before writing its status (e.g. the notebook
            # killed its parent process)
            status = "dead_kernel"
        else:
            status = "sandbox_error"
        if status == "sandbox_error" and not sandbox.failure:
            from grader.sandbox import failure_message

            tail = (sandbox.stderr.strip().splitlines() or [""])[-1][:300]
            sandbox_message = failure_message("sandbox_error", limits, tail)
        else:
            sandbox_message = sandbox.message if sandbox.failure else ""
            if sandbox.failure == "timeout":  # say the limit the instructor set, not the grace
                from grader.sandbox import failure_message

                sandbox_message = failure_message("timeout", limits)

        notebook_out, _ = copy_out(scratch, f"{_RUNNER_DIR}/executed.ipynb", executed,
                                   limits.max_output_bytes + 20 * 2**20)
        preds, why = copy_out(scratch, PREDICTIONS_NAME, predictions_out, limits.max_file_bytes)
        if preds is None and why != "missing":
            notes.append(f"predictions file rejected: {why}")
        model, why = copy_out(scratch, str(rel_model), model_out, limits.max_file_bytes)
        if model is None and why != "missing":
            notes.append(f"model file rejected: {why}")

        return ExecutionResult(
            status=status,
            message=_message(status, info, cell_index=cell_index, cell_timeout=cell_timeout, limits=limits,
                             sandbox_message=sandbox_message, seconds=sandbox.seconds),
            cell_index=cell_index,
            seconds=sandbox.seconds,
            executed_notebook=notebook_out,
            predictions=preds,
            model_file=model,
            isolated=sandbox.isolated,
            notes=notes,
        )
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
