"""The exam authoring kit as an instructor and a student use it: `grader new-exam --kind` gives a
runnable exam whose generated template trains, predicts in the exact kind and shape, and is graded
above the exam's baseline; `grader student-kit` packs no hidden file, and `grader check` works from it."""

from __future__ import annotations

import csv
import subprocess
import sys
import zipfile

import papermill
import pytest

from grader.authoring.scaffold import KINDS
from grader.cli import main
from grader.exam import load_exam

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900), pytest.mark.xdist_group("authoring")]

EPOCHS = {"classification": 10, "regression": 20, "images": 10, "text": 25}


def train_template(exam_dir, work, epochs):
    """A student's first run of the template: trains and saves model.keras in ``work``."""
    work.mkdir(parents=True)
    papermill.execute_notebook(str(exam_dir / "template.ipynb"), str(work / "student.ipynb"), cwd=str(work),
                               parameters={"DATA_DIR": str(exam_dir / "data" / "public"),
                                           "TEST_INPUTS": str(exam_dir / "data" / "public" / "val_inputs.npy"),
                                           "EPOCHS": epochs},
                               kernel_name="python3", progress_bar=False)
    return work


@pytest.mark.parametrize("kind", KINDS)
def test_new_exam_template_is_graded_above_the_baseline(kind, tmp_path):
    exam_dir = tmp_path / "exam"
    assert main(["new-exam", str(exam_dir), "--kind", kind, "--title", f"A {kind} exam"]) == 0
    assert main(["new-exam", str(exam_dir), "--kind", kind]) == 2  # never overwrites
    exam = load_exam(exam_dir)
    exam.build_data()
    student = train_template(exam_dir, tmp_path / "subs" / "ada", EPOCHS[kind])
    (student / "student.ipynb").rename(student / "ada.ipynb")
    out = tmp_path / "out"
    assert main(["grade", str(exam_dir), str(tmp_path / "subs"), "--out", str(out)]) == 0
    with open(out / "grades.csv", newline="") as f:
        row = next(csv.DictReader(f))
    assert row["failure_class"] == "", row
    metric = float(row["metric"])
    better = metric > exam.grading.baseline if exam.higher_is_better else metric < exam.grading.baseline
    assert better, (kind, metric, exam.grading.baseline)
    feedback = (out / "feedback" / "ada.md").read_text()
    assert exam.task.splitlines()[0][:40] in feedback  # the task statement is shown


def test_student_kit_has_no_hidden_file_and_check_works_from_it(tmp_path):
    exam_dir = tmp_path / "exam"
    assert main(["new-exam", str(exam_dir), "--kind", "classification"]) == 0
    kit = tmp_path / "kit.zip"
    assert main(["student-kit", str(exam_dir), "--out", str(kit)]) == 0
    with zipfile.ZipFile(kit) as z:
        names = z.namelist()
        z.extractall(tmp_path / "kit")
        toml = z.read("exam.toml").decode()
    assert not any("hidden" in n or n.endswith("make_data.py") for n in names), names
    assert "recipe" not in toml.split("[data]")[1].split("[")[0]
    assert {"README.md", "template.ipynb", "data/public/train_inputs.npy", "grader/cli.py"} <= set(names)
    readme = (tmp_path / "kit" / "README.md").read_text()
    assert "Accuracy (higher is better)" in readme and "at most 1,000,000 parameters" in readme
    # a student's run of the template, then the check, inside the kit (no hidden file anywhere)
    kit_dir = tmp_path / "kit"
    train_template(kit_dir, kit_dir / "mine", 5)
    (kit_dir / "mine" / "student.ipynb").rename(kit_dir / "mine" / "mine.ipynb")
    proc = subprocess.run([sys.executable, "-m", "grader", "check", "mine/mine.ipynb", "--exam", "."],
                          cwd=kit_dir, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "OK: Accuracy =" in proc.stdout
