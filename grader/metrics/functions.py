"""The built-in metric functions: pure functions of (labels, predictions) -> float.

The shapes each accepts and how it reduces over samples are tabulated in grader/metrics/__init__.py.
Each first checks its inputs and raises :class:`MetricInputError` (a ValueError) when they do not fit.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable

import numpy as np
from rapidfuzz.distance import Levenshtein
from skimage.metrics import structural_similarity
from sklearn import metrics as sk

DATA_RANGE = 1.0  # psnr and ssim: values scaled to [0, 1]
PSNR_CAP_DB = 100.0  # a perfect sample counts 100 dB, so the mean stays finite
PROBABILITY_TOLERANCE = 1e-3  # log_loss: how far from 1 a row of probabilities may sum
LOG_LOSS_EPS = 1e-15
SSIM_WINDOW = 7


class MetricInputError(ValueError):
    """Labels and predictions do not fit the metric (shape, dtype, range); nothing was computed."""


# ----------------------------------------------------------------------------- input checks

def _pair(labels, predictions, name: str) -> tuple[np.ndarray, np.ndarray]:
    y, p = np.asarray(labels), np.asarray(predictions)
    if y.shape != p.shape:
        raise MetricInputError(f"{name}: labels have shape {y.shape}, predictions {p.shape}; they must match")
    if y.ndim == 0 or y.shape[0] == 0:
        raise MetricInputError(f"{name}: no test inputs (labels have shape {y.shape})")
    return y, p


def _numeric(arrays: dict[str, np.ndarray], name: str, integers: bool = False) -> None:
    for what, a in arrays.items():
        if a.dtype.kind not in "biuf":
            raise MetricInputError(f"{name}: {what} have dtype {a.dtype}, a numeric array is needed")
        if integers and a.dtype.kind == "f" and not np.array_equal(a, np.round(a)):
            raise MetricInputError(f"{name}: {what} must be integer class labels (fractional values found)")


def _classes(labels, predictions, name: str) -> tuple[np.ndarray, np.ndarray]:
    y, p = _pair(labels, predictions, name)
    _numeric({"labels": y, "predictions": p}, name, integers=True)
    return y, p


def _values(labels, predictions, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Float64 (n, elements) rows: float32 predictions keep their precision in the differences."""
    y, p = _pair(labels, predictions, name)
    _numeric({"labels": y, "predictions": p}, name)
    n = y.shape[0]
    return y.astype(np.float64).reshape(n, -1), p.astype(np.float64).reshape(n, -1)


def _texts(labels, predictions, name: str) -> tuple[list[str], list[str]]:
    y, p = _pair(labels, predictions, name)
    if y.ndim != 1:
        raise MetricInputError(f"{name}: text needs a 1-D array of strings, one per test input; got shape {y.shape}")
    for what, a in (("labels", y), ("predictions", p)):
        if not (a.dtype.kind == "U" or a.dtype.kind == "O" and all(isinstance(s, str) for s in a)):
            raise MetricInputError(f"{name}: {what} have dtype {a.dtype}; text needs strings "
                                   "(numpy dtype '<U...', e.g. np.array(list_of_str))")
    return [str(s) for s in y], [str(s) for s in p]


def _scores(labels, predictions, name: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """Flattened labels (m,) and scores (m, C), or (m,) scores of class 1 when binary."""
    y, s = np.asarray(labels), np.asarray(predictions)
    _numeric({"labels": y}, name, integers=True)
    _numeric({"predictions": s}, name)
    binary = s.shape == y.shape
    if not binary and s.shape[:-1] != y.shape:
        raise MetricInputError(
            f"{name}: labels have shape {y.shape}, predictions {s.shape}; scores need the labels' shape plus "
            "a class axis, e.g. (n,) labels and (n, num_classes) predictions, or the labels' shape for "
            "binary scores of class 1")
    if y.ndim == 0 or y.shape[0] == 0:
        raise MetricInputError(f"{name}: no test inputs (labels have shape {y.shape})")
    classes = 2 if binary else s.shape[-1]
    y = y.reshape(-1).astype(np.int64)
    if y.min() < 0 or y.max() >= classes:
        raise MetricInputError(f"{name}: labels must be class indices in 0..{classes - 1} "
                               f"(found {y.min()}..{y.max()})")
    s = s.astype(np.float64)
    return y, (s.reshape(-1) if binary else s.reshape(-1, classes)), binary


# ----------------------------------------------------------------------------- class labels

def accuracy(labels, predictions) -> float:
    y, p = _classes(labels, predictions, "accuracy")
    return float(np.mean(y == p))


def exact_match(labels, predictions) -> float:
    """Class labels: rows all of whose elements are equal; text: strings equal after .strip()."""
    y, p = np.asarray(labels), np.asarray(predictions)
    if y.dtype.kind in "UO" or p.dtype.kind in "UO":
        true, pred = _texts(y, p, "exact_match")
        return float(np.mean([t.strip() == q.strip() for t, q in zip(true, pred)]))
    y, p = _classes(y, p, "exact_match")
    n = y.shape[0]
    return float(np.mean(np.all(y.reshape(n, -1) == p.reshape(n, -1), axis=1)))


def _flat_sklearn(name: str, score: Callable[..., float], **kwargs) -> Callable[[np.ndarray, np.ndarray], float]:
    def function(labels, predictions) -> float:
        y, p = _classes(labels, predictions, name)
        with warnings.catch_warnings():  # "y_pred contains classes not in y_true": the definition handles it
            warnings.simplefilter("ignore")
            return float(score(y.reshape(-1), p.reshape(-1), **kwargs))
    function.__name__ = name
    return function


balanced_accuracy = _flat_sklearn("balanced_accuracy", sk.balanced_accuracy_score)
macro_f1 = _flat_sklearn("macro_f1", sk.f1_score, average="macro", zero_division=0.0)
dice = _flat_sklearn("dice", sk.f1_score, average="macro", zero_division=0.0)  # per-class Dice == per-class F1
mean_iou = _flat_sklearn("mean_iou", sk.jaccard_score, average="macro", zero_division=0.0)


# ----------------------------------------------------------------------------- scores

def log_loss(labels, predictions) -> float:
    y, s, binary = _scores(labels, predictions, "log_loss")
    if binary:
        s = np.stack([1 - s, s], axis=1)
    sums = s.sum(axis=1)
    if s.min() < -PROBABILITY_TOLERANCE or s.max() > 1 + PROBABILITY_TOLERANCE \
            or np.abs(sums - 1).max() > PROBABILITY_TOLERANCE:
        raise MetricInputError(f"log_loss: predictions must be probabilities in [0, 1] whose rows sum to 1 "
                               f"(softmax outputs); values span {s.min():g}..{s.max():g}, "
                               f"row sums {sums.min():g}..{sums.max():g}")
    s = np.clip(s, LOG_LOSS_EPS, 1.0)
    s /= s.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(s[np.arange(len(y)), y])))


def roc_auc(labels, predictions) -> float:
    y, s, binary = _scores(labels, predictions, "roc_auc")
    present = np.unique(y)
    if len(present) < 2:
        raise MetricInputError(f"roc_auc: undefined when the labels hold a single class ({present[0]})")
    if binary or s.shape[1] == 2:
        return float(sk.roc_auc_score(y, s if binary else s[:, 1]))
    return float(np.mean([sk.roc_auc_score(y == c, s[:, c]) for c in present]))


def top_k_accuracy(k: int) -> Callable[[np.ndarray, np.ndarray], float]:
    name = f"top_{k}_accuracy"

    def function(labels, predictions) -> float:
        y, s, binary = _scores(labels, predictions, name)
        if binary:
            raise MetricInputError(f"{name}: predictions need a class axis of num_classes scores, "
                                   f"got the labels' shape {np.shape(labels)}")
        true = s[np.arange(len(y)), y]
        rank = (s >= true[:, None]).sum(axis=1) - 1  # classes scoring at least as high: ties count against
        return float(np.mean(rank < k))
    function.__name__ = name
    return function


# ----------------------------------------------------------------------------- values

def mse(labels, predictions) -> float:
    return float(sk.mean_squared_error(*_values(labels, predictions, "mse")))


def rmse(labels, predictions) -> float:
    return float(np.sqrt(sk.mean_squared_error(*_values(labels, predictions, "rmse"))))


def mae(labels, predictions) -> float:
    return float(sk.mean_absolute_error(*_values(labels, predictions, "mae")))


def r2(labels, predictions) -> float:
    y, p = _values(labels, predictions, "r2")
    if len(y) < 2:
        raise MetricInputError("r2: needs at least 2 test inputs")
    return float(sk.r2_score(y, p, multioutput="uniform_average"))


def psnr(labels, predictions) -> float:
    y, p = _values(labels, predictions, "psnr")
    per_sample_mse = np.mean((y - p) ** 2, axis=1)
    floor = DATA_RANGE**2 / 10 ** (PSNR_CAP_DB / 10)  # the MSE worth PSNR_CAP_DB
    return float(np.mean(10 * np.log10(DATA_RANGE**2 / np.maximum(per_sample_mse, floor))))


def ssim(labels, predictions) -> float:
    y, p = _pair(labels, predictions, "ssim")
    _numeric({"labels": y, "predictions": p}, "ssim")
    rgb = y.ndim >= 4 and y.shape[-1] == 3
    if y.ndim >= 4 and y.shape[-1] == 1:
        y, p = y[..., 0], p[..., 0]
    if y.ndim < 3:
        raise MetricInputError(f"ssim: needs images, e.g. (n, H, W), (n, H, W, 1), (n, H, W, 3) or (n, k, H, W); "
                               f"got shape {np.shape(labels)}")
    image = y.shape[-3:] if rgb else y.shape[-2:]
    if min(image[:2]) < SSIM_WINDOW:
        raise MetricInputError(f"ssim: images must be at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels (its window); "
                               f"got {image[0]}x{image[1]} from shape {np.shape(labels)}")
    y = y.astype(np.float64).reshape(-1, *image)
    p = p.astype(np.float64).reshape(-1, *image)
    channel_axis = -1 if rgb else None
    return float(np.mean([structural_similarity(a, b, data_range=DATA_RANGE, channel_axis=channel_axis)
                          for a, b in zip(y, p)]))


# ----------------------------------------------------------------------------- text

def token_accuracy(labels, predictions) -> float:
    def one(true: str, pred: str) -> float:
        t, q = true.split(), pred.split()
        if not t and not q:
            return 1.0
        return sum(a == b for a, b in zip(t, q)) / max(len(t), len(q))
    return float(np.mean([one(t, q) for t, q in zip(*_texts(labels, predictions, "token_accuracy"))]))


def edit_distance(labels, predictions) -> float:
    true, pred = _texts(labels, predictions, "edit_distance")
    return float(np.mean([Levenshtein.normalized_distance(t, q) for t, q in zip(true, pred)]))


def lcs_ratio(labels, predictions) -> float:
    def one(true: str, pred: str) -> float:
        if not true and not pred:
            return 1.0
        match = difflib.SequenceMatcher(None, true, pred, autojunk=False).find_longest_match(
            0, len(true), 0, len(pred))
        return match.size / max(len(true), len(pred))
    return float(np.mean([one(t, q) for t, q in zip(*_texts(labels, predictions, "lcs_ratio"))]))
