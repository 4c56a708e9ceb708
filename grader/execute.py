"""Execute one submitted notebook with papermill inside the sandbox and classify what happened.

The papermill client and the kernel both run inside the sandbox (grader/_run_in_sandbox.py), in a fresh
scratch folder. The handed-in files (only those the exam declares, already copied by the caller) are
bound read-only over their names in scratch, so the notebook can read them but not replace them (a model
counted before the run stays the model that was counted). The hidden test inputs are staged (copied)
into a folder bound read-only, the public data is bound read-only, and everything in ``hide`` is covered.

The verdict is the grader's own: its limit checks, the runner's exit, and the runner's report, which
arrives through a pipe the notebook cannot reach (see _run_in_sandbox.py). The executed notebook comes
from that report too. Only the predictions file and, in retrain mode, the model file are copied out of
scratch into ``work_dir``: regular files only, never through a symlink, size-capped.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader import safe_files
from grader._run_in_sandbox import BOOTSTRAP
from grader.safe_files import remove_tree
from grader.sandbox import (
    PYTHON,
    SANDBOX_HOME,
    SANDBOX_WORK,
    UNAVAILABLE_HELP,
    Limits,
    SandboxUnavailable,
    failure_message,
    isolation_available,
    run_sandboxed,
)

log = logging.getLogger(__name__)

STATUSES = ("ok", "timeout", "cell_timeout", "exception", "dead_kernel", "out_of_memory",
            "too_many_processes", "output_too_large", "file_too_large", "sandbox_error")

PREDICTIONS_NAME = "predictions.npy"
_GRACE_SECONDS = 15.0  # the runner stops the kernel at the time limit; the sandbox kills after this


@dataclass
class ExecutionResult:
    status: str  # "ok" or one of STATUSES
    message: str  # what a student can act on
    cell_index: int | None  # 0-based index of the cell in the notebook given to execute_submission
    seconds: float
    executed_notebook: Path | None  # in work_dir, also on failure (partial outputs)
    predictions: Path | None  # copied out of scratch, or None if absent / not a regular file / too big
    model_file: Path | None  # retrain mode: the file at MODEL_PATH after the run, copied out likewise
    isolated: bool
    notes: list[str] = dataclasses.field(default_factory=list)  # for the instructor's log
    runner_seconds: float | None = None  # papermill's own time inside the sandbox (for --profile)


# --------------------------------------------------------------------------------------------------
# files in and out of the scratch folder


def copy_out(root: Path, rel: str, dest: Path, max_bytes: int) -> tuple[Path | None, str]:
    """Copy the regular file root/rel to dest (no symlink followed below root, at most max_bytes).

    Returns (dest or None, why not: "missing" or the reason it was refused)."""
    try:
        return safe_files.copy_limited(root / rel, dest, max_bytes, root=root), ""
    except safe_files.UnsafeFile as exc:
        return None, "missing" if not os.path.lexists(root / rel) else str(exc)


def _bind_handed_in(files: Sequence[Path], scratch: Path, isolated: bool, notes: list[str]) -> list[tuple[Path, str]]:
    """Make the handed-in files appear in scratch, read-only: bound over an empty placeholder inside
    bubblewrap; without it (no isolation anyway), a copy with its write permission removed."""
    binds = []
    for f in files:
        f = Path(f)
        if f.name in (PREDICTIONS_NAME,):
            notes.append(f"ignored the handed-in {f.name}: the grader writes that name")
            continue
        target = scratch / f.name
        if isolated:
            target.touch()
            binds.append((f, f"{SANDBOX_WORK}/{f.name}"))
        else:
            shutil.copyfile(f, target, follow_symlinks=False)
            target.chmod(0o444)
    return binds


def _remove_stale_runs() -> None:
    """Remove scratch folders left by grader processes that were killed (their pid is gone)."""
    try:
        for d in Path(tempfile.gettempdir()).glob("grader-run-*-*"):
            pid = d.name.split("-")[2]
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}") and not d.is_symlink():
                remove_tree(d)
    except Exception:  # noqa: BLE001 - a leftover must never stop grading
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
    model_handed_in: bool | None = None,
    hide: Sequence[Path] = (),
    require_isolation: bool = False,
    gpu: bool = False,
    backend: str | None = None,
) -> ExecutionResult:
    """Run ``notebook`` (already normalized: it has a cell tagged ``parameters``) in the sandbox.

    ``student_files``: trusted copies of the handed-in files the exam declares (the caller copied them
    safely); each appears read-only in the notebook's folder. ``model_handed_in`` (default: whether
    ``model_file`` is among them): weights mode, the model is input; otherwise the run must write it.
    Injected parameters: GRADING=True, DATA_DIR, TEST_INPUTS, PREDICTIONS_PATH, MODEL_PATH, as paths
    seen by the notebook. Results land in ``work_dir``: executed.ipynb, predictions.npy and, when the
    run writes the model, model/<model_file name>. ``hide``: host paths inside something bound that the
    notebook must not see (e.g. a dataset in site-packages). ``backend``: KERAS_BACKEND for the kernel.
    Raises sandbox.SandboxUnavailable if ``require_isolation`` and bubblewrap cannot be used.
    """
    notebook = Path(notebook)
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    rel_model = PurePosixPath(model_file)
    if rel_model.is_absolute() or ".." in rel_model.parts or not rel_model.parts:
        raise ValueError(f"model_file must be a relative path inside the submission: {model_file!r}")
    if model_handed_in is None:
        model_handed_in = any(Path(f).name == rel_model.name for f in student_files)
    notes: list[str] = []
    isolated, why = isolation_available()
    if require_isolation and not isolated:
        raise SandboxUnavailable(f"Cannot isolate the notebook: {why}. {UNAVAILABLE_HELP}")

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
        handed_in = _bind_handed_in(student_files, scratch, isolated, notes)
        nb_name = "submission.ipynb"
        shutil.copyfile(notebook, scratch / nb_name, follow_symlinks=False)
        staged = _stage(Path(test_inputs), staging)

        if isolated:
            inside_work = SANDBOX_WORK
            inside_inputs = f"{SANDBOX_HOME}/test_inputs"
            inside_data = f"{SANDBOX_HOME}/data"
            readonly = [(staging, inside_inputs), (Path(public_data), inside_data), *handed_in]
            test_inputs_param = f"{inside_inputs}/{staged.name}"
        else:  # the fallback runs on the host: host paths
            inside_work = str(scratch)
            inside_data = str(Path(public_data).resolve())
            readonly = []
            test_inputs_param = str(staged)
        config = {
            "input": f"{inside_work}/{nb_name}",
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
        cmd = [PYTHON, "-I", "-c", BOOTSTRAP, package_parent, json.dumps(config)]
        env = {"JUPYTER_PLATFORM_DIRS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        if backend:
            env["KERAS_BACKEND"] = backend
        box_limits = dataclasses.replace(limits, wall_seconds=limits.wall_seconds + _GRACE_SECONDS)
        report_cap = limits.max_output_bytes + notebook.stat().st_size + 20 * 2**20
        sandbox = run_sandboxed(cmd, scratch=scratch, readonly=readonly, hide=list(hide), limits=box_limits,
                                env=env, require_isolation=require_isolation, gpu=gpu,
                                report_max_bytes=report_cap)
        _write_log(work_dir / "sandbox.log", sandbox)
        info, executed_nb = _read_report(sandbox.report)
        status, detail = _verdict(sandbox, info, executed_nb)
        if detail:
            notes.append(detail)
        cell_index = info.get("cell_index")
        if not isinstance(cell_index, int) or cell_index < 0:
            cell_index = None
        if status == "sandbox_error" and not sandbox.failure:
            tail = (sandbox.stderr.strip().splitlines() or [""])[-1][:300]
            sandbox_message = failure_message("sandbox_error", limits, tail)
        elif sandbox.failure == "timeout":  # say the limit the instructor set, not the grace
            sandbox_message = failure_message("timeout", limits)
        elif status == "output_too_large" and not sandbox.failure:  # found by the runner or the report cap
            sandbox_message = failure_message("output_too_large", limits)
        else:
            sandbox_message = sandbox.message if sandbox.failure else ""

        notebook_out = None
        if executed_nb is not None:
            executed.write_bytes(executed_nb)
            notebook_out = executed
        preds, why = copy_out(scratch, PREDICTIONS_NAME, predictions_out, limits.max_file_bytes)
        if preds is None and why != "missing":
            notes.append(f"predictions file rejected: {why}")
        model = None
        if not model_handed_in:
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
            runner_seconds=info.get("seconds") if isinstance(info.get("seconds"), int | float) else None,
        )
    finally:
        remove_tree(tmp_root)


_RUNNER_STATUSES = ("ok", "exception", "cell_timeout", "dead_kernel", "timeout", "output_too_large")


def _read_report(report: bytes | None) -> tuple[dict, bytes | None]:
    """(the runner's status, the executed notebook's bytes) from its report; ({}, None) if none."""
    if not report:
        return {}, None
    head, _, body = report.partition(b"\n")
    try:
        info = json.loads(head)
    except ValueError:
        return {}, None
    return (info if isinstance(info, dict) else {}), (body or None)


def _has_error_output(executed_nb: bytes | None) -> bool:
    """Whether a code cell of the executed notebook shows an error (a traceback)."""
    if not executed_nb:
        return False
    try:
        nb = json.loads(executed_nb)
        cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"
                 and "raises-exception" not in c.get("metadata", {}).get("tags", [])]  # errors shown on purpose
        return any(o.get("output_type") == "error" for c in cells for o in c.get("outputs", []))
    except (ValueError, AttributeError, TypeError, RecursionError):
        return False


def _verdict(sandbox, info: dict, executed_nb: bytes | None) -> tuple[str, str]:
    """(status, note for the instructor): the grader's own limit checks first, then the runner's exit
    and report. A runner that did not report (killed by the notebook, or crashed) is a dead kernel."""
    if sandbox.failure:
        return sandbox.failure, ""
    if sandbox.report_overflowed:  # the outputs, once saved, are larger than the limit allows
        return "output_too_large", "the executed notebook is larger than the output limit"
    runner_status = str(info.get("status") or "")
    if not info:
        if sandbox.returncode not in (0, None):
            return "dead_kernel", "the runner ended without a report (killed or crashed)"
        return "sandbox_error", "the runner ended without a report"
    if runner_status == "error":
        return "sandbox_error", f"runner error: {info.get('detail', '')}"
    if runner_status not in _RUNNER_STATUSES:
        return "sandbox_error", f"unknown runner status {runner_status[:50]!r}"
    if sandbox.returncode != 0:
        return "dead_kernel", f"the runner exited with status {sandbox.returncode} after reporting"
    if runner_status == "ok" and _has_error_output(executed_nb):
        return "exception", "the executed notebook shows an error output"
    return runner_status, ""


def _write_log(path: Path, sandbox) -> None:
    try:
        path.write_text(
            f"isolated={sandbox.isolated} limits={sandbox.limits_enforced_by} "
            f"returncode={sandbox.returncode} failure={sandbox.failure} seconds={sandbox.seconds:.1f} "
            f"peak_memory={sandbox.peak_memory_bytes}\n--- stdout (tail)\n{sandbox.stdout}\n"
            f"--- stderr (tail)\n{sandbox.stderr}\n")
    except OSError:
        pass
