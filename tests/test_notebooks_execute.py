"""Every course notebook runs top to bottom in FAST mode, reaches its target, and its
exercises autograde with nbgrader: full marks for the solutions, zero for the blank version."""

import pytest

from tests.notebook_tools import autograde, notebook_sources, release, run_notebook

SOURCES = notebook_sources()
FAST = {"FAST": True}
# Wall-clock budget of one FAST run while the suite shares the CPU with a second worker;
# run alone (benchmarks/notebooks.py) they take about half of this.
TIME_LIMIT_S = 300

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Run each notebook once per worker and share the executed copy between its tests."""
    runs = {}

    def get(source):
        if source.stem not in runs:
            out = tmp_path_factory.mktemp(source.stem)
            runs[source.stem] = run_notebook(source.with_suffix(".ipynb"), out, FAST)
        return runs[source.stem]

    return get


@pytest.mark.parametrize("source", [pytest.param(s, marks=pytest.mark.xdist_group(s.stem))
                                    for s in SOURCES], ids=[s.stem for s in SOURCES])
def test_fast_mode_runs_and_learns(source, executed):
    run = executed(source)  # papermill raises on any failing cell, the closing assert included
    result = run.result
    print(f"{run.notebook}: {run.seconds:.0f} s, {result}")
    assert set(result) >= {"metric", "value", "target"}
    higher_is_better = result.get("higher_is_better", True)
    reached = result["value"] >= result["target"] if higher_is_better else (
        result["value"] <= result["target"])
    assert reached, f"{result['metric']} = {result['value']} missed the target {result['target']}"
    assert run.seconds < TIME_LIMIT_S, f"FAST mode took {run.seconds:.0f} s (limit {TIME_LIMIT_S})"


@pytest.mark.parametrize("source", [pytest.param(s, marks=pytest.mark.xdist_group(s.stem))
                                    for s in SOURCES], ids=[s.stem for s in SOURCES])
def test_every_figure_has_a_title_and_labelled_axes(source, executed):
    problems = executed(source).figure_problems
    assert not problems, "figures to fix:\n" + "\n".join(problems)


@pytest.mark.parametrize("source", [pytest.param(s, marks=pytest.mark.xdist_group(s.stem))
                                    for s in SOURCES], ids=[s.stem for s in SOURCES])
def test_exercises_autograde(source, executed, tmp_path):
    course = tmp_path / "course"
    student_version = release(source.with_suffix(".ipynb"), course, FAST)
    text = student_version.read_text()
    assert "### BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text

    solved = autograde(executed(source).executed, course, "solution", execute=False)
    assert solved, "no autograded test cells found"
    assert all(score == total for score, total in solved.values()), f"solutions lose points: {solved}"

    blank = autograde(student_version, course, "blank")
    assert blank.keys() == solved.keys()
    assert all(score == 0 for score, _ in blank.values()), f"blank exercises earn points: {blank}"
