"""Check and normalize a submitted notebook before it runs.

What can make a notebook unrunnable gets a ``NotebookProblem`` with a message the student can
act on (not JSON, empty, unknown nbformat version, no code...). What can be mended is mended and
noted: duplicate cell ids, huge embedded outputs (cleared: the grader re-executes anyway), Colab-only
lines such as ``drive.mount`` or ``!pip install`` (disabled: there is no network while grading),
and a missing ``parameters`` cell (Colab cannot tag cells: the cell that assigns the contract
names is tagged, or one is inserted first).
"""

from __future__ import annotations

import copy
import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader import safe_files

CONTRACT_NAMES = ("GRADING", "DATA_DIR", "TEST_INPUTS", "PREDICTIONS_PATH", "MODEL_PATH")
MAX_NOTEBOOK_BYTES = 100 * 2**20
# A real notebook holds a few lists and objects per cell and output (a 2,000-cell notebook: ~20,000);
# 5 MB of "[]," holds 3.5 million and costs ~0.3 GB to parse, so the count is checked first.
MAX_JSON_CONTAINERS = 200_000
# Lines that only make sense in Colab or need the network; disabled, not deleted, so the executed
# notebook shows the student what happened. Matched one line at a time, on the line without its
# indentation, by patterns that cannot backtrack across lines (student text is hostile: a regex with
# `^\s*` over 40,000 blank lines took 81 s).
_SHELL_NETWORK = ("wget", "curl", "apt", "apt-get", "gdown", "git")
_COLAB_CALLS = re.compile(r"\bdrive\.mount\(|\bfiles\.(?:upload|download)\(")
ASSIGNS_CONTRACT = re.compile(rf"^[ \t]*({'|'.join(CONTRACT_NAMES)})[ \t]*=", re.M)


class NotebookProblem(ValueError):
    """The file cannot be run as a notebook; str(exc) tells the student why."""


@dataclass
class Normalized:
    notebook: nbformat.NotebookNode  # ready to run: outputs cleared, parameters cell tagged
    original: nbformat.NotebookNode  # as handed in (outputs kept: the quality rubric reads them)
    notes: list[str] = field(default_factory=list)
    backend: str | None = None  # the Keras backend the notebook declares (None: the exam's default)


def read_notebook(path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> tuple[nbformat.NotebookNode, int]:
    """Parse a submitted file into an nbformat-4 notebook, or raise NotebookProblem.

    The size is checked before anything is parsed, and a symlink is never followed.
    Returns the notebook and how many duplicate cell ids it had (nbformat repairs them).
    """
    try:
        fd = safe_files.open_regular(path)
    except safe_files.UnsafeFile as exc:
        raise NotebookProblem(f"the notebook cannot be read: {exc}") from exc
    size = os.fstat(fd).st_size
    os.close(fd)
    if size == 0:
        raise NotebookProblem("the notebook file is empty (0 bytes): save it again before handing in")
    if size > max_bytes:
        raise NotebookProblem(f"the notebook is {size / 2**20:.1f} MB (limit {max_bytes / 2**20:g} MB): "
                              "clear the outputs before handing in")
    try:
        raw = safe_files.read_limited(path, max_bytes)
    except safe_files.UnsafeFile as exc:
        raise NotebookProblem(f"the notebook cannot be read: {exc}") from exc
    containers = raw.count(b"[") + raw.count(b"{")
    if containers > MAX_JSON_CONTAINERS:  # each costs ~100 bytes parsed: bound the memory before parsing
        raise NotebookProblem(f"the notebook's JSON holds {containers:,} lists and objects (limit "
                              f"{MAX_JSON_CONTAINERS:,}): save it again from Jupyter or Colab")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except RecursionError as exc:
        raise NotebookProblem("the notebook's JSON is nested too deeply to be a notebook: save it again "
                              "from Jupyter or Colab") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        hint = " (it looks like a Python script: download the .ipynb instead)" if raw[:1] in b"#i" else ""
        raise NotebookProblem(f"the file is not a Jupyter notebook: not valid JSON{hint} ({exc})") from exc
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise NotebookProblem("the file is JSON but not a Jupyter notebook (no cells)")
    major = data.get("nbformat")
    if major not in (3, 4):
        raise NotebookProblem(f"unknown notebook format version {major!r}: save it with Jupyter or "
                              "Colab (nbformat 4)")
    ids = [c.get("id") for c in data.get("cells", []) if isinstance(c, dict) and c.get("id")]
    duplicates = len(ids) - len(set(ids))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DuplicateCellId: repaired here, reported as a note
            nb = nbformat.reads(json.dumps(data), as_version=4)
    except (RecursionError, MemoryError) as exc:
        raise NotebookProblem("the notebook's structure is too large or nested too deeply") from exc
    except Exception as exc:  # nbformat raises several types for broken structure
        raise NotebookProblem(f"the notebook structure is broken ({type(exc).__name__}: {exc})") from exc
    return nb, duplicates


def normalize_notebook(path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> Normalized:
    """Read, validate and prepare a submission for execution."""
    original, duplicates = read_notebook(path, max_bytes)
    notes = [f"repaired {duplicates} duplicate cell id(s)"] if duplicates else []
    nb = copy.deepcopy(original)  # the original keeps its outputs for the quality rubric
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotebookProblem(f"the notebook does not follow nbformat 4: {exc.message}") from exc

    code_cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    if not code_cells:
        raise NotebookProblem("the notebook has no code: nothing to run")

    if _clear_outputs(nb):
        notes.append("cleared the outputs handed in (the grader runs the notebook again)")
    disabled = _disable_colab_only_lines(nb)
    if disabled:
        notes.append(f"disabled {disabled} Colab/network-only line(s) such as drive.mount or !pip: "
                     "the grader runs offline with the exam's packages")
    notes += _ensure_parameters_cell(nb)
    backend = declared_backend(original)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return Normalized(nb, original, notes, backend)


_BACKEND_ASSIGN = re.compile(r"""^[ \t]*KERAS_BACKEND[ \t]*=[ \t]*["']([a-z]{1,20})["']""", re.M)


def declared_backend(nb) -> str | None:
    """The Keras backend a notebook declares: ``metadata.keras_backend``, or ``KERAS_BACKEND = "jax"``
    in its parameters cell (or a cell that sets ``os.environ["KERAS_BACKEND"]``)."""
    meta = nb.metadata.get("keras_backend")
    if isinstance(meta, str):
        return meta.strip().lower()
    for cell in nb.cells:
        if cell.cell_type != "code" or len(cell.source) > 200_000:
            continue
        tagged = "parameters" in cell.metadata.get("tags", [])
        found = _BACKEND_ASSIGN.search(cell.source) if tagged else None
        if found is None and "KERAS_BACKEND" in cell.source:
            found = _ENVIRON_BACKEND.search(cell.source)
        if found:
            return found.group(1)
    return None


_ENVIRON_BACKEND = re.compile(r"""environ\[["']KERAS_BACKEND["']\][ \t]*=[ \t]*["']([a-z]{1,20})["']""")


def _clear_outputs(nb) -> bool:
    had = False
    for cell in nb.cells:
        if cell.cell_type == "code":
            had = had or bool(cell.outputs)
            cell.outputs, cell.execution_count = [], None
    return had


def colab_only(line: str) -> bool:
    """Whether one line of code (without its indentation) only makes sense in Colab or online."""
    if line.startswith(("from google.colab import", "%tensorflow_version")):
        return True
    if line[:1] in ("!", "%"):
        words = line[1:].lstrip().split(None, 1)
        first = words[0] if words else ""
        if first == "pip" or (line[0] == "!" and first in _SHELL_NETWORK):
            return True
    return ("mount(" in line or "files." in line) and _COLAB_CALLS.search(line) is not None


def _disable_colab_only_lines(nb) -> int:
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lines = cell.source.split("\n")
        for i, line in enumerate(lines):
            body = line.lstrip()
            if body and colab_only(body.rstrip()):
                indent = line[: len(line) - len(body)]
                lines[i] = f"{indent}pass  # [grader] disabled: {body.strip()}"
                count += 1
        cell.source = "\n".join(lines)
    return count


def _ensure_parameters_cell(nb) -> list[str]:
    """Papermill injects the grading parameters right after the cell tagged 'parameters'."""
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if tagged:
        return []
    for cell in nb.cells:
        if cell.cell_type == "code" and ASSIGNS_CONTRACT.search(cell.source):
            cell.metadata.setdefault("tags", []).append("parameters")
            names = sorted(set(ASSIGNS_CONTRACT.findall(cell.source)))
            return [f"no cell was tagged 'parameters': tagged the first cell that sets {', '.join(names)}"]
    new = nbformat.v4.new_code_cell("# parameters (inserted by the grader)", metadata={"tags": ["parameters"]})
    nb.cells.insert(0, new)
    return ["no cell was tagged 'parameters' and none sets GRADING/DATA_DIR/...: the grader's "
            "parameters were placed before the first cell"]
