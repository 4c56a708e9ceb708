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
