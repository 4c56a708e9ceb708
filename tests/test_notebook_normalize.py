"""Submitted notebooks: what cannot run gets a clear verdict, what can be mended is mended."""

import json

import nbformat
import pytest

from grader.notebook import NotebookProblem, normalize_notebook

new_code, new_md = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell


def write(path, cells, **meta):
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata.update(meta)
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("content,match", [
    (b"", "empty"),
    (b"import numpy as np\nprint(1)\n", "not valid JSON.*Python script"),
    (b"\x89PNG\r\n\x1a\n", "not valid JSON"),
    (b'{"a": 1}', "not a Jupyter notebook"),
    (json.dumps({"cells": [], "nbformat": 7, "nbformat_minor": 0, "metadata": {}}).encode(), "unknown notebook format"),
])
def test_unrunnable_files(tmp_path, content, match):
    path = tmp_path / "s.ipynb"
    path.write_bytes(content)
    with pytest.raises(NotebookProblem, match=match):
        normalize_notebook(path)


def test_no_code(tmp_path):
    with pytest.raises(NotebookProblem, match="no code"):
        normalize_notebook(write(tmp_path / "s.ipynb", [new_md("# only words"), new_code("   ")]))


def test_parameters_cell_tagged_when_missing(tmp_path):
    cells = [new_md("# my exam"), new_code("import numpy as np"),
             new_code("GRADING = False\nDATA_DIR = 'data/public'"), new_code("print(DATA_DIR)")]
    result = normalize_notebook(write(tmp_path / "s.ipynb", cells))
    tagged = [c for c in result.notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].source.startswith("GRADING = False")
    assert any("tagged the first cell" in n for n in result.notes)


def test_parameters_cell_inserted_when_nothing_sets_the_names(tmp_path):
    result = normalize_notebook(write(tmp_path / "s.ipynb", [new_code("x = 1")]))
    assert "parameters" in result.notebook.cells[0].metadata["tags"]


def test_colab_lines_disabled_outputs_cleared_duplicate_ids_repaired(tmp_path):
    a = new_code("from google.colab import drive\ndrive.mount('/content/drive')\n!pip install -q foo\nx = 1")
    a.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 5_000_000)]
    b = new_code("  %pip install bar\ny = 2")
    path = write(tmp_path / "s.ipynb", [a, b])
    raw = json.loads(path.read_text())
    raw["cells"][1]["id"] = raw["cells"][0]["id"]  # duplicate cell ids, as some editors produce
    path.write_text(json.dumps(raw))
    result = normalize_notebook(path)
    first, second = result.notebook.cells[-2:]
    assert "pass  # [grader] disabled: drive.mount" in first.source and "x = 1" in first.source
    assert second.source.startswith("  pass  # [grader] disabled: %pip")
    assert first.outputs == [] and result.original.cells[0].outputs, "original keeps outputs for the rubric"
    assert first.id != second.id
    compile(first.source, "cell", "exec")  # still valid Python
    assert any("disabled" in n for n in result.notes) and any("repaired" in n for n in result.notes)


def test_nbformat_v3_is_upgraded(tmp_path):
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "x = 1", "language": "python", "outputs": [], "metadata": {}}]}]}
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    result = normalize_notebook(path)
    assert result.notebook.nbformat == 4 and result.notebook.cells[-1].source == "x = 1"
