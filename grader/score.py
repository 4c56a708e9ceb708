"""The objective metric, computed in the grader's own process.

The notebook only ever saw the hidden test *inputs*; here its predictions file is validated
(exists, a plain .npy array, right shape and dtype, finite, labels in range) and compared with
the hidden labels, which never left this process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader import kinds, metrics
from grader.exam import Exam
from grader.kinds import KINDS

MAX_PREDICTIONS_BYTES = 512 * 2**20


class PredictionError(ValueError):
    """The predictions cannot be scored; ``failure`` is the class, str(exc) the explanation."""

    def __init__(self, failure: str, message: str):
        super().__init__(message)
        self.failure = failure


@dataclass
class Score:
    metric: str
    value: float  # the mean over rounds when the exam has rounds
    n: int
    std: float | None = None  # over rounds
    rounds: list[float] | None = None  # the metric of each round


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
        what = (KINDS[exam.predictions.kind].save_hint.replace("np.save(PREDICTIONS_PATH, ", "").rstrip(")")
                if exam.predictions.kind == "text" else "a numeric array")
        raise PredictionError("malformed_predictions",
                              f"the predictions file is {kind}: save {what} with np.save") from exc
    except Exception as exc:
        raise PredictionError("malformed_predictions",
                              f"the predictions file cannot be read as .npy ({exc})") from exc
    if not isinstance(predictions, np.ndarray):  # an .npz archive loads as NpzFile
        raise PredictionError("malformed_predictions",
                              "the predictions file is an .npz archive: use np.save, not np.savez")
    return _validate(predictions, exam, n_expected)


def _validate(pred: np.ndarray, exam: Exam, n: int) -> np.ndarray:
    try:
        return kinds.validate(pred, exam.predictions, n)
    except kinds.InvalidPredictions as exc:
        raise PredictionError("malformed_predictions", str(exc)) from exc


def load_labels(path: Path) -> np.ndarray:
    """The hidden labels (trusted: the exam's own file)."""
    return np.load(path, allow_pickle=False)


def score_predictions(predictions_path: Path | None, exam: Exam, labels: np.ndarray | None = None,
                      round_ids: np.ndarray | None = None) -> Score:
    """Validate a predictions file and compute the exam's metric on the hidden labels.

    With rounds (``round_ids``: the round of each test row), the metric is computed on each round's
    rows and the score is their mean, with the standard deviation across rounds."""
    if labels is None:  # the hidden test set, with its rounds
        labels = load_labels(exam.test_labels)
        round_ids = load_labels(exam.test_rounds) if exam.test_rounds is not None else None
    predictions = load_predictions(predictions_path, exam, len(labels))
    function = metrics.get_metric(exam.metric, exam.folder).function

    def measure(y, p) -> float:
        try:
            return float(function(y, p))
        except metrics.MetricInputError as exc:  # e.g. scores that are not probabilities
            raise PredictionError("malformed_predictions", f"the {exam.metric_display} cannot be computed: "
                                                           f"{exc}") from exc

    if round_ids is None:
        return Score(exam.metric, measure(labels, predictions), len(labels))
    per_round = [measure(labels[round_ids == r], predictions[round_ids == r]) for r in np.unique(round_ids)]
    return Score(exam.metric, float(np.mean(per_round)), len(labels), float(np.std(per_round)), per_round)
