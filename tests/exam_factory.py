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
max_parameters = {max_parameters}
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
                                                       max_parameters=max_parameters) + extra)
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
