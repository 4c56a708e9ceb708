"""A tiny but complete exam folder for tests: 3-class labels, NumPy-only data."""

from pathlib import Path

import numpy as np

EXAM_TOML = """\
[exam]
title = "Tiny exam"
task = "Predict the class of each row."
mode = "{mode}"

[metric]
name = "{metric}"

[data]
public = "data/public"
test_inputs = "data/hidden/test_inputs.npy"
test_labels = "data/hidden/test_labels.npy"
validation_inputs = "data/public/val_inputs.npy"
validation_labels = "data/public/val_labels.npy"

[predictions]
kind = "class_labels"
num_classes = 3
shape = []

[limits]
time_seconds = {time_seconds}
cell_seconds = {cell_seconds}
memory_mb = 2048
{max_parameters_line}
forbidden_imports = ["requests", "socket"]
forbid_pretrained = true
model_file = "model.keras"

[grading]
scheme = "linear"
baseline = 0.34
bonus = 1
scale = 30
"""


def make_exam(folder: Path, *, mode="retrain", metric="accuracy", time_seconds=120, cell_seconds=60,
              max_parameters=1000, n_test=30, extra="") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "exam.toml").write_text(EXAM_TOML.format(mode=mode, metric=metric, time_seconds=time_seconds,
                                                       cell_seconds=cell_seconds,
                                                       max_parameters_line=f"max_parameters = {max_parameters}"
                                                       if max_parameters else "") + extra)
    rng = np.random.default_rng(0)
    for split, n in (("public", 60), ("hidden", n_test)):
        d = folder / "data" / split
        d.mkdir(parents=True, exist_ok=True)
        x = rng.normal(size=(n, 2)).astype("float32")
        y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 1).astype("int64")
        if split == "public":
            np.save(d / "train_inputs.npy", x), np.save(d / "train_labels.npy", y)
            np.save(d / "val_inputs.npy", x[:20]), np.save(d / "val_labels.npy", y[:20])
        else:
            np.save(d / "test_inputs.npy", x), np.save(d / "test_labels.npy", y)
    return folder


PARAMS = ('GRADING = False\nDATA_DIR = "data/public"\nTEST_INPUTS = "data/public/val_inputs.npy"\n'
          'PREDICTIONS_PATH = "predictions.npy"\nMODEL_PATH = "model.keras"')
RULE = ("import numpy as np\nx = np.load(TEST_INPUTS)\n"
        "pred = (x[:, 0] > 0).astype('int64') + (x[:, 1] > 1).astype('int64')")


def student_notebook(*code: str, params: bool = True, prose: bool = False):
    """A submission: optional tagged parameters cell, then the given code cells."""
    import nbformat

    v4 = nbformat.v4
    cells = []
    if prose:
        cells.append(v4.new_markdown_cell("# Problem statement\n\nWe must predict the class of each row; "
                                          "the metric is accuracy on a hidden test set. " * 3))
    if params:
        cells.append(v4.new_code_cell(PARAMS, metadata={"tags": ["parameters"]}))
    cells += [v4.new_code_cell(c) for c in code]
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


TINY_CLASS = {
    "good": [RULE, "np.save(PREDICTIONS_PATH, pred)"],
    "half_right": [RULE, "pred[::2] = (pred[::2] + 1) % 3\nnp.save(PREDICTIONS_PATH, pred)"],
    "crash": [RULE, "undefined_name + 1"],
    "bad_shape": [RULE, "np.save(PREDICTIONS_PATH, np.eye(3)[pred])"],
    "no_predictions": [RULE],
    "forbidden": ["import socket", RULE, "np.save(PREDICTIONS_PATH, pred)"],
}


def write_tiny_class(folder: Path) -> Path:
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    for name, code in TINY_CLASS.items():
        nbformat.write(student_notebook(*code), folder / f"{name}.ipynb")
    # Colab cannot tag cells: the same good code without a parameters tag must still be graded right.
    nbformat.write(student_notebook(PARAMS, RULE, "np.save(PREDICTIONS_PATH, pred)", params=False),
                   folder / "colab_untagged.ipynb")
    (folder / "not_json.ipynb").write_text("print('hello')")
    return folder


def write_bad_inputs(folder: Path) -> Path:
    """Hand-ins that must each get a clear verdict without stopping the batch (or be mended)."""
    import json

    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.ipynb").write_bytes(b"")
    (folder / "future.ipynb").write_text(json.dumps({"nbformat": 99, "nbformat_minor": 0, "cells": [],
                                                     "metadata": {}}))
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# all words")]),
                   folder / "words_only.ipynb")
    # a good notebook with duplicate cell ids, huge embedded outputs and a name with a space and accents
    good = student_notebook(RULE, "np.save(PREDICTIONS_PATH, pred)")
    good.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="y" * 3_000_000)]
    raw = json.loads(nbformat.writes(good))
    raw["cells"][2]["id"] = raw["cells"][1]["id"]
    (folder / "José Müller.ipynb").write_text(json.dumps(raw))
    nbformat.write(student_notebook(RULE, "import pickle\npickle.dump(list(pred), open(PREDICTIONS_PATH, 'wb'))"),
                   folder / "pickled.ipynb")
    nbformat.write(student_notebook(RULE, "import os\nos.symlink('/etc/passwd', PREDICTIONS_PATH)"),
                   folder / "linked.ipynb")
    (folder / "zipped.zip").write_bytes(b"PK\x03\x04 not really")
    nbformat.write(student_notebook(RULE), folder / "twice.ipynb")  # the same student, flat and as a folder
    (folder / "twice").mkdir()
    nbformat.write(student_notebook(RULE), folder / "twice" / "twice.ipynb")
    return folder
