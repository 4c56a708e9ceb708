import numpy as np
import pytest

from grader import metrics


def test_registry_values_and_directions():
    y, p = np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2])
    assert metrics.get_metric("accuracy").function(y, p) == 0.75
    assert metrics.get_metric("macro_f1").function(y, p) == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    assert metrics.get_metric("mse").function(np.array([1.0, 2.0]), np.array([1.0, 4.0])) == 2.0
    assert metrics.get_metric("mae").direction == "lower"
    assert metrics.get_metric("mean_iou").function(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])) == pytest.approx(
        (1 / 2 + 2 / 3) / 2)
    assert metrics.get_metric("psnr").function(np.zeros(4), np.full(4, 0.1)) == pytest.approx(20.0)


def test_custom_metric_by_module_path():
    m = metrics.get_metric("numpy:dot")
    assert m.function(np.array([1, 2]), np.array([3, 4])) == 11


def test_unknown_metric_lists_the_known_ones():
    with pytest.raises(KeyError, match="accuracy"):
        metrics.get_metric("acuracy")
