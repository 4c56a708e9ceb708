"""Static checks of every course notebook: pairing, no outputs, standard opening, exercises."""

import ast
import re

import jupytext
import nbformat
import pytest

from tests.notebook_tools import NOTEBOOK_DIR, REPO, notebook_sources

SOURCES = notebook_sources()
IDS = [p.stem for p in SOURCES]
COLAB = "https://colab.research.google.com/github/dl-course-kit/dl-course-kit/blob/main/"


def _comparable(nb):
    """What must agree between a .py source and its .ipynb: cell kinds, text, tags, nbgrader."""
    return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", [])),
             c.metadata.get("nbgrader")) for c in nb.cells]


def test_there_are_notebooks():
    assert SOURCES, "no notebooks/NN_topic.py found"
    assert SOURCES[0].stem == "00_tensors_and_autodiff"


def test_every_ipynb_has_its_source():
    orphans = [p.name for p in NOTEBOOK_DIR.glob("*.ipynb") if not p.with_suffix(".py").exists()]
    assert not orphans, f"notebooks without a jupytext .py source: {orphans}"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_pair_in_sync(source):
    ipynb = source.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} missing: run `make notebooks`"
    from_py = jupytext.read(source)
    committed = nbformat.read(ipynb, as_version=4)
    assert _comparable(from_py) == _comparable(committed), (
        f"{ipynb.name} differs from {source.name}: edit the .py, then run `make notebooks`")


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_committed_without_outputs(source):
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"cells {dirty} carry outputs: clear them (`make notebooks`)"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_standard_opening(source):
    nb = jupytext.read(source)
    cells = nb.cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# "), "title first"
    opening = "\n".join(c.source for c in cells[:3] if c.cell_type == "markdown")
    assert re.search(r"^#+ Learning goals", opening, re.M), "a 'Learning goals' section up front"
    assert f"({COLAB}notebooks/{source.stem}.ipynb)" in opening, "Colab badge to this notebook"

    param_index = next((i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])),
                       None)
    assert param_index is not None, "a code cell tagged 'parameters' (papermill)"
    setup = [c for c in cells[:param_index] if c.cell_type == "code"]
    assert setup, "a setup cell before the parameters"
    setup_code = "\n".join(c.source for c in setup)
    assert "__version__" in setup_code, "the setup cell prints versions"
    assert "set_random_seed" in setup_code or "seed(" in setup_code, "the setup cell sets seeds"

    params = {t.id: n.value for n in ast.parse(cells[param_index].source).body
              if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    assert "FAST" in params, "the parameters cell defines FAST"
    assert isinstance(params["FAST"], ast.Constant) and params["FAST"].value is False, (
        "FAST defaults to False: the default run is the full lesson")


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_ends_by_checking_what_it_taught(source):
    code = [c for c in jupytext.read(source).cells if c.cell_type == "code"]
    last = code[-1]
    assert "check" in last.metadata.get("tags", []), "the last code cell is tagged 'check'"
    assert "RESULT" in last.source and "assert" in last.source, (
        "the check cell prints RESULT = {metric, value, target} and asserts it")
    printed, first_assert = last.source.find("print(RESULT"), last.source.find("assert")
    assert 0 <= printed < first_assert, (
        "RESULT is printed before any assert, so a failing run still shows what it reached")


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_exercises_follow_nbgrader(source):
    cells = jupytext.read(source).cells
    meta = [c.metadata.get("nbgrader", {}) for c in cells]
    solutions = [c for c, m in zip(cells, meta) if m.get("solution")]
    tests = [c for c, m in zip(cells, meta) if m.get("grade") and not m.get("solution")]
    assert len(solutions) >= 2, "at least two exercises (cells with nbgrader solution: true)"
    assert len(tests) >= 2, "at least two autograded test cells"
    for cell in solutions:
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
    assert any("### BEGIN HIDDEN TESTS" in c.source for c in tests), "some tests are hidden"
    ids = [m["grade_id"] for m in meta if m]
    assert len(ids) == len(set(ids)), "nbgrader grade_ids are unique"


def test_nbgrader_course_config_points_at_the_notebooks():
    config = (REPO / "nbgrader_config.py").read_text()
    assert 'source_directory = "."' in config and "*.py" in config


# --------------------------------------------------------------------------------------------------
# depth of the lesson: prose, pitfalls, reading, a conceptual question

MIN_LESSON_WORDS = 1200
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
MATH = re.compile(r"\$\$[^$]*\$\$|\$[^$\n]*\$")  # formulas are not prose
HEADING = re.compile(r"^#+\s*(.+?)\s*$", re.M)


def _lesson_markdown(source):
    """Markdown after the parameters cell: the lesson itself, not the opening or setup text."""
    cells = jupytext.read(source).cells
    start = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    return [c.source for c in cells[start + 1:] if c.cell_type == "markdown"]


def _words_outside_further_reading(markdown):
    """Words of explanation; the reading list is references, so it does not count."""
    words, in_reading = 0, False
    for cell in markdown:
        for line in cell.splitlines():
            heading = HEADING.match(line)
            if heading:
                in_reading = heading.group(1).lower().startswith("further reading")
            if not in_reading:
                words += len(WORD.findall(MATH.sub(" ", line)))
    return words


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_lesson_prose_is_deep_enough(source):
    markdown = _lesson_markdown(source)
    words = _words_outside_further_reading(markdown)
    assert words >= MIN_LESSON_WORDS, f"{words} words of explanation (at least {MIN_LESSON_WORDS})"
    headings = [h.lower() for cell in markdown for h in HEADING.findall(cell)]
    assert any(h.startswith("common pitfalls") for h in headings), "a 'Common pitfalls' section"
    assert any(h.startswith("further reading") for h in headings), "a 'Further reading' section"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_further_reading_cites_papers_or_chapters(source):
    """Each reference is a list item 'Authors (year), title': a name, a dated citation, a title in
    italics or quotes; at least three of them (a year alone somewhere in the text does not count)."""
    text = "\n".join(_lesson_markdown(source))
    assert "## Further reading" in text, "a '## Further reading' section"
    reading = text[text.index("## Further reading"):].split("\n## ")[0]
    items = re.split(r"\n- ", "\n" + reading)[1:]
    citation = re.compile(r"^[A-Za-z][^()\n]{0,120}\((1[89]\d\d|20[0-2]\d)[ab]?\),?\s+(\*[^*]+\*|\"[^\"]+\")")
    cited = [item for item in items if citation.match(" ".join(item.split()))]
    assert len(cited) >= 3, (
        f"Further reading lists at least three references as 'Authors (year), *title*'; found {len(cited)}"
        f" of {len(items)} items")


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_a_conceptual_question_is_autograded(source):
    """At least one exercise checks understanding, not code: a number or a multiple-choice letter
    assigned by the student, graded by a hidden test (nbgrader grade_id 'concept_...')."""
    cells = jupytext.read(source).cells
    meta = [c.metadata.get("nbgrader", {}) for c in cells]
    answers = [c for c, m in zip(cells, meta) if m.get("solution") and m.get("grade_id", "").startswith("concept")]
    tests = [c for c, m in zip(cells, meta)
             if m.get("grade") and not m.get("solution") and m.get("grade_id", "").startswith("concept")]
    assert answers, "an answer cell with nbgrader grade_id starting 'concept'"
    assert tests, "its autograded test cell (grade_id starting 'concept')"
    assert all("### BEGIN HIDDEN TESTS" in c.source for c in tests), "the right answer is a hidden test"
