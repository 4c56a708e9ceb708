"""The promises of the README hold: its commands are what CI runs, every notebook is listed, the
runtime is pinned."""

import re
import subprocess
import sys
import tomllib

from tests.notebook_tools import REPO, notebook_sources

README = (REPO / "README.md").read_text(encoding="utf-8")
COMMANDS = [line.strip() for block in re.findall(r"```bash\n(.*?)```", README, re.S) for line in block.splitlines()]


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    assert "make demo" in COMMANDS and "make test" in COMMANDS
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^make test\b", ci, re.M), ".ci/run must run the README's test command verbatim"
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^demo: setup\n\t.*grader grade exams/fashion-budget", makefile, re.M)


def test_every_notebook_has_a_readme_row_with_its_colab_badge():
    listed = set(re.findall(r"\(notebooks/(\d\d_[a-z0-9_]+)\.ipynb\)", README))
    present = {s.stem for s in notebook_sources()}
    assert present <= listed, f"notebooks missing from the README table: {sorted(present - listed)}"
    assert listed <= present, f"README lists notebooks that do not exist: {sorted(listed - present)}"
    colab = "https://colab.research.google.com/github/dl-course-kit/dl-course-kit/blob/main/notebooks/"
    for stem in present:
        assert f"{colab}{stem}.ipynb" in README


def test_runtime_is_pinned_and_the_grader_is_installable():
    lines = [ln.split("#")[0].strip() for ln in (REPO / "requirements.txt").read_text().splitlines()]
    reqs = [ln for ln in lines if ln]
    assert reqs and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][A-Za-z0-9.]*", r) for r in reqs), reqs
    names = {r.split("==")[0].lower() for r in reqs}
    assert {"tensorflow", "keras", "jupyter", "papermill", "nbgrader", "scikit-learn"} <= names
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["grader"] == "grader.cli:main"
    from grader.cli import main

    assert callable(main)


def _pins() -> dict[str, str]:
    lines = [ln.split("#")[0].strip() for ln in (REPO / "requirements.txt").read_text().splitlines()]
    return dict(ln.split("==") for ln in lines if ln)


def test_colabs_versions_are_pinned_and_installed():
    """Colab ships TensorFlow 2.20 with Keras 3.13: the notebooks are tested with exactly that, and
    the environment the tests run in is the pinned one (a drifted venv would test something else)."""
    from importlib.metadata import version

    pins = _pins()
    assert pins["tensorflow"].startswith("2.20."), pins["tensorflow"]
    assert pins["keras"].startswith("3.13."), pins["keras"]
    drifted = {name: (pinned, version(name)) for name, pinned in pins.items() if version(name) != pinned}
    assert not drifted, f"installed versions differ from requirements.txt: {drifted}"
    check = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_readmes_and_notebooks_show_every_notebooks_recorded_fast_and_full_results():
    """What benchmarks/notebooks.py recorded for the notebooks as they are now: each has a FAST and a
    full run that reached its target, measured with the check it has today; both READMEs show that
    table and each notebook's "What we reached" cell quotes its own two runs (`--update-docs`)."""
    from benchmarks.notebooks import latest_results, markdown_table, recorded_line

    latest = latest_results()
    for source in notebook_sources():
        text = source.read_text(encoding="utf-8")
        check = [c for c in text.split("# %%") if "RESULT" in c and "check" in c.split("\n")[0]]
        for mode in ("fast", "full"):
            row = latest.get((source.stem, mode))
            assert row is not None, f"{source.stem}: no {mode} run recorded (python -m benchmarks.notebooks)"
            assert row["status"] == "ok", f"{source.stem} {mode}: {row['status']}"
            assert check and f'"{row["metric"]}"' in check[-1], (
                f"{source.stem} {mode}: recorded metric {row['metric']!r} is not the one its check reports now")
        reached = text[text.index("# ## What we reached"):].split("# %%")[0]
        assert f"# {recorded_line(source.stem, latest)}\n" in reached, (
            f"{source.stem}: its 'What we reached' cell does not quote the recorded runs"
            " (python -m benchmarks.notebooks --update-docs)")
        assert recorded_line(source.stem, latest) in source.with_suffix(".ipynb").read_text(encoding="utf-8")
    table = markdown_table()
    assert table in README, "README's results table differs from `python -m benchmarks.notebooks --markdown`"
    assert table in (REPO / "benchmarks" / "README.md").read_text(encoding="utf-8"), (
        "benchmarks/README.md's table differs from `python -m benchmarks.notebooks --markdown`")
