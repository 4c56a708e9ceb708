"""Submission discovery across layouts, with a verdict for hand-ins that cannot run."""

import nbformat

from grader.submissions import discover, student_id


def nb(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), path)
    return path


def test_flat_and_folder_layouts(tmp_path):
    nb(tmp_path / "alice.ipynb")
    nb(tmp_path / "bob" / "project.ipynb")
    (tmp_path / "bob" / "model.keras").write_bytes(b"weights")
    nb(tmp_path / "bob" / ".ipynb_checkpoints" / "project-checkpoint.ipynb")
    subs = {s.student: s for s in discover(tmp_path)}
    assert set(subs) == {"alice", "bob"}
    assert subs["bob"].notebook.name == "project.ipynb" and [f.name for f in subs["bob"].files] == ["model.keras"]
    assert all(s.problem is None for s in subs.values())


def test_nbgrader_and_moodle_layouts(tmp_path):
    nb(tmp_path / "carol" / "exam1" / "exam.ipynb")
    nb(tmp_path / "Dan Østergaard_4242_assignsubmission_file_" / "notebook.ipynb")
    subs = {s.student: s for s in discover(tmp_path)}
    assert subs["carol"].notebook.parent.name == "exam1"
    assert subs["dan_stergaard"].name == "Dan Østergaard"


def test_unrunnable_handins_get_a_verdict(tmp_path):
    (tmp_path / "erin.zip").write_bytes(b"PK\x03\x04")
    nb(tmp_path / "frank" / "a.ipynb")
    nb(tmp_path / "frank" / "b.ipynb")
    (tmp_path / "gina").mkdir()
    (tmp_path / "gina" / "notes.txt").write_text("forgot")
    nb(tmp_path / "hal.ipynb")
    nb(tmp_path / "hal" / "hal.ipynb")
    subs = {s.student: s for s in discover(tmp_path)}
    assert "archive" in subs["erin"].problem
    assert "several notebooks" in subs["frank"].problem
    assert "no notebook" in subs["gina"].problem
    assert "two submissions" in subs["hal"].problem


def test_names_with_spaces_and_accents_get_safe_unique_ids(tmp_path):
    nb(tmp_path / "José Müller.ipynb")
    nb(tmp_path / "Jose Muller.ipynb")
    ids = [s.student for s in discover(tmp_path)]
    assert sorted(ids) == ["jose_muller", "jose_muller-2"]
    assert student_id("  ..  ") == "student"
