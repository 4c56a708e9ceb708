"""The repository's nbgrader configuration generates a student version of every notebook."""

import subprocess

import nbformat

from tests.notebook_tools import REPO, VENV_BIN, kernel_env, notebook_sources


def test_nbgrader_course_config_generates_student_versions(tmp_path):
    release = tmp_path / "release"
    proc = subprocess.run(
        [str(VENV_BIN / "nbgrader"), "generate_assignment", "notebooks", "--force",
         f"--CourseDirectory.release_directory={release}",
         f"--CourseDirectory.db_url=sqlite:///{tmp_path / 'gradebook.db'}"],
        cwd=REPO, env=kernel_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    released = release / "notebooks"
    assert sorted(p.stem for p in released.glob("*.ipynb")) == [s.stem for s in notebook_sources()]
    assert not list(released.glob("*.py")), "the .py sources (with solutions) must not be released"
    for nb_path in released.glob("*.ipynb"):
        text = nb_path.read_text()
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, nb_path.name
        stubs = [c for c in nbformat.read(nb_path, as_version=4).cells
                 if c.metadata.get("nbgrader", {}).get("solution")]
        assert stubs and all("raise NotImplementedError()" in c.source for c in stubs), nb_path.name
