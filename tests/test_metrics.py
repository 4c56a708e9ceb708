"""grader.metrics: every metric on every shape of its kind, against hand-computed values."""

import math
import sys
import time

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from sklearn import metrics as sk

from grader import metrics
from grader.metrics import MetricInputError, get_metric


def value(name, labels, predictions):
    return get_metric(name).function(np.asarray(labels), np.asarray(predictions))


# ----------------------------------------------------------------------------- the registry

def test_every_metric_has_direction_display_description_and_kinds():
    assert len(metrics.REGISTRY) >= 18
    for name, m in metrics.REGISTRY.items():
        assert m.name == name
        assert m.direction in ("higher", "lower")
        assert m.display and m.description and "\n" not in m.description
        assert m.kinds and set(m.kinds) <= set(metrics.KINDS)
        assert get_metric(name) is m
        assert name in metrics.__doc__  # the table documents it
    lower = {n for n, m in metrics.REGISTRY.items() if m.direction == "lower"}
    assert lower == {"log_loss", "mse", "rmse", "mae", "edit_distance"}
    assert get_metric("psnr").display == "PSNR (dB)" and get_metric("lcs_ratio").display == "LCS ratio"


def test_kinds_are_strict():
    assert get_metric("accuracy").kinds == ("class_labels",)  # argmax accuracy of scores is not offered
    assert set(get_metric("exact_match").kinds) == {"class_labels", "text"}
    for name in ("mse", "rmse", "mae", "r2", "psnr", "ssim"):
        assert get_metric(name).kinds == ("values",)
    for name in ("log_loss", "roc_auc", "top_5_accuracy"):
        assert get_metric(name).kinds == ("scores",)


def test_top_k_for_any_k():
    m = get_metric("top_3_accuracy")
    assert (m.direction, m.display, m.kinds) == ("higher", "Top-3 accuracy", ("scores",))
    with pytest.raises(KeyError):
        get_metric("top_0_accuracy")


def test_unknown_metric_lists_the_built_ins_and_suggests():
    with pytest.raises(KeyError) as info:
        get_metric("acuracy")
    message = info.value.args[0]
    assert "did you mean 'accuracy'" in message
    for name in metrics.REGISTRY:
        assert name in message


# ----------------------------------------------------------------------------- class labels

def test_class_labels_1d():
    y, p = [0, 1, 2, 2], [0, 1, 1, 2]
    assert value("accuracy", y, p) == 0.75
    assert value("exact_match", y, p) == 0.75
    assert value("balanced_accuracy", y, p) == pytest.approx((1 + 1 + 1 / 2) / 3)
    assert value("macro_f1", y, p) == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    assert value("dice", y, p) == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    assert value("mean_iou", y, p) == pytest.approx((1 + 1 / 2 + 1 / 2) / 3)
    assert value("mean_iou", [0, 0, 1, 1], [0, 1, 1, 1]) == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_class_labels_pairs():
    y = [[0, 1], [1, 1], [2, 0]]
    p = [[0, 0], [1, 1], [2, 2]]
    assert value("accuracy", y, p) == pytest.approx((3 / 3 + 1 / 3) / 2)  # mean of the two accuracies
    assert value("exact_match", y, p) == pytest.approx(1 / 3)  # only the second pair is entirely right


def test_class_labels_masks_hand_computed():
    # flattened labels 0 0 1 1 | 1 1 1 1, predictions 0 1 1 1 | 1 1 0 1
    y = np.array([[[0, 0], [1, 1]], [[1, 1], [1, 1]]])
    p = np.array([[[0, 1], [1, 1]], [[1, 1], [0, 1]]])
    # class 0: L = {0, 1}, P = {0, 6}: intersection 1, union 3; class 1: |L| = |P| = 6, intersection 5, union 7
    assert value("mean_iou", y, p) == pytest.approx((1 / 3 + 5 / 7) / 2)
    assert value("dice", y, p) == pytest.approx((2 * 1 / 4 + 2 * 5 / 12) / 2)
    assert value("macro_f1", y, p) == pytest.approx((2 * 1 / 4 + 2 * 5 / 12) / 2)
    assert value("accuracy", y, p) == 6 / 8
    assert value("balanced_accuracy", y, p) == pytest.approx((1 / 2 + 5 / 6) / 2)
    assert value("exact_match", y, p) == 0.0


def test_classes_only_in_predictions_or_labels():
    y, p = [0, 0, 1, 1], [0, 2, 1, 1]  # class 2 predicted, never true
    assert value("mean_iou", y, p) == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert value("dice", y, p) == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert value("balanced_accuracy", y, p) == pytest.approx((1 / 2 + 1) / 2)  # recall over classes in labels
    y, p = [0, 0, 3, 3], [0, 0, 0, 0]  # class 3 never predicted
    assert value("mean_iou", y, p) == pytest.approx((2 / 4 + 0) / 2)
    assert value("mean_iou", [5, 5], [5, 5]) == 1.0


@pytest.mark.parametrize("shape", [(6,), (6, 2), (6, 28, 28), (6, 2, 28, 28), (6, 28, 28, 1), (6, 32, 32, 3)])
def test_class_metrics_on_every_shape(shape):
    y = np.zeros(shape, dtype=np.int64)
    y.flat[::2] = 1  # every other element is class 1
    p = y.copy()
    p.flat[1] = 1  # one element of class 0 predicted as 1 (in one sample)
    total = y.size
    ones = total // 2  # as many of class 0
    assert value("accuracy", y, p) == pytest.approx(1 - 1 / total)
    assert value("exact_match", y, p) == pytest.approx(5 / 6)
    assert value("mean_iou", y, p) == pytest.approx(((ones - 1) / ones + ones / (ones + 1)) / 2)
    assert value("dice", y, p) == pytest.approx((2 * (ones - 1) / (2 * ones - 1) + 2 * ones / (2 * ones + 1)) / 2)
    assert value("balanced_accuracy", y, p) == pytest.approx(((ones - 1) / ones + 1) / 2)
    assert value("accuracy", y, y) == value("mean_iou", y, y) == value("macro_f1", y, y) == 1.0


def test_class_metrics_match_scikit_learn_on_random_masks():
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 5, (20, 8, 8)), rng.integers(0, 6, (20, 8, 8))
    fy, fp = y.ravel(), p.ravel()
    assert value("mean_iou", y, p) == pytest.approx(sk.jaccard_score(fy, fp, average="macro"))
    assert value("macro_f1", y, p) == pytest.approx(sk.f1_score(fy, fp, average="macro"))
    with pytest.warns(UserWarning):
        expected = sk.balanced_accuracy_score(fy, fp)  # the metric itself stays quiet
    assert value("balanced_accuracy", y, p) == pytest.approx(expected)


def test_float_class_labels_must_be_integral():
    assert value("accuracy", [0.0, 1.0], [0.0, 1.0]) == 1.0
    with pytest.raises(MetricInputError, match="integer class labels"):
        value("accuracy", [0, 1], [0.5, 1.0])


# ----------------------------------------------------------------------------- scores

def test_log_loss_multiclass_binary_and_spatial():
    expected = -(math.log(0.8) + math.log(0.6)) / 2
    assert value("log_loss", [0, 1], [[0.8, 0.2], [0.4, 0.6]]) == pytest.approx(expected)
    assert value("log_loss", [0, 1], [0.2, 0.6]) == pytest.approx(expected)  # binary: probability of class 1
    y = np.zeros((2, 3, 3), dtype=int)
    assert value("log_loss", y, np.full((2, 3, 3, 4), 0.25)) == pytest.approx(math.log(4))  # per-pixel classes
    rng = np.random.default_rng(1)
    labels, probs = rng.integers(0, 5, 50), rng.dirichlet(np.ones(5), 50)
    assert value("log_loss", labels, probs) == pytest.approx(-np.mean(np.log(probs[np.arange(50), labels])))
    # a sure wrong answer costs -ln(1e-15), not infinity
    assert value("log_loss", [0], [[0.0, 1.0]]) == pytest.approx(-math.log(1e-15), rel=1e-6)


def test_log_loss_needs_probabilities():
    with pytest.raises(MetricInputError, match="probabilities"):
        value("log_loss", [0, 1], [[1.0, 1.0], [1.0, 1.0]])  # all ones would otherwise score 0
    with pytest.raises(MetricInputError, match="probabilities"):
        value("log_loss", [0, 1], [[2.0, -1.0], [0.0, 1.0]])
    assert value("log_loss", [0], [[0.9995, 0.0]]) == pytest.approx(0.0)  # rounding tolerance, renormalized


def test_roc_auc():
    assert value("roc_auc", [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert value("roc_auc", [0, 0, 1, 1], [[0.9, 0.1], [0.6, 0.4], [0.65, 0.35], [0.2, 0.8]]) == pytest.approx(0.75)
    assert value("roc_auc", [0, 1, 2], np.eye(3)) == 1.0
    rng = np.random.default_rng(2)
    labels, probs = rng.integers(0, 4, 60), rng.dirichlet(np.ones(4), 60)
    assert value("roc_auc", labels, probs) == pytest.approx(
        sk.roc_auc_score(labels, probs, multi_class="ovr", average="macro"))
    # a class absent from the labels has no AUC: the others are averaged
    labels = np.array([0, 0, 1, 1])
    scores = np.array([[0.7, 0.2, 0.1], [0.5, 0.4, 0.1], [0.3, 0.6, 0.1], [0.6, 0.3, 0.1]])
    assert value("roc_auc", labels, scores) == pytest.approx((0.75 + 0.75) / 2)
    with pytest.raises(MetricInputError, match="single class"):
        value("roc_auc", [1, 1], [0.2, 0.9])


def test_top_k_accuracy():
    s = np.array([[0.5, 0.3, 0.2]] * 3)
    y = [0, 1, 2]
    assert value("top_1_accuracy", y, s) == pytest.approx(1 / 3)
    assert value("top_2_accuracy", y, s) == pytest.approx(2 / 3)
    assert value("top_5_accuracy", y, s) == 1.0
    flat = np.full((3, 3), 1 / 3)  # ties count against: constant scores earn nothing
    assert value("top_1_accuracy", y, flat) == value("top_2_accuracy", y, flat) == 0.0
    rng = np.random.default_rng(3)
    labels, probs = rng.integers(0, 10, 100), rng.random((100, 10))
    assert value("top_5_accuracy", labels, probs) == pytest.approx(sk.top_k_accuracy_score(labels, probs, k=5,
                                                                                             labels=range(10)))


def test_scores_shape_errors():
    with pytest.raises(MetricInputError, match=r"labels have shape \(3,\), predictions \(4, 2\)"):
        value("log_loss", [0, 1, 1], np.full((4, 2), 0.5))
    with pytest.raises(MetricInputError, match="0..1"):
        value("log_loss", [0, 2], np.full((2, 2), 0.5))


# ----------------------------------------------------------------------------- values

def test_values_1d_and_2d():
    assert value("mse", [1.0, 2.0], [1.0, 4.0]) == 2.0
    assert value("rmse", [1.0, 2.0], [1.0, 4.0]) == pytest.approx(math.sqrt(2))
    assert value("mae", [1.0, 2.0], [1.0, 4.0]) == 1.0
    assert value("r2", [1.0, 2.0, 3.0], [1.0, 2.0, 4.0]) == pytest.approx(0.5)
    y, p = np.zeros((2, 3)), np.array([[1.0, 0, 0], [0, 2.0, 0]])
    assert value("mse", y, p) == pytest.approx(5 / 6)
    assert value("mae", y, p) == pytest.approx(3 / 6)
    assert value("rmse", y, p) == pytest.approx(math.sqrt(5 / 6))  # sqrt of the MSE over all elements
    # r2 per column: [1, 2, 3] vs [1, 2, 4] -> 0.5; [0, 0, 1] predicted exactly -> 1
    assert value("r2", [[1, 0], [2, 0], [3, 1]], [[1, 0], [2, 0], [4, 1]]) == pytest.approx(0.75)
    assert value("psnr", np.zeros(4), np.full(4, 0.1)) == pytest.approx(20.0)


@pytest.mark.parametrize("shape", [(4, 28, 28), (4, 2, 28, 28), (4, 28, 28, 1), (4, 32, 32, 3)])
def test_values_on_image_shapes_reduce_per_sample(shape):
    offsets = np.array([0.01, 0.02, 0.05, 0.1])  # sample i is off by offsets[i] everywhere
    y = np.zeros(shape)
    p = y + offsets.reshape(-1, *[1] * (len(shape) - 1))
    assert value("mse", y, p) == pytest.approx(np.mean(offsets**2))
    assert value("rmse", y, p) == pytest.approx(math.sqrt(np.mean(offsets**2)))
    assert value("mae", y, p) == pytest.approx(np.mean(offsets))
    assert value("psnr", y, p) == pytest.approx(np.mean(-20 * np.log10(offsets)))  # 40, 34, 26, 20 dB
    # ssim of a black image and a constant c: C1 / (c² + C1) in every window, C1 = (0.01 · data range)²
    assert value("ssim", y, p) == pytest.approx(np.mean(1e-4 / (offsets**2 + 1e-4)))
    assert value("ssim", y, y) == pytest.approx(1.0)


def test_mse_of_images_is_the_mean_of_per_sample_mses():
    rng = np.random.default_rng(4)
    y, p = rng.random((50, 28, 28)), rng.random((50, 28, 28)).astype(np.float32)
    per_sample = [np.mean((a - b.astype(np.float64)) ** 2) for a, b in zip(y, p)]
    assert value("mse", y, p) == pytest.approx(np.mean(per_sample), rel=1e-12)
    assert value("mae", y, p) == pytest.approx(np.mean([np.mean(np.abs(a - b)) for a, b in zip(y, p)]), rel=1e-6)
    y4, p4 = y.reshape(25, 2, 28, 28), p.reshape(25, 2, 28, 28)  # two images per sample: same number
    assert value("mse", y4, p4) == pytest.approx(value("mse", y, p), rel=1e-12)
    assert value("r2", y, p) == pytest.approx(sk.r2_score(y.reshape(50, -1), p.reshape(50, -1)))


def test_psnr_of_a_perfect_sample_is_capped():
    y = np.zeros((2, 8, 8))
    p = np.stack([np.zeros((8, 8)), np.full((8, 8), 0.1)])
    assert value("psnr", y, p) == pytest.approx((100 + 20) / 2)
    assert value("psnr", y, y) == 100.0
    rng = np.random.default_rng(5)
    a, b = rng.random((3, 16, 16)), rng.random((3, 16, 16))
    assert value("psnr", a, b) == pytest.approx(np.mean([peak_signal_noise_ratio(u, v, data_range=1.0)
                                                         for u, v in zip(a, b)]))


def test_ssim_matches_scikit_image_per_image():
    rng = np.random.default_rng(6)
    y = rng.random((3, 2, 28, 28))
    p = np.clip(y + rng.normal(0, 0.1, y.shape), 0, 1)
    expected = np.mean([structural_similarity(a, b, data_range=1.0)
                        for a, b in zip(y.reshape(-1, 28, 28), p.reshape(-1, 28, 28))])
    assert value("ssim", y, p) == pytest.approx(expected)
    rgb_y = rng.random((3, 14, 14, 3))
    rgb_p = np.clip(rgb_y + rng.normal(0, 0.1, rgb_y.shape), 0, 1)
    expected = np.mean([structural_similarity(a, b, data_range=1.0, channel_axis=-1) for a, b in zip(rgb_y, rgb_p)])
    assert value("ssim", rgb_y, rgb_p) == pytest.approx(expected)
    assert value("ssim", y[:, :1].transpose(0, 2, 3, 1), p[:, :1].transpose(0, 2, 3, 1)) == pytest.approx(
        value("ssim", y[:, 0], p[:, 0]))  # (n, 28, 28, 1) == (n, 28, 28)


@pytest.mark.parametrize("shape, message", [((4,), "needs images"), ((4, 3), "needs images"),
                                            ((4, 6, 6), "at least 7x7"), ((4, 28, 5, 1), "at least 7x7"),
                                            ((4, 28, 28, 28, 3), None)])
def test_ssim_shapes(shape, message):
    y = np.zeros(shape)
    if message is None:
        assert value("ssim", y, y) == pytest.approx(1.0)
    else:
        with pytest.raises(MetricInputError, match=message):
            value("ssim", y, y)


def test_close_results_are_distinguished():
    rng = np.random.default_rng(7)
    y = rng.random((1000, 28, 28)).astype(np.float32)
    noise = rng.normal(size=y.shape)
    noise /= np.sqrt(np.mean(noise**2))
    a = (y + math.sqrt(0.00266) * noise).astype(np.float32)
    b = (y + math.sqrt(0.00271) * noise).astype(np.float32)
    assert value("mse", y, a) == pytest.approx(0.00266, abs=2e-8)
    assert value("mse", y, b) == pytest.approx(0.00271, abs=2e-8)
    assert value("rmse", y, a) < value("rmse", y, b)
    assert value("psnr", y, a) > value("psnr", y, b)
    assert value("psnr", y, a) - value("psnr", y, b) == pytest.approx(10 * math.log10(271 / 266), rel=1e-3)


def test_r2_needs_two_samples():
    with pytest.raises(MetricInputError, match="at least 2"):
        value("r2", [1.0], [1.0])


# ----------------------------------------------------------------------------- text

def test_sentence_reconstruction_shuffled_words():
    true = np.array(["the cat sat on the mat", "a dog", "hello world"])
    pred = np.array(["the mat sat on the cat", "a dog", "world hello"])
    # tokens: 4 of 6 in place; 2 of 2; 0 of 2
    assert value("token_accuracy", true, pred) == pytest.approx((4 / 6 + 1 + 0) / 3)
    assert value("exact_match", true, pred) == pytest.approx(1 / 3)
    # longest common substring: "at sat on the " (14 of 22); "a dog"; "hello" or "world" (5 of 11)
    assert value("lcs_ratio", true, pred) == pytest.approx((14 / 22 + 1 + 5 / 11) / 3)
    # Levenshtein: c<->m twice (2 / 22); 0; "hello world" -> "world hello" takes 8 edits
    assert value("edit_distance", true, pred) == pytest.approx((2 / 22 + 0 + 8 / 11) / 3)


def test_infix_to_postfix():
    true = np.array(["ab+c*", "a b + c *", "34+2*"])
    pred = np.array(["abc*+", "a b c * +", "34+2*"])
    assert value("exact_match", true, pred) == pytest.approx(1 / 3)
    assert value("token_accuracy", true, pred) == pytest.approx((0 + 2 / 5 + 1) / 3)
    assert value("lcs_ratio", true, pred) == pytest.approx((2 / 5 + 4 / 9 + 1) / 3)  # "ab"; "a b "
    # Levenshtein: delete "+", insert it at the end (2 of 5); three substitutions + c * -> c * + (3 of 9)
    assert value("edit_distance", true, pred) == pytest.approx((2 / 5 + 3 / 9 + 0) / 3)


def test_text_edge_cases():
    empty = np.array(["", "x"])
    assert value("token_accuracy", empty, np.array(["", "y"])) == 0.5  # two empty strings count 1
    assert value("lcs_ratio", empty, np.array(["", "y"])) == 0.5
    assert value("edit_distance", empty, np.array(["", "y"])) == 0.5
    assert value("exact_match", np.array([" abc\n", "a  b"]), np.array(["abc", "a b"])) == 0.5  # outer strip only
    assert value("token_accuracy", np.array(["a b c"]), np.array(["a b"])) == pytest.approx(2 / 3)
    long = "ab" * 150  # difflib's autojunk would call 'a' and 'b' junk and find nothing in common
    assert value("lcs_ratio", np.array([long]), np.array([long])) == 1.0
    assert value("lcs_ratio", np.array(["abc"], dtype=object), np.array(["abc"])) == 1.0


def test_text_input_errors():
    with pytest.raises(MetricInputError, match="strings"):
        value("lcs_ratio", np.array(["a", "b"]), np.array([1, 2]))
    with pytest.raises(MetricInputError, match="1-D"):
        value("token_accuracy", np.array([["a"]]), np.array([["a"]]))
    with pytest.raises(MetricInputError, match=r"labels have shape \(2,\), predictions \(3,\)"):
        value("edit_distance", np.array(["a", "b"]), np.array(["a", "b", "c"]))
    with pytest.raises(MetricInputError, match="strings"):
        value("exact_match", np.array(["a"]), np.array([0]))


# ----------------------------------------------------------------------------- shape errors

@pytest.mark.parametrize("name", ["accuracy", "exact_match", "balanced_accuracy", "macro_f1", "dice", "mean_iou",
                                  "mse", "rmse", "mae", "r2", "psnr", "ssim"])
def test_shape_mismatch_is_a_clear_value_error(name):
    with pytest.raises(ValueError, match=r"labels have shape \(3, 28, 28\), predictions \(3, 28, 28, 1\)"):
        value(name, np.zeros((3, 28, 28)), np.zeros((3, 28, 28, 1)))
    with pytest.raises(MetricInputError, match="no test inputs"):
        value(name, np.zeros((0,)), np.zeros((0,)))


def test_numeric_metrics_refuse_strings():
    with pytest.raises(MetricInputError, match="numeric"):
        value("mse", np.array(["1"]), np.array(["1"]))


# ----------------------------------------------------------------------------- custom metrics

METRIC_PY = '''"""Mean absolute difference, instructor's version."""
from dataclasses import dataclass

import numpy as np

DIRECTION = "lower"
DISPLAY = "Absolute error ({tag})"
KINDS = ("values",)


@dataclass
class Options:  # a dataclass needs its module in sys.modules
    scale: float = {scale}


def score(labels, predictions):
    """Mean absolute difference times a scale."""
    return np.mean(np.abs(labels - predictions)) * Options().scale
'''


def make_exam(folder, tag, scale, file="metric.py"):
    (folder / file).parent.mkdir(parents=True, exist_ok=True)
    (folder / file).write_text(METRIC_PY.format(tag=tag, scale=scale))
    return folder


def test_custom_metric_from_the_exam_folder(tmp_path):
    exam = make_exam(tmp_path / "exam", "A", 1.0)
    m = get_metric("metric.py:score", exam)
    assert (m.name, m.direction, m.display, m.kinds) == ("metric.py:score", "lower", "Absolute error (A)", ("values",))
    assert m.description == "Mean absolute difference times a scale."
    result = m.function(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    assert result == 1.0 and type(result) is float
    assert not (exam / "__pycache__").exists()  # nothing written into the exam folder
    assert get_metric("metric.py:score", exam).function.__wrapped__ is m.function.__wrapped__  # loaded once


def test_two_exams_with_a_metric_py_each_do_not_collide(tmp_path):
    first = get_metric("metric.py:score", make_exam(tmp_path / "one", "one", 1.0))
    second = get_metric("metric.py:score", make_exam(tmp_path / "two", "two", 10.0))
    y, p = np.zeros(2), np.ones(2)
    assert (first.function(y, p), second.function(y, p)) == (1.0, 10.0)
    assert (first.display, second.display) == ("Absolute error (one)", "Absolute error (two)")
    modules = {first.function.__wrapped__.__module__, second.function.__wrapped__.__module__}
    assert len(modules) == 2 and all(name in sys.modules for name in modules)
    assert "metric" not in sys.modules  # no bare name that another exam could shadow


def test_custom_metric_in_a_subfolder_and_defaults(tmp_path):
    make_exam(tmp_path, "sub", 2.0, file="scoring/mine.py")
    assert get_metric("scoring/mine.py:score", tmp_path).function(np.zeros(1), np.ones(1)) == 2.0
    (tmp_path / "plain.py").write_text("def f(y, p):\n    return 1\n")
    m = get_metric("plain.py:f", tmp_path)
    assert (m.direction, m.display, m.kinds) == ("higher", "f", metrics.KINDS)


def test_custom_metric_errors(tmp_path):
    make_exam(tmp_path, "x", 1.0)
    with pytest.raises(KeyError, match=r"'other\.py:score'.*no file other\.py"):
        get_metric("other.py:score", tmp_path)
    with pytest.raises(KeyError, match=r"metric\.py.*no function 'nope'"):
        get_metric("metric.py:nope", tmp_path)
    with pytest.raises(KeyError, match="no exam folder"):
        get_metric("metric.py:score")
    (tmp_path / "broken.py").write_text("def f(:\n")
    with pytest.raises(KeyError, match=r"broken\.py cannot be loaded \(SyntaxError"):
        get_metric("broken.py:f", tmp_path)
    (tmp_path / "wrong.py").write_text("DIRECTION = 'down'\ndef f(y, p):\n    return 0\n")
    with pytest.raises(KeyError, match="DIRECTION"):
        get_metric("wrong.py:f", tmp_path)
    (tmp_path / "kinds.py").write_text("KINDS = ('images',)\ndef f(y, p):\n    return 0\n")
    with pytest.raises(KeyError, match="KINDS"):
        get_metric("kinds.py:f", tmp_path)


def test_an_edited_metric_file_is_loaded_again(tmp_path):
    (tmp_path / "m.py").write_text("def f(y, p):\n    return 1\n")
    assert get_metric("m.py:f", tmp_path).function(0, 0) == 1.0
    (tmp_path / "m.py").write_text("def f(y, p):\n    return 22\n")
    assert get_metric("m.py:f", tmp_path).function(0, 0) == 22.0


def test_custom_metric_by_module_path():
    m = get_metric("numpy:dot")
    assert m.function(np.array([1, 2]), np.array([3, 4])) == 11
    assert m.direction == "higher" and m.display == "dot"
    with pytest.raises(KeyError, match="cannot be imported"):
        get_metric("no_such_module_here:f")
    with pytest.raises(KeyError, match="no function 'nope'"):
        get_metric("numpy:nope")


# ----------------------------------------------------------------------------- speed

def _data(kind, n):
    rng = np.random.default_rng(8)
    if kind == "class_labels":
        return rng.integers(0, 10, (n, 28, 28)), rng.integers(0, 10, (n, 28, 28))
    if kind == "values":
        return rng.random((n, 28, 28)).astype(np.float32), rng.random((n, 28, 28)).astype(np.float32)
    if kind == "scores":
        return rng.integers(0, 10, n), rng.dirichlet(np.ones(10), n).astype(np.float32)
    words = "the quick brown fox jumps over the lazy dog again".split()
    return tuple(np.array([" ".join(rng.permutation(words)) for _ in range(n)]) for _ in range(2))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(metrics.REGISTRY))
def test_10000_samples_take_seconds(name):
    m = get_metric(name)
    for kind in m.kinds:
        y, p = _data(kind, 2000 if name == "ssim" else 10_000)
        start = time.perf_counter()
        m.function(y, p)
        assert time.perf_counter() - start < 10, f"{name} on {kind} {y.shape} is too slow"
