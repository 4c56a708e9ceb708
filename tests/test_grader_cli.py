"""End to end: `grader grade | report | check` on a tiny NumPy-only exam (fast, no TensorFlow)."""

import csv
import json

import nbformat
import pytest

from grader.cli import main
from tests.exam_factory import RULE, make_exam, student_notebook, write_bad_inputs, write_tiny_class

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900), pytest.mark.xdist_group("grader_cli")]


def read_grades(out):
    with open(out / "grades.csv", newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    exam = make_exam(root / "exam", max_parameters=None)
    subs = write_bad_inputs(write_tiny_class(root / "subs"))
    out = root / "out"
    assert main(["grade", str(exam), str(subs), "--out", str(out), "--jobs", "2"]) == 0
    return exam, subs, out


def test_failure_classes_and_ordering(graded):
    _, _, out = graded
    g = read_grades(out)
    assert {s: g[s]["failure_class"] for s in g} == {
        "good": "", "colab_untagged": "", "half_right": "", "crash": "exception", "bad_shape": "malformed_predictions",
        "no_predictions": "missing_predictions", "forbidden": "rule_broken", "not_json": "invalid_notebook",
        **BAD_INPUT_VERDICTS}
    assert float(g["good"]["metric"]) == 1.0 == float(g["colab_untagged"]["metric"])
    assert 0.4 < float(g["half_right"]["metric"]) < 0.6
    # linear scheme: best -> 24 objective points (+1 bonus), half-way result proportionally less
    assert float(g["good"]["objective_points"]) == 24.0 and float(g["good"]["bonus"]) == 1.0
    assert 0 < float(g["half_right"]["objective_points"]) < 24
    assert all(float(g[s]["objective_points"]) == 0 for s in ("crash", "bad_shape", "forbidden"))
    assert float(g["good"]["total"]) > float(g["half_right"]["total"]) > float(g["crash"]["total"])
    assert "cell 3" in g["crash"]["message"].lower() and "NameError" in g["crash"]["message"]
    assert "socket" in g["forbidden"]["message"]
    assert "class scores" in g["bad_shape"]["message"]


BAD_INPUT_VERDICTS = {
    "empty": "invalid_notebook", "future": "invalid_notebook", "words_only": "invalid_notebook",
    "jose_muller": "", "pickled": "malformed_predictions", "linked": "malformed_predictions",
    "zipped": "invalid_submission", "twice": "invalid_submission"}


def test_bad_inputs_get_clear_verdicts(graded):
    _, _, out = graded
    g = read_grades(out)
    assert "empty" in g["empty"]["message"] and "format version 99" in g["future"]["message"]
    assert "no code" in g["words_only"]["message"]
    assert g["jose_muller"]["name"] == "José Müller" and float(g["jose_muller"]["metric"]) == 1.0
    record = json.loads((out / "results" / "jose_muller.json").read_text())
    assert any("duplicate cell id" in n for n in record["notes"])
    assert any("cleared the outputs" in n for n in record["notes"])
    assert "pickle" in g["pickled"]["message"]
    assert "passwd" not in (out / "results" / "linked.json").read_text()
    assert "archive" in g["zipped"]["message"] and "two submissions" in g["twice"]["message"]


def test_outputs_written(graded):
    _, _, out = graded
    html = (out / "leaderboard.html").read_text()
    assert "clip((Accuracy − 0.34) / (best − 0.34), 0, 1), best = 1" in html and "data:image/png;base64" in html
    feedback = (out / "feedback" / "crash.md").read_text()
    assert "a cell raised an error" in feedback and "How the grade is computed" in feedback
    executed = nbformat.read(out / "executed" / "good.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    assert len(list((out / "results").glob("*.json"))) == 8 + len(BAD_INPUT_VERDICTS)


def test_rerun_resumes_and_regrades_only_changed_handins(graded, capsys):
    exam, subs, out = graded
    before = {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    capsys.readouterr()
    assert main(["grade", str(exam), str(subs), "--out", str(out)]) == 0
    assert f"{8 + len(BAD_INPUT_VERDICTS)} already graded, 0 to go" in capsys.readouterr().out
    assert before == {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    # a changed hand-in is graded again, the others are not
    nbformat.write(student_notebook(RULE, "np.save(PREDICTIONS_PATH, pred)"), subs / "crash.ipynb")
    assert main(["grade", str(exam), str(subs), "--out", str(out)]) == 0
    assert read_grades(out)["crash"]["status"] == "ok"


def test_report_applies_manual_quality_scores(graded, tmp_path):
    _, _, out = graded
    manual = tmp_path / "manual.csv"
    manual.write_text("student,quality,comment\nhalf_right,1.0,excellent write-up\n")
    assert main(["report", str(out), "--manual-scores", str(manual)]) == 0
    row = read_grades(out)["half_right"]
    assert row["quality_source"] == "manual" and float(row["quality_points"]) == 6.0


def test_check_runs_on_the_validation_split(graded, tmp_path):
    exam, subs, _ = graded
    assert main(["check", str(subs / "good.ipynb"), "--exam", str(exam), "--out", str(tmp_path / "c")]) == 0
    record = json.loads((tmp_path / "c" / "results" / "good.json").read_text())
    assert "on 20 test inputs" in record["message"]  # the 20 public validation rows, not the hidden 30
    assert main(["check", str(subs / "bad_shape.ipynb"), "--exam", str(exam)]) == 1


def test_invalid_exam_or_arguments_exit_2(tmp_path, graded):
    exam, subs, _ = graded
    broken = make_exam(tmp_path / "broken")
    (broken / "exam.toml").write_text((broken / "exam.toml").read_text().replace('"accuracy"', '"acc"'))
    assert main(["grade", str(broken), str(subs), "--out", str(tmp_path / "o")]) == 2
    assert main(["grade", str(exam), str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["grade", str(exam)])
    assert exc.value.code == 2


def test_gpu_flag_without_a_gpu_says_so(tmp_path, capsys, monkeypatch):
    from grader.sandbox import bwrap

    monkeypatch.setattr(bwrap, "gpu_devices", lambda: [])
    import grader.sandbox

    monkeypatch.setattr(grader.sandbox, "gpu_devices", lambda: [])
    exam = make_exam(tmp_path / "exam", max_parameters=None)
    (tmp_path / "subs").mkdir()
    assert main(["grade", str(exam), str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--gpu"]) == 2
    assert "no GPU device" in capsys.readouterr().out


def test_jobs_auto_fits_cores_and_memory(tmp_path, capsys):
    from grader.cli import auto_jobs
    from grader.exam import load_exam

    exam = load_exam(make_exam(tmp_path / "exam", max_parameters=None))
    jobs = auto_jobs(exam)
    import os

    import psutil

    assert 1 <= jobs <= (os.cpu_count() or 1)
    assert jobs <= max(1, psutil.virtual_memory().available // (exam.limits.memory_mb * 2**20))
    assert "--jobs auto" in capsys.readouterr().out
