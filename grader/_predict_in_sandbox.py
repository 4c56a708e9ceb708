"""Runs inside the sandbox for exams with ``predict = "model"``: the grader's own prediction step.

    python -I -c BOOTSTRAP '<json config>'

Loads the handed-in model with ``keras.saving.load_model(..., safe_mode=True)`` (no code from the file
runs: Lambda layers and unregistered custom objects are refused), optionally passes the test inputs
through the exam's own preprocessing function, predicts, and saves the predictions. For class labels,
scores with one column per class are turned into labels (argmax), as a student's notebook would.
It also reports the loaded model's own parameter count, so a model file whose weight shapes were
doctored to look small (the grader counts shapes before the run) is caught here.
Only the exam's files and the model run here: no code a student wrote.
Config keys: model, inputs, output, preprocess (path or null), function, kind, num_classes, shape.
"""

from __future__ import annotations

import importlib.util
import json


def main(argv: list[str]) -> int:
    cfg = json.loads(argv[0])
    import numpy as np

    x = np.load(cfg["inputs"], allow_pickle=False)
    if cfg.get("preprocess"):
        spec = importlib.util.spec_from_file_location("exam_preprocess", cfg["preprocess"])
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        x = getattr(module, cfg["function"])(x)
    import keras

    try:
        model = keras.saving.load_model(cfg["model"], compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - reported to the student as data
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"[:1000]}))
        return 0
    y = np.asarray(model.predict(x, batch_size=256, verbose=0))
    if cfg["kind"] == "class_labels" and y.ndim == 1 + len(cfg["shape"]) + 1 and y.shape[-1] == cfg["num_classes"]:
        y = y.argmax(axis=-1)
    np.save(cfg["output"], y)
    print(json.dumps({"shape": list(y.shape), "parameters": int(model.count_params())}))
    return 0


BOOTSTRAP = (
    "import sys; sys.path.append(sys.argv.pop(1)); "
    "from grader._predict_in_sandbox import main; sys.exit(main(sys.argv[1:]))"
)
