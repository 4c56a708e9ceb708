"""The exam metrics: pure functions of (labels, predictions) -> float, computed in the grader's process.

An exam names a metric in exam.toml (``[metric] name``). Every metric accepts every shape its
prediction kind allows (one row per test input: ``(n,)``, ``(n, 2)``, ``(n, 28, 28)``,
``(n, 2, 28, 28)``, ``(n, 28, 28, 1)``, ``(n, 32, 32, 3)``...) and reduces over samples as below.
Labels and predictions must have the same shape (``scores``: the labels' shape plus a class axis).

=================  ============  =========  =====================================================
metric             kinds         direction  reduction
=================  ============  =========  =====================================================
accuracy           class_labels  higher     equal elements / all elements ((n, 2): mean of the two
                                            accuracies; masks: pixel accuracy)
exact_match        class_labels  higher     rows whose elements are all equal / n;
                   text                     text: strings equal after stripping outer whitespace
balanced_accuracy  class_labels  higher     all elements flattened; recall of each class present
                                            in the labels, averaged over those classes
macro_f1           class_labels  higher     all elements flattened; F1 = 2TP / (2TP + FP + FN) of each
                                            class present in labels or predictions, averaged
dice               class_labels  higher     per class over all pixels of all samples,
                                            2|L∩P| / (|L| + |P|), averaged over the classes present in
                                            labels or predictions (the same number as macro_f1)
mean_iou           class_labels  higher     per class over all pixels of all samples,
                                            |L∩P| / |L∪P|, averaged over the classes present in labels
                                            or predictions
log_loss           scores        lower      mean over elements of -ln p(true class); probabilities
                                            clipped to [1e-15, 1] and rows renormalized
roc_auc            scores        higher     all elements flattened; binary: AUC of the class-1 score;
                                            more classes: one-vs-rest AUC of each class present in the
                                            labels, averaged (macro)
top_5_accuracy     scores        higher     true class among the k highest scores, mean over elements;
                                            ties count against; any ``top_<k>_accuracy`` works
mse, mae           values        lower      mean over all elements = mean of the per-sample means
rmse               values        lower      sqrt(mse) (not a mean of per-sample RMSEs)
r2                 values        higher     r2_score(y.reshape(n, -1), p.reshape(n, -1)): R² of each
                                            element position over the samples, uniform average
psnr               values        higher     per sample 10 log10(1 / MSE) in dB (data range 1.0),
                                            capped at 100 dB, mean over samples
ssim               values        higher     skimage structural_similarity (data_range 1.0, 7x7 window)
                                            of each 2-D image in the last two axes (a trailing channel
                                            axis of 1 is squeezed; of 3 is RGB, channel_axis=-1),
                                            mean over images; images of at least 7x7
token_accuracy     text          higher     whitespace tokens equal position by position /
                                            max(len(true), len(pred)), mean over samples (two empty: 1)
edit_distance      text          lower      rapidfuzz normalized Levenshtein distance in [0, 1],
                                            mean over samples
lcs_ratio          text          higher     longest common substring (difflib, autojunk=False) /
                                            max(len(true), len(pred)), mean over samples (two empty: 1)
=================  ============  =========  =====================================================

``scores`` labels are class indices; the predictions add a trailing axis of ``num_classes`` scores
(``(n,)`` labels -> ``(n, C)``), or have the labels' shape for binary scores of class 1. ``text`` is a
1-D array of strings (numpy dtype kind "U"). Text metrics compare strings as saved (only exact_match
strips whitespace, only token_accuracy splits).

Custom metrics: ``"metric.py:score"`` is a function in a file of the exam folder (loaded with
``importlib.util.spec_from_file_location`` under a module name unique to its path, in the grader's
process: the instructor's trusted code), ``"package.module:function"`` an importable one. Optional
module constants ``DIRECTION = "lower"``, ``DISPLAY = "..."``, ``KINDS = ("text",)`` describe it
(defaults: "higher", the function's name, every kind); ``[metric] direction`` still overrides.

A metric raises :class:`MetricInputError` (a ValueError) when labels and predictions do not fit it.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import importlib
import importlib.util
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from grader.metrics.functions import (
    PSNR_CAP_DB,
    MetricInputError,
    accuracy,
    balanced_accuracy,
    dice,
    edit_distance,
    exact_match,
    lcs_ratio,
    log_loss,
    macro_f1,
    mae,
    mean_iou,
    mse,
    psnr,
    r2,
    rmse,
    roc_auc,
    ssim,
    token_accuracy,
    top_k_accuracy,
)

__all__ = ["KINDS", "REGISTRY", "Metric", "MetricInputError", "get_metric"]

KINDS = ("class_labels", "scores", "values", "text")
DIRECTIONS = ("higher", "lower")


@dataclass(frozen=True)
class Metric:
    name: str
    function: Callable[[np.ndarray, np.ndarray], float]
    direction: str  # "higher" or "lower"
    display: str  # for reports: "Accuracy", "MSE", "PSNR (dB)"...
    description: str  # one line, with the reduction over samples
    kinds: tuple[str, ...]  # the prediction kinds it accepts


# ----------------------------------------------------------------------------- registry

def _top_k_metric(k: int) -> Metric:
    return Metric(f"top_{k}_accuracy", top_k_accuracy(k), "higher", f"Top-{k} accuracy",
                  f"fraction of elements whose true class is among the {k} highest scores (ties count against)",
                  ("scores",))


REGISTRY: dict[str, Metric] = {m.name: m for m in [
    Metric("accuracy", accuracy, "higher", "Accuracy",
           "fraction of equal elements over all elements ((n, 2) pairs: mean of the two accuracies)",
           ("class_labels",)),
    Metric("exact_match", exact_match, "higher", "Exact match",
           "fraction of test inputs predicted entirely right (every element; text: equal after strip)",
           ("class_labels", "text")),
    Metric("balanced_accuracy", balanced_accuracy, "higher", "Balanced accuracy",
           "recall of each class present in the labels, averaged, over all elements flattened",
           ("class_labels",)),
    Metric("macro_f1", macro_f1, "higher", "Macro F1",
           "F1 of each class present in labels or predictions, averaged, over all elements flattened",
           ("class_labels",)),
    Metric("dice", dice, "higher", "Dice",
           "Dice coefficient of each class over all pixels, averaged over classes present in labels or predictions",
           ("class_labels",)),
    Metric("mean_iou", mean_iou, "higher", "Mean IoU",
           "intersection over union of each class over all pixels, averaged over classes present in labels or "
           "predictions", ("class_labels",)),
    Metric("log_loss", log_loss, "lower", "Log loss",
           "mean over test inputs of -ln(probability of the true class)", ("scores",)),
    Metric("roc_auc", roc_auc, "higher", "ROC AUC",
           "area under the ROC curve (binary, or one-vs-rest averaged over the classes in the labels)",
           ("scores",)),
    _top_k_metric(5),
    Metric("mse", mse, "lower", "MSE", "mean squared error over all elements (= mean of per-sample MSEs)",
           ("values",)),
    Metric("rmse", rmse, "lower", "RMSE", "square root of the MSE over all elements", ("values",)),
    Metric("mae", mae, "lower", "MAE", "mean absolute error over all elements (= mean of per-sample MAEs)",
           ("values",)),
    Metric("r2", r2, "higher", "R²",
           "coefficient of determination of each element position over the test inputs, uniform average",
           ("values",)),
    Metric("psnr", psnr, "higher", "PSNR (dB)",
           f"peak signal-to-noise ratio of each test input (data range 1), capped at {PSNR_CAP_DB:g} dB, mean",
           ("values",)),
    Metric("ssim", ssim, "higher", "SSIM",
           "structural similarity of each 2-D image (data range 1, 7x7 window), mean over images", ("values",)),
    Metric("token_accuracy", token_accuracy, "higher", "Token accuracy",
           "words equal position by position / the longer sentence's word count, mean over test inputs",
           ("text",)),
    Metric("edit_distance", edit_distance, "lower", "Edit distance",
           "Levenshtein distance / the longer string's length, mean over test inputs", ("text",)),
    Metric("lcs_ratio", lcs_ratio, "higher", "LCS ratio",
           "longest common substring / the longer string's length, mean over test inputs", ("text",)),
]}

_TOP_K = re.compile(r"top_([1-9][0-9]*)_accuracy")
_LOADED: dict[tuple[str, int, int], ModuleType] = {}  # (path, mtime_ns, size) -> module: edits reload


def _load_file(path: Path) -> ModuleType:
    """Execute an exam folder's .py file as a module named after its full path (two exams never collide)."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key in _LOADED:
        return _LOADED[key]
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    stem = re.sub(r"\W", "_", path.stem)
    module_name = f"_exam_metric_{digest}_{stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses, pickling and typing look the module up by name
    write_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ in exam folders
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        raise KeyError(f"{path} cannot be loaded ({type(exc).__name__}: {exc})") from exc
    finally:
        sys.dont_write_bytecode = write_bytecode
    _LOADED[key] = module
    return module


def _custom(name: str, exam_folder: Path | None) -> Metric:
    target, _, attr = name.rpartition(":")
    if target.endswith(".py"):
        if exam_folder is None:
            raise KeyError(f"metric {name!r}: {target} is a file of the exam folder, and no exam folder was given")
        path = (Path(exam_folder) / target).resolve()
        if not path.is_file():
            raise KeyError(f"metric {name!r}: no file {target} in the exam folder {exam_folder}")
        module, where = _load_file(path), f"{target} (in {exam_folder})"
    else:
        try:
            module, where = importlib.import_module(target), f"module {target}"
        except ImportError as exc:
            raise KeyError(f"metric {name!r}: module {target!r} cannot be imported ({exc})") from exc
    function = getattr(module, attr, None)
    if not callable(function):
        raise KeyError(f"metric {name!r}: {where} has no function {attr!r}")
    direction = getattr(module, "DIRECTION", "higher")
    kinds = getattr(module, "KINDS", KINDS)
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    if direction not in DIRECTIONS:
        raise KeyError(f"metric {name!r}: DIRECTION in {where} is {direction!r}, not 'higher' or 'lower'")
    if not kinds or not set(kinds) <= set(KINDS):
        raise KeyError(f"metric {name!r}: KINDS in {where} is {kinds!r}; use some of {', '.join(KINDS)}")
    doc = (function.__doc__ or "").strip().splitlines()
    description = doc[0] if doc else f"custom metric {name}"

    @functools.wraps(function)
    def as_float(labels, predictions) -> float:
        return float(function(labels, predictions))
    return Metric(name, as_float, direction, str(getattr(module, "DISPLAY", attr)), description, kinds)


def get_metric(name: str, exam_folder: Path | None = None) -> Metric:
    """A built-in metric, ``top_<k>_accuracy``, or a custom one: ``"metric.py:function"`` (a file of
    ``exam_folder``) or ``"package.module:function"``. Raises KeyError with an explanation."""
    if name in REGISTRY:
        return REGISTRY[name]
    if top_k := _TOP_K.fullmatch(name):
        return _top_k_metric(int(top_k.group(1)))
    if ":" in name and name.rpartition(":")[0] and name.rpartition(":")[2]:
        return _custom(name, exam_folder)
    close = difflib.get_close_matches(name, REGISTRY, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise KeyError(f"unknown metric {name!r}; {hint}built-in metrics: {', '.join(sorted(REGISTRY))} "
                   "(or top_<k>_accuracy); or a function of the exam folder 'metric.py:function', "
                   "or 'package.module:function'")
