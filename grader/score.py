"""The objective metric, computed in the grader's own process.

The notebook only ever saw the hidden test *inputs*; here its predictions file is validated
(exists, a plain .npy array, right shape and dtype, finite, labels in range) and compared with
the hidden labels, which never left this process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader import metrics
from grader.exam import Exam

MAX_PREDICTIONS_BYTES = 512 * 2**20


class PredictionError(ValueError):
    """The predictions cannot be scored; ``failure`` is the class, str(exc) the explanation."""

    def __init__(self, failure: str, message: str):
        super().__init__(message)
        self.failure = failure


@dataclass
class Score:
    metric: str
    value: float
    n: int


def load_predictions(path: Path | None, exam: Exam, n_expected: int) -> np.ndarray:
    """Load and validate a predictions file against the exam's prediction format."""
    if path is None or not path.exists() and not path.is_symlink():
        raise PredictionError("missing_predictions",
                              "no predictions file: the notebook must save them with "
                              "np.save(PREDICTIONS_PATH, predictions) when GRADING is True")
    if path.is_symlink() or not path.is_file():
        raise PredictionError("malformed_predictions",
                              "the predictions file is not a regular file (a link or a folder): save "
                              "the array itself with np.save(PREDICTIONS_PATH, ...)")
    if path.stat().st_size > MAX_PREDICTIONS_BYTES:
        raise PredictionError("malformed_predictions", f"the predictions file is over "
                              f"{MAX_PREDICTIONS_BYTES // 2**20} MB")
    try:
        predictions = np.load(path, allow_pickle=False)  # never unpickle what a student wrote
    except ValueError as exc:
        text = str(exc)
        kind = ("a Python pickle, not a .npy array" if "pickled" in text
                else "an array of Python objects (needs pickle)" if "Object arrays" in text
                else "not a NumPy .npy array")
        raise PredictionError("malformed_predictions",
                              f"the predictions file is {kind}: save a numeric array with np.save") from exc
    except Exception as exc:
        raise PredictionError("malformed_predictions",
                              f"the predictions file cannot be read as .npy ({exc})") from exc
    if not isinstance(predictions, np.ndarray):  # an .npz archive loads as NpzFile
        raise PredictionError("malformed_predictions",
                              "the predictions file is an .npz archive: use np.save, not np.savez")
    return _validate(predictions, exam, n_expected)


def _validate(pred: np.ndarray, exam: Exam, n: int) -> np.ndarray:
    spec = exam.predictions
    expected = (n, *spec.shape)
    if pred.shape != expected:
        hint = ""
        if spec.kind == "class_labels" and pred.shape == (n, spec.num_classes):
            hint = " — these look like class scores: save np.argmax(scores, axis=1)"
        elif pred.ndim >= 1 and pred.shape[0] != n:
            hint = f" — one row per test input is needed, {pred.shape[0]} rows were saved"
        raise PredictionError("malformed_predictions",
                              f"predictions have shape {pred.shape}, expected {expected}{hint}")
    if pred.dtype.kind not in "biuf":
        raise PredictionError("malformed_predictions",
                              f"predictions have dtype {pred.dtype}: a numeric array is needed")
    if pred.dtype.kind == "f" and not np.isfinite(pred).all():
        bad = int((~np.isfinite(pred)).sum())
        raise PredictionError("malformed_predictions", f"{bad} predictions are NaN or infinite")
    if spec.kind == "class_labels":
        if pred.dtype.kind == "f":
            if not np.array_equal(pred, np.round(pred)):
                raise PredictionError("malformed_predictions",
                                      "class labels must be integers (got fractional values): "
                                      "save np.argmax(scores, axis=1).astype('int64')")
        pred = pred.astype(np.int64)
        out_of_range = (pred < 0) | (pred >= spec.num_classes)
        if out_of_range.any():
            raise PredictionError("malformed_predictions",
                                  f"{int(out_of_range.sum())} labels outside 0..{spec.num_classes - 1}")
    return pred


def load_labels(path: Path) -> np.ndarray:
    """The hidden labels (trusted: the exam's own file)."""
    return np.load(path, allow_pickle=False)


def score_predictions(predictions_path: Path | None, exam: Exam, labels: np.ndarray | None = None) -> Score:
    """Validate a predictions file and compute the exam's metric on the hidden labels."""
    labels = load_labels(exam.test_labels) if labels is None else labels
    predictions = load_predictions(predictions_path, exam, len(labels))
    value = metrics.get_metric(exam.metric).function(labels, predictions)
    return Score(exam.metric, float(value), len(labels))
