"""Run course notebooks and read what they reached; used by the tests and the benchmarks.

Conventions every notebook follows (see README, "Writing a notebook"):
- the source is ``notebooks/NN_topic.py`` (jupytext py:percent), paired with ``NN_topic.ipynb``;
- a cell tagged ``parameters`` holds at least ``FAST``;
- the last code cell, tagged ``check``, prints a dict ``RESULT = {"metric", "value", "target"}``
  and asserts that the value reached the target.
Exercises use nbgrader's cell metadata; ``autograde`` grades a notebook with nbgrader itself.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
VENV_BIN = Path(sys.executable).parent


def notebook_sources() -> list[Path]:
    """The jupytext sources of the course notebooks, in course order."""
    return sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))


def kernel_env() -> dict[str, str]:
    """Environment for kernels and nbgrader: this interpreter's tools first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("KERAS_BACKEND", "tensorflow")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("MPLBACKEND", "Agg")
    return env


@dataclass
class NotebookRun:
    notebook: str
    executed: Path
    seconds: float
    result: dict
    figure_problems: list[str]  # figures without a title or axis labels (tests/figure_check_backend.py)


def run_notebook(ipynb: Path, out_dir: Path, parameters: dict, cell_timeout: int = 600) -> NotebookRun:
    """Execute a notebook with papermill (parameters injected) and return what it reached.

    Raises papermill.PapermillExecutionError when a cell fails, the closing check included.
    """
    import papermill

    out_dir.mkdir(parents=True, exist_ok=True)
    executed = out_dir / ipynb.name
    figure_log = out_dir / "figure-problems.jsonl"
    figure_log.unlink(missing_ok=True)
    os.environ.update({k: v for k, v in kernel_env().items() if k not in os.environ})
    # The kernel inherits this process's environment: check figures with the test backend.
    os.environ.update(MPLBACKEND="module://tests.figure_check_backend", FIGURE_CHECK_LOG=str(figure_log),
                      PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    started = time.perf_counter()
    papermill.execute_notebook(
        str(ipynb),
        str(executed),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(out_dir),  # files a notebook writes stay out of the repo
        execution_timeout=cell_timeout,
        progress_bar=False,
    )
    seconds = time.perf_counter() - started
    problems = figure_log.read_text().splitlines() if figure_log.exists() else []
    return NotebookRun(ipynb.stem, executed, seconds, read_result(executed), problems)


def read_result(executed: Path) -> dict:
    """The RESULT dict printed by the cell tagged ``check`` of an executed notebook."""
    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        if "check" in cell.metadata.get("tags", []):
            text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")
            for line in reversed(text.strip().splitlines()):
                if line.startswith("{"):
                    return ast.literal_eval(line)
            raise ValueError(f"{executed.name}: the check cell printed no RESULT dict")
    raise ValueError(f"{executed.name}: no cell tagged 'check'")


# ---------------------------------------------------------------- nbgrader autograding

ASSIGNMENT = "course"


def _nbgrader(args: list[str], course: Path) -> None:
    cmd = [str(VENV_BIN / "nbgrader"), *args, f"--CourseDirectory.root={course}",
           f"--CourseDirectory.db_url=sqlite:///{course / 'gradebook.db'}"]
    proc = subprocess.run(cmd, cwd=course, env=kernel_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def release(ipynb: Path, course: Path, parameters: dict) -> Path:
    """Put a parameterized copy of the notebook in a fresh nbgrader course and generate the
    student version (solutions removed, hidden tests stripped). Returns the student version."""
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    source = course / "source" / ASSIGNMENT
    source.mkdir(parents=True, exist_ok=True)
    nb = parameterize_notebook(load_notebook_node(str(ipynb)), parameters)
    nbformat.write(nb, source / ipynb.name)
    _nbgrader(["generate_assignment", ASSIGNMENT, "--force"], course)
    return course / "release" / ASSIGNMENT / ipynb.name


def autograde(submission: Path, course: Path, student: str, execute: bool = True,
              cell_timeout: int = 600) -> dict[str, tuple[float, float]]:
    """Autograde one submitted notebook with nbgrader; return {grade_id: (score, max_score)}.

    With ``execute=False`` the submission must already be executed (e.g. by papermill): nbgrader
    then grades the outputs it carries instead of running it a second time.
    """
    from nbgrader.api import Gradebook

    submitted = course / "submitted" / student / ASSIGNMENT
    submitted.mkdir(parents=True, exist_ok=True)
    name = submission.name
    shutil.copyfile(submission, submitted / name)
    args = ["autograde", ASSIGNMENT, f"--student={student}", "--force",
            f"--ExecutePreprocessor.timeout={cell_timeout}"]
    if not execute:
        args += ["--Execute.enabled=False", "--ClearOutput.enabled=False"]
    _nbgrader(args, course)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        notebook = gb.find_submission_notebook(Path(name).stem, ASSIGNMENT, student)
        return {g.name: (float(g.score), float(g.max_score)) for g in notebook.grades
                if g.max_score > 0}
