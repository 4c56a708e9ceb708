"""grader/quality/corpus.py: prose copied from the course's lectures, the exam's task statement or its
README earns nothing, even lightly edited; the student's own prose of the same length does."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from nbformat.v4 import new_notebook

from grader.quality import assess_quality, reference_texts
from grader.quality.corpus import course_notebooks_folder, course_texts, percent_text
from grader.quality.vocabulary import ARCH_RE, DATA_RE, EVAL_RE, LIMIT_RE, REASON_RE, TRAIN_RE

from .test_quality import SECTIONS, code, items, md

ROOT = Path(__file__).resolve().parents[1]
TASK = """Build a Keras classifier of Fashion-MNIST clothing images (28x28 greyscale, 10 classes)
whose saved model has at most 100,000 parameters (trainable + non-trainable). You get a public
training split and a public validation split; your model is scored on a HIDDEN test set you never
see. 80 % of the grade compares the accuracy of your model on the hidden test set with the rest of
the class; 20 % rates how well the notebook explains the problem, the data, your choices, the
training and the results."""
README = """# Sample exam

## The task (as given to the students)

> Hand in one commented notebook, built from the template, and the model file it saves. The quality
> of the notebook counts: a problem statement, a data exploration, a motivated model, a documented
> training with learning curves, an honest evaluation and discussion, comments, and a notebook that
> runs from top to bottom.
"""


def lecture_paragraphs() -> list[str]:
    """Paragraphs of prose (>= 35 words) of the markdown cells of the lecture on training deep networks."""
    path = next(ROOT.glob("notebooks/05_*.py"), None)
    if path is None:
        pytest.skip("no lecture notebooks in this checkout")
    markdown, inside = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            inside = "[markdown]" in line
            markdown.append("")
        elif inside:
            markdown.append(line[2:] if line.startswith("# ") else "")
    paragraphs = [" ".join(p.split()) for p in "\n".join(markdown).split("\n\n")]
    return [p for p in paragraphs if len(p.split()) >= 35 and not p.startswith(("#", "-", "|", "`"))]


def exam(tmp_path: Path, readme: str = README) -> SimpleNamespace:
    (tmp_path / "README.md").write_text(readme, encoding="utf-8")
    return SimpleNamespace(folder=tmp_path, task=TASK, template=None)


def prose_notebook(explanations: list[str], style: str = "markdown"):
    """SECTIONS' headings and code, with these explanations (one per section)."""
    cells = []
    for count, ((heading, _, source, figure, text), explanation) in enumerate(zip(SECTIONS, explanations), 1):
        cells.append(md(heading))
        lines = textwrap.wrap(explanation, 90)
        if style == "markdown":
            cells.append(md("\n".join(lines)))
        else:
            source = "\n".join("# " + line for line in lines) + "\n" + source
        cells.append(code(source, count, figure=figure, text=text))
    return new_notebook(cells=cells)


def copied_explanations() -> list[str]:
    """For each section, lifted text as long as SECTIONS' own explanation: the task statement for the
    problem, and the lecture paragraphs that best match each other section's vocabulary."""
    paragraphs = lecture_paragraphs()
    lifted = [" ".join(TASK.split())]
    for patterns in ((DATA_RE,), (ARCH_RE, REASON_RE), (TRAIN_RE,), (EVAL_RE, LIMIT_RE)):
        best = sorted(paragraphs, key=lambda p: -sum(len(pat.findall(p)) for pat in patterns))
        lifted.append(" ".join(best[:2]))
        paragraphs = [p for p in paragraphs if p not in best[:2]]
    lengths = [len(explanation.split()) for _, explanation, *_ in SECTIONS]
    return [" ".join(text.split()[:n]) for text, n in zip(lifted, lengths)]


def edit(text: str, every: int = 12) -> str:
    """A light edit: one word in `every` replaced, as a student might 'make it their own'."""
    words = text.split()
    return " ".join("really" if i % every == every // 2 else w for i, w in enumerate(words))


@pytest.fixture(scope="module")
def baseline() -> float:
    """The same notebook without any prose: what code, figures and the run earn alone."""
    return assess_quality(prose_notebook([""] * len(SECTIONS)), ran_ok=True).estimate


def test_reference_texts_hold_the_lectures_the_task_and_the_readme(tmp_path):
    texts = reference_texts(exam(tmp_path))
    lectures = sorted(ROOT.glob("notebooks/[0-9][0-9]_*.py"))
    assert len(texts) == len(lectures) + 2
    assert TASK in texts and README in texts
    if lectures:
        assert any("confusion matrix" in t for t in texts[:-2])
        assert course_texts() is course_texts()  # read once, cached
    assert course_notebooks_folder() == ROOT / "notebooks"


def test_the_sample_exam_has_references():
    from grader.exam import load_exam

    texts = reference_texts(load_exam(ROOT / "exams" / "fashion-budget"))
    assert any("Fashion-MNIST" in t for t in texts[-2:])


def test_unreadable_or_oversized_readme_is_skipped(tmp_path):
    (tmp_path / "README.md").symlink_to("/etc/passwd")
    assert len(reference_texts(SimpleNamespace(folder=tmp_path, task="", template=None))) == len(course_texts())
    (tmp_path / "README.md").unlink()
    (tmp_path / "README.md").write_text("x " * 2_000_000)
    assert len(reference_texts(SimpleNamespace(folder=tmp_path, task="", template=None))) == len(course_texts())


def test_percent_text_reads_markdown_cells_and_code_comments():
    source = textwrap.dedent('''\
        # ---
        # jupyter:
        #   kernelspec: python3
        # ---

        # %% [markdown]
        # # Title
        #
        # A paragraph of the lecture.

        # %%
        x = 1  # an inline comment
        def f():
            """A docstring of the lecture."""
        ''')
    text = percent_text(source)
    assert "A paragraph of the lecture." in text and "# Title" in text
    assert "an inline comment" in text and "A docstring of the lecture." in text
    assert "jupyter" not in text and "x = 1" not in text


def test_prose_lifted_from_the_lectures_and_the_task_earns_nothing(tmp_path, baseline):
    references = reference_texts(exam(tmp_path))
    copied = prose_notebook(copied_explanations())
    alone = assess_quality(copied, ran_ok=True)
    against = assess_quality(copied, ran_ok=True, references=references)
    assert alone.estimate >= baseline + 0.3, alone.to_markdown()  # the lifted text would score...
    assert against.estimate <= baseline + 0.05, against.to_markdown()  # ...but it is not the student's
    assert "copied from the exam template or the course material" in items(against)["model"].evidence

    own = assess_quality(prose_notebook([e for _, e, *_ in SECTIONS]), ran_ok=True, references=references)
    assert own.estimate >= against.estimate + 0.35, own.to_markdown()
    assert own.estimate == assess_quality(prose_notebook([e for _, e, *_ in SECTIONS]), ran_ok=True).estimate


@pytest.mark.parametrize("how", ["one word in 10 changed", "one word in 20 changed", "as code comments",
                                 "one word in 12 changed, as code comments"])
def test_lightly_edited_copies_earn_nothing(tmp_path, baseline, how):
    """Re-wrapped (the lines break elsewhere than in the lecture), with words changed, as comments."""
    references = reference_texts(exam(tmp_path))
    explanations = copied_explanations()
    changed = re.search(r"one word in (\d+)", how)
    if changed:
        explanations = [edit(e, int(changed.group(1))) for e in explanations]
    style = "comments" if "comments" in how else "markdown"
    result = assess_quality(prose_notebook(explanations, style), ran_ok=True, references=references)
    prose_free = assess_quality(prose_notebook([""] * len(SECTIONS), style), ran_ok=True)
    assert result.estimate <= max(baseline, prose_free.estimate) + 0.05, result.to_markdown()


def test_a_quoted_phrase_inside_original_prose_is_not_a_copy(tmp_path):
    """Sharing a phrase with the lecture (8 words) does not make a long sentence of one's own a copy."""
    phrase = " ".join(re.sub(r"[^\w\s]", "", lecture_paragraphs()[0]).split()[:8])
    explanations = [e for _, e, *_ in SECTIONS]
    explanations[2] = explanations[2].replace("The network stacks", f"As the lecture says, {phrase}; the network")
    references = reference_texts(exam(tmp_path))
    with_phrase = items(assess_quality(prose_notebook(explanations), ran_ok=True, references=references))
    assert with_phrase["model"].points == with_phrase["model"].max_points, with_phrase["model"].evidence


def test_repeating_a_paragraph_with_small_edits_counts_once():
    _, explanation, *_ = SECTIONS[3]
    once = prose_notebook([""] * 3 + [explanation, ""])
    twice = prose_notebook([""] * 3 + [explanation + " " + edit(explanation, 15), ""])
    words = [items(assess_quality(nb, ran_ok=True))["training"].evidence for nb in (once, twice)]
    count = [int(re.search(r"(\d+) words on the training", w).group(1)) for w in words]
    assert count[1] <= count[0] + 5, words
