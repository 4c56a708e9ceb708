"""The registry of exam metrics: pure functions of (labels, predictions) -> float.

Each metric knows its natural direction (higher or lower is better). Exams name one of these,
or a custom function as ``"package.module:function"`` (assumed higher-is-better unless
``metric.direction`` says otherwise in exam.toml).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn import metrics as sk


@dataclass(frozen=True)
class Metric:
    name: str
    function: Callable[[np.ndarray, np.ndarray], float]
    direction: str  # "higher" or "lower"
    description: str


def _psnr(labels, predictions, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB for images scaled to [0, data_range]."""
    mse = float(np.mean((np.asarray(labels, float) - np.asarray(predictions, float)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(data_range**2 / mse))


def _mean_iou(labels, predictions) -> float:
    """Mean intersection-over-union over the classes present in labels or predictions."""
    labels, predictions = np.asarray(labels).ravel(), np.asarray(predictions).ravel()
    return float(sk.jaccard_score(labels, predictions, average="macro"))


REGISTRY: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("accuracy", lambda y, p: float(sk.accuracy_score(y, p)), "higher",
               "fraction of test inputs whose predicted class is the true class"),
        Metric("balanced_accuracy", lambda y, p: float(sk.balanced_accuracy_score(y, p)), "higher",
               "mean of the per-class recalls"),
        Metric("macro_f1", lambda y, p: float(sk.f1_score(y, p, average="macro")), "higher",
               "F1 score averaged over classes, each class counting equally"),
        Metric("mse", lambda y, p: float(sk.mean_squared_error(y, p)), "lower", "mean squared error"),
        Metric("rmse", lambda y, p: float(np.sqrt(sk.mean_squared_error(y, p))), "lower",
               "root mean squared error"),
        Metric("mae", lambda y, p: float(sk.mean_absolute_error(y, p)), "lower", "mean absolute error"),
        Metric("r2", lambda y, p: float(sk.r2_score(y, p)), "higher", "coefficient of determination"),
        Metric("psnr", _psnr, "higher", "peak signal-to-noise ratio (dB), images in [0, 1]"),
        Metric("mean_iou", _mean_iou, "higher", "intersection over union averaged over classes"),
    ]
}


def get_metric(name: str) -> Metric:
    """A registered metric by name, or a custom one given as 'package.module:function'."""
    if name in REGISTRY:
        return REGISTRY[name]
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            function = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise KeyError(f"custom metric {name!r} cannot be imported ({exc})") from exc
        return Metric(name, function, "higher", f"custom metric {name}")
    known = ", ".join(sorted(REGISTRY))
    raise KeyError(f"unknown metric {name!r}; use one of {known} or 'package.module:function'")
