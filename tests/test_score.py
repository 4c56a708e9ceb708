"""Predictions are validated and scored in the grader's process against the hidden labels."""

import os
import pickle

import numpy as np
import pytest

from grader.exam import load_exam
from grader.score import PredictionError, score_predictions
from tests.exam_factory import make_exam


@pytest.fixture
def exam(tmp_path):
    return load_exam(make_exam(tmp_path / "exam", n_test=30))


def labels(exam):
    return np.load(exam.test_labels)


def test_perfect_and_partial_predictions(exam, tmp_path):
    path = tmp_path / "p.npy"
    np.save(path, labels(exam))
    assert score_predictions(path, exam).value == 1.0
    wrong = labels(exam).copy()
    wrong[:3] = (wrong[:3] + 1) % 3
    np.save(path, wrong)
    assert score_predictions(path, exam).value == pytest.approx(27 / 30)


def test_integral_floats_are_accepted(exam, tmp_path):
    np.save(tmp_path / "p.npy", labels(exam).astype("float32"))
    assert score_predictions(tmp_path / "p.npy", exam).value == 1.0


def _fails(exam, path, failure, match):
    with pytest.raises(PredictionError, match=match) as info:
        score_predictions(path, exam)
    assert info.value.failure == failure


def test_missing(exam, tmp_path):
    _fails(exam, None, "missing_predictions", "np.save")
    _fails(exam, tmp_path / "nothing.npy", "missing_predictions", "PREDICTIONS_PATH")


@pytest.mark.parametrize("make,match", [
    (lambda y: y[:10], r"shape \(10,\).*one row per test input"),
    (lambda y: np.eye(3)[y], "class scores: save np.argmax"),
    (lambda y: y.reshape(-1, 1), r"shape \(30, 1\)"),
    (lambda y: y + 0.5, "integers"),
    (lambda y: np.where(np.arange(len(y)) == 0, np.nan, y), "NaN or infinite"),
    (lambda y: y + 3, "outside 0..2"),
    (lambda y: y.astype(str), "numeric array"),
])
def test_malformed_arrays(exam, tmp_path, make, match):
    np.save(tmp_path / "p.npy", make(labels(exam)))
    _fails(exam, tmp_path / "p.npy", "malformed_predictions", match)


def test_pickle_is_never_loaded(exam, tmp_path):
    path = tmp_path / "p.npy"
    path.write_bytes(pickle.dumps(list(labels(exam))))
    _fails(exam, path, "malformed_predictions", "a Python pickle")
    np.save(path, np.array([object()] * 30), allow_pickle=True)
    _fails(exam, path, "malformed_predictions", "Python objects")


def test_npz_and_symlink_are_refused(exam, tmp_path):
    np.savez(tmp_path / "p.npz", labels(exam))
    _fails(exam, tmp_path / "p.npz", "malformed_predictions", "npz")
    link = tmp_path / "link.npy"
    os.symlink(exam.test_labels, link)  # a link to the hidden labels would score 100 %
    _fails(exam, link, "malformed_predictions", "not a regular file")


def test_rounds_are_scored_separately_and_averaged(tmp_path):
    folder = make_exam(tmp_path / "exam", n_test=30)
    rounds = np.repeat(np.arange(3), 10)
    np.save(folder / "data" / "hidden" / "test_rounds.npy", rounds)
    spec = (folder / "exam.toml").read_text().replace(
        'test_labels = "data/hidden/test_labels.npy"',
        'test_labels = "data/hidden/test_labels.npy"\nrounds = 3\ntest_rounds = "data/hidden/test_rounds.npy"')
    (folder / "exam.toml").write_text(spec)
    exam = load_exam(folder)
    y = labels(exam).copy()
    y[:5] = (y[:5] + 1) % 3  # round 0: 5 of 10 wrong; rounds 1 and 2 perfect
    np.save(tmp_path / "p.npy", y)
    score = score_predictions(tmp_path / "p.npy", exam)
    assert score.rounds == [0.5, 1.0, 1.0]
    assert score.value == pytest.approx(2.5 / 3) and score.std == pytest.approx(np.std([0.5, 1.0, 1.0]))


def test_text_and_image_shaped_predictions(tmp_path):
    folder = make_exam(tmp_path / "exam", n_test=4)
    hidden = folder / "data" / "hidden"
    np.save(hidden / "test_labels.npy", np.array(["a b +", "a b c * +", "a", "b c -"]))
    spec = (folder / "exam.toml").read_text().replace('name = "accuracy"', 'name = "exact_match"')
    spec = spec.replace('kind = "class_labels"\nnum_classes = 3', 'kind = "text"')
    (folder / "exam.toml").write_text(spec)
    exam = load_exam(folder)
    np.save(tmp_path / "p.npy", np.array(["a b +", "a b c + *", " a ", "b c -"]))
    assert score_predictions(tmp_path / "p.npy", exam).value == 0.75
    np.save(tmp_path / "p.npy", np.array([b"a b +"] * 4))
    _fails(exam, tmp_path / "p.npy", "malformed_predictions", "decode them to str")
    # image-shaped regression: (n, 2, 28, 28) values scored by MSE
    folder = make_exam(tmp_path / "img", n_test=4)
    target = np.random.default_rng(0).random((4, 2, 28, 28)).astype("float32")
    np.save(folder / "data" / "hidden" / "test_labels.npy", target)
    spec = (folder / "exam.toml").read_text().replace('name = "accuracy"', 'name = "mse"')
    spec = spec.replace('kind = "class_labels"\nnum_classes = 3\nshape = []', 'kind = "values"\nshape = [2, 28, 28]')
    (folder / "exam.toml").write_text(spec)
    exam = load_exam(folder)
    np.save(tmp_path / "p.npy", target + 0.1)
    assert score_predictions(tmp_path / "p.npy", exam).value == pytest.approx(0.01, rel=1e-4)
    np.save(tmp_path / "p.npy", target.reshape(4, 56, 28))
    _fails(exam, tmp_path / "p.npy", "malformed_predictions", r"reshape them with .reshape\(4, 2, 28, 28\)")
