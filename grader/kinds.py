"""The kinds of predictions an exam can ask for, as data: what a valid array is, and how to say so.

Every stage that depends on the task's kind reads it from here (scoring validates with ``validate``,
the student template and the task text use ``save_hint`` and ``describe``, the rubric uses ``words``),
so a new kind is one entry of ``KINDS``, not an if-branch in each module.

| kind           | dtype                 | shape            | example                                    |
|----------------|-----------------------|------------------|--------------------------------------------|
| class_labels   | integers in [0, K)    | (n, *shape)      | (n,) labels, (n, 2) pairs, (n, H, W) masks |
| scores         | finite floats         | (n, *shape)      | (n, K) class probabilities                 |
| values         | finite floats         | (n, *shape)      | (n,) targets, (n, 2, 28, 28) two images    |
| text           | unicode strings ("U") | (n,)             | np.array(["a b +", ...])                   |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


class InvalidPredictions(ValueError):
    """The array does not have the kind, shape or dtype the exam asks for; str(exc) says why."""


@dataclass(frozen=True)
class Kind:
    name: str
    describe: str  # what one prediction is, for the task text and messages
    save_hint: str  # the line that saves predictions correctly, for messages and the student template
    words: tuple[str, ...]  # what a good notebook of this kind talks about (the quality rubric)
    check: Callable[[np.ndarray, object], np.ndarray]  # (array of the right shape, Predictions spec) -> array


def _numeric(pred: np.ndarray) -> None:
    if pred.dtype.kind not in "biuf":
        raise InvalidPredictions(f"predictions have dtype {pred.dtype}: a numeric array is needed")
    if pred.dtype.kind == "f" and not np.isfinite(pred).all():
        bad = int((~np.isfinite(pred)).sum())
        raise InvalidPredictions(f"{bad} predictions are NaN or infinite")


def _class_labels(pred: np.ndarray, spec) -> np.ndarray:
    _numeric(pred)
    if pred.dtype.kind == "f":
        if not np.array_equal(pred, np.round(pred)):
            raise InvalidPredictions("class labels must be integers (got fractional values): "
                                     "save np.argmax(scores, axis=-1).astype('int64')")
    pred = pred.astype(np.int64)
    out_of_range = (pred < 0) | (pred >= spec.num_classes)
    if out_of_range.any():
        raise InvalidPredictions(f"{int(out_of_range.sum())} labels outside 0..{spec.num_classes - 1}")
    return pred


def _floats(pred: np.ndarray, spec) -> np.ndarray:
    _numeric(pred)
    return pred.astype(np.float64)


def _text(pred: np.ndarray, spec) -> np.ndarray:
    if pred.dtype.kind != "U":
        hint = " (bytes: decode them to str first)" if pred.dtype.kind == "S" else ""
        raise InvalidPredictions(f"predictions have dtype {pred.dtype}: an array of strings is needed{hint}, "
                                 "e.g. np.array(list_of_strings)")
    return pred


KINDS: dict[str, Kind] = {k.name: k for k in [
    Kind("class_labels", "an integer class label", "np.save(PREDICTIONS_PATH, np.argmax(scores, axis=-1))",
         ("class", "classes", "label", "confusion", "misclassified", "balance", "imbalance"), _class_labels),
    Kind("scores", "a score (probability) per class", "np.save(PREDICTIONS_PATH, model.predict(x))",
         ("class", "probability", "calibration", "threshold", "confusion"), _floats),
    Kind("values", "real values", "np.save(PREDICTIONS_PATH, model.predict(x))",
         ("error", "residual", "target", "range", "scale", "distribution"), _floats),
    Kind("text", "a string", "np.save(PREDICTIONS_PATH, np.array(predicted_strings))",
         ("token", "vocabulary", "sequence", "length", "decoding", "tokens"), _text),
]}


def validate(pred: np.ndarray, spec, n: int) -> np.ndarray:
    """The predictions as the metric will see them, or InvalidPredictions with a student-facing reason."""
    kind = KINDS[spec.kind]
    expected = (n, *spec.shape)
    if pred.shape != expected:
        hint = ""
        if spec.kind == "class_labels" and pred.shape == (*expected, spec.num_classes):
            hint = " — these look like class scores: save np.argmax(scores, axis=-1)"
        elif pred.ndim >= 1 and pred.shape[0] != n:
            hint = f" — one row per test input is needed, {pred.shape[0]} rows were saved"
        elif pred.size == np.prod(expected):
            hint = f" — the right number of values: reshape them with .reshape{expected}"
        raise InvalidPredictions(f"predictions have shape {pred.shape}, expected {expected}{hint}")
    return kind.check(pred, spec)
