"""grader.execute: papermill inside the sandbox; each way a notebook can end is classified."""

from __future__ import annotations

import nbformat
import numpy as np
import pytest

from grader import sandbox
from grader.execute import execute_submission
from grader.sandbox import Limits, SandboxUnavailable

from .adversarial import fixtures
from .adversarial.harness import fake_exam, printed_outputs


@pytest.fixture(scope="module")
def exam():
    with fake_exam() as e:
        yield e


@pytest.mark.timeout(240)
def test_good_notebook_ok_with_predictions_and_model(exam):
    r = exam.run("good")
    assert r.status == "ok", r
    assert r.cell_index is None and r.isolated
    pred = np.load(r.predictions)
    X = np.load(exam.test_inputs)
    assert pred.tolist() == (X.reshape(len(X), -1).sum(axis=1) % 10).astype("int64").tolist()
    assert r.model_file.read_bytes() == b"not really a model"
    assert r.predictions.parent == exam.out / "work" / "bob"
    text = printed_outputs(r.executed_notebook)
    assert "grading True" in text and "saved 6" in text and "README.txt" in text
    nb = nbformat.read(r.executed_notebook, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "GRADING = True" in injected[0].source and "PREDICTIONS_PATH" in injected[0].source


@pytest.mark.timeout(240)
def test_exception_names_the_cell_and_error(exam):
    r = exam.run("exception")
    assert r.status == "exception", r
    assert r.cell_index == 3  # 0-based, in the notebook handed to execute_submission
    assert "Cell 4" in r.message and "ValueError" in r.message and "bad shape 42" in r.message
    assert r.executed_notebook is not None and "bad shape 42" in printed_outputs(r.executed_notebook)
    assert r.predictions is None


@pytest.mark.timeout(240)
def test_endless_cell_is_cell_timeout(exam):
    r = exam.run("endless_cell", cell_timeout=3)
    assert r.status == "cell_timeout", r
    assert r.cell_index == 2 and "cell 3" in r.message.lower() and "3 seconds" in r.message
    # partial results are kept
    assert r.executed_notebook is not None and r.predictions is not None


@pytest.mark.timeout(240)
def test_sleep_past_the_whole_limit_is_timeout(exam):
    r = exam.run("sleep_past_limit", limits=Limits(wall_seconds=12), cell_timeout=600)
    assert r.status == "timeout", r
    assert "12 seconds" in r.message
    assert r.seconds < 12 + 30
    assert r.executed_notebook is not None


@pytest.mark.timeout(240)
def test_killing_its_own_kernel_is_dead_kernel(exam):
    r = exam.run("kill_kernel")
    assert r.status == "dead_kernel", r
    assert r.cell_index == 2 and "kernel died" in r.message


@pytest.mark.timeout(240)
def test_handed_in_predictions_are_ignored(exam, tmp_path):
    stale = tmp_path / "predictions.npy"
    np.save(stale, np.arange(6))
    model = tmp_path / "model.keras"
    model.write_bytes(b"handed in")
    nb = tmp_path / "nb.ipynb"
    nbformat.write(fixtures.notebook("kill_kernel"), nb)
    r = execute_submission(nb, student_files=[stale, model], public_data=exam.public,
                           test_inputs=exam.test_inputs, work_dir=tmp_path / "work",
                           limits=Limits(wall_seconds=180), cell_timeout=60, hide=exam.hide())
    assert r.status == "dead_kernel"
    assert r.predictions is None  # never the stale file handed in
    assert r.model_file is None  # a handed-in model is input, counted before the run: never copied back
    assert any("predictions.npy" in n for n in r.notes)


@pytest.mark.timeout(240)
def test_without_bubblewrap_runs_unisolated_or_refuses(exam, monkeypatch):
    monkeypatch.setattr(sandbox.bwrap, "bwrap_executable", lambda: None)
    monkeypatch.setattr(sandbox.run, "_warned", True)  # the loud warning is tested in test_sandbox
    with pytest.raises(SandboxUnavailable):
        execute_submission(exam.submissions / "x.ipynb", student_files=[], public_data=exam.public,
                           test_inputs=exam.test_inputs, work_dir=exam.out / "work" / "refused",
                           limits=Limits(), cell_timeout=60, require_isolation=True)
    r = exam.run("good", student="carol")
    assert r.status == "ok" and not r.isolated, r
    assert np.load(r.predictions).shape == (6,)
