"""``predict = "model"``: the grader predicts with the handed-in model itself, in the sandbox.

The notebook's own predictions are not used, so the model that is scored is exactly the model whose
parameters were counted (the file handed in). See _predict_in_sandbox.py for what runs inside.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from grader._predict_in_sandbox import BOOTSTRAP
from grader.exam import Exam
from grader.execute import copy_out
from grader.sandbox import PYTHON, SANDBOX_HOME, SANDBOX_WORK, Limits, isolation_available, run_sandboxed
from grader.score import PredictionError


def predict_with_model(model_file: Path, exam: Exam, inputs: Path, dest: Path, limits: Limits, *,
                       require_isolation: bool = False, gpu: bool = False,
                       backend: str | None = None) -> tuple[Path, int]:
    """(predictions of ``model_file`` on ``inputs`` saved at ``dest``, the loaded model's parameter
    count); raises PredictionError."""
    isolated, _ = isolation_available()
    with tempfile.TemporaryDirectory(prefix="grader-predict-") as tmp:
        tmp = Path(tmp)
        scratch = tmp / "scratch"
        scratch.mkdir()
        staged = tmp / "inputs" / inputs.name
        staged.parent.mkdir()
        shutil.copyfile(inputs, staged)
        preprocess, function = None, None
        if exam.preprocess:
            file, _, function = exam.preprocess.partition(":")
            preprocess = exam.folder / file
        if isolated:
            readonly = [(model_file, f"{SANDBOX_HOME}/handin/{model_file.name}"),
                        (staged.parent, f"{SANDBOX_HOME}/test_inputs")]
            if preprocess:
                readonly.append((preprocess, f"{SANDBOX_HOME}/exam/{preprocess.name}"))
            paths = {"model": f"{SANDBOX_HOME}/handin/{model_file.name}",
                     "inputs": f"{SANDBOX_HOME}/test_inputs/{staged.name}",
                     "preprocess": f"{SANDBOX_HOME}/exam/{preprocess.name}" if preprocess else None,
                     "output": f"{SANDBOX_WORK}/predictions.npy"}
        else:
            readonly = []
            paths = {"model": str(model_file), "inputs": str(staged), "preprocess": str(preprocess or "") or None,
                     "output": str(scratch / "predictions.npy")}
        spec = exam.predictions
        config = {**paths, "function": function, "kind": spec.kind, "num_classes": spec.num_classes,
                  "shape": list(spec.shape)}
        package_parent = str(Path(__file__).resolve().parent.parent)
        result = run_sandboxed([PYTHON, "-I", "-c", BOOTSTRAP, package_parent, json.dumps(config)],
                               scratch=scratch, readonly=readonly, limits=limits,
                               env={"KERAS_BACKEND": backend} if backend else None,
                               require_isolation=require_isolation, gpu=gpu)
        lines = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
        info = json.loads(lines[-1]) if lines else {}
        if "error" in info:
            raise PredictionError("malformed_predictions",
                                  f"the grader cannot load {model_file.name} with keras.saving.load_model("
                                  f"safe_mode=True), as this exam requires: {info['error'][:300]}")
        if result.failure or not info:
            why = result.message if result.failure else (result.stderr.strip().splitlines() or ["?"])[-1][:300]
            raise PredictionError(result.failure or "exception",
                                  f"the grader's prediction with {model_file.name} failed: {why}")
        out, why = copy_out(scratch, "predictions.npy", dest, limits.max_file_bytes)
        if out is None:
            raise PredictionError("missing_predictions", f"the grader's prediction wrote no file ({why})")
        return out, int(info.get("parameters", 0))
