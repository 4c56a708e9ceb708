"""exam.toml validation: a valid spec loads; each kind of mistake names its key."""

import pytest

from grader.exam import ExamError, load_exam
from tests.exam_factory import make_exam


def test_valid_exam_loads(tmp_path):
    exam = load_exam(make_exam(tmp_path / "e"))
    assert exam.metric == "accuracy" and exam.higher_is_better and exam.mode == "retrain"
    assert exam.limits.max_parameters == 1000 and exam.grading.scale == 30
    assert exam.test_labels.name == "test_labels.npy" and exam.test_labels.is_absolute()
    assert exam.predictions.num_classes == 3


def test_lower_is_better_comes_from_the_metric(tmp_path):
    folder = make_exam(tmp_path / "e", metric="mse")
    spec = folder / "exam.toml"
    spec.write_text(spec.read_text().replace('kind = "class_labels"', 'kind = "values"'))
    assert load_exam(folder).direction == "lower"


def test_metric_must_fit_the_prediction_kind(tmp_path):
    with pytest.raises(ExamError, match="mse is for values predictions, not class_labels"):
        load_exam(make_exam(tmp_path / "e", metric="mse"))


def _broken(tmp_path, old, new):
    folder = make_exam(tmp_path / "e")
    spec = folder / "exam.toml"
    assert old in spec.read_text()
    spec.write_text(spec.read_text().replace(old, new))
    return folder


@pytest.mark.parametrize("old,new,key", [
    ('name = "accuracy"', 'name = "acuracy"', "metric.name"),
    ('mode = "retrain"', 'mode = "train"', "exam.mode"),
    ("scale = 30", "scale = -3", "grading.scale"),
    ("scale = 30", 'scale = "thirty"', "grading.scale"),
    ('scheme = "linear"', 'scheme = "target"', "grading.target"),
    ("num_classes = 3", "", "predictions.num_classes"),
    ('title = "Tiny exam"', "", "exam.title"),
    ("baseline = 0.34", "baseline = 0.34\nobjective_weight = 0.9", "objective_weight"),
    ("time_seconds = 120", "time_seconds = 0", "limits.time_seconds"),
    ('test_labels = "data/hidden/test_labels.npy"', 'test_labels = "data/public/labels.npy"', "data.test_labels"),
    ("bonus = 1", "bonus = 1\nbonsu = 2", "grading.bonsu"),
    ("max_parameters = 1000", "max_parameters = true", "limits.max_parameters"),
])
def test_invalid_spec_names_the_key(tmp_path, old, new, key):
    with pytest.raises(ExamError, match=key.replace(".", r"\.")):
        load_exam(_broken(tmp_path, old, new))


def test_not_toml_and_missing_folder(tmp_path):
    with pytest.raises(ExamError, match="no exam.toml"):
        load_exam(tmp_path)
    (tmp_path / "exam.toml").write_text("[exam\ntitle=")
    with pytest.raises(ExamError, match="not valid TOML"):
        load_exam(tmp_path)
