"""The rubric (see the package docstring): one function per item, and ``assess_quality``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .corpus import Originality, corpus_of_texts, template_corpus
from .manual import ManualScore
from .view import Cell, Notebook, read_notebook
from .vocabulary import (
    ARCH_RE,
    CODE_RE,
    DATA_RE,
    DIGIT_RE,
    EPOCH_LOG,
    EVAL_RE,
    KIND_CHECKS,
    LIMIT_RE,
    METRIC_RE,
    PARAM_RE,
    REASON_RE,
    TASK_RE,
    TRAIN_RE,
    KindChecks,
)

# key -> (title shown in feedback, max points). The order is the order of the feedback.
RUBRIC: dict[str, tuple[str, float]] = {
    "problem": ("Problem statement", 1.5),
    "exploration": ("Data exploration", 1.5),
    "model": ("Model description and motivated choices", 2.0),
    "training": ("Training trace", 1.5),
    "evaluation": ("Evaluation and discussion", 2.0),
    "comments": ("Comments in the code", 1.0),
    "runs": ("Runs top to bottom", 0.5),
}
TOTAL_POINTS = sum(max_points for _, max_points in RUBRIC.values())
HANDED_IN = "from the outputs you handed in"  # stored outputs are the student's run, not the grader's


# --------------------------------------------------------------------------------------------------
# Public data types (see grader/CONTRACTS.md, "Quality")
# --------------------------------------------------------------------------------------------------


@dataclass
class RubricItem:
    key: str
    title: str
    points: float
    max_points: float
    evidence: str


@dataclass
class QualityResult:
    items: list[RubricItem]
    estimate: float
    manual: float | None = None
    comment: str = ""

    @property
    def fraction(self) -> float:
        """What the grade uses: the instructor's score when there is one, else the rubric estimate."""
        return self.estimate if self.manual is None else self.manual

    def to_markdown(self) -> str:
        """The rubric as a small markdown table, for the student's feedback."""
        lines = ["| item | points | evidence |", "|---|---|---|"]
        for item in self.items:
            evidence = item.evidence.replace("|", "/").replace("\n", " ")
            lines.append(f"| {item.title} | {item.points:.2f} / {item.max_points:g} | {evidence} |")
        lines.append(f"\nRubric estimate: {self.estimate:.0%}.")
        if self.manual is not None:
            note = f" ({self.comment})" if self.comment else ""
            lines.append(f"Instructor's score: {self.manual:.0%}{note}; it replaces the estimate.")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# Scoring helpers
# --------------------------------------------------------------------------------------------------


class _Tally:
    """Sub-criteria of one item: weights are fractions of the item; evidence says found / missing."""

    def __init__(self) -> None:
        self.earned = 0.0
        self.found: list[str] = []
        self.missing: list[str] = []

    def check(self, weight: float, fraction: float | bool, found: str = "", missing: str = "") -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        self.earned += weight * fraction
        if fraction > 0 and found:
            self.found.append(found)
        if fraction < 1 and missing:
            self.missing.append(missing)

    def note(self, text: str) -> None:
        self.found.append(text)

    def item(self, key: str, nb: Notebook) -> RubricItem:
        title, max_points = RUBRIC[key]
        evidence = " + ".join(self.found) if self.found else "nothing found"
        if self.missing:
            evidence += "; missing: " + "; ".join(self.missing)
        if nb.limits:
            evidence += f" [notebook read in part: {nb.limits}]"
        return RubricItem(key, title, round(max_points * min(1.0, self.earned), 3), max_points, evidence)


def _ramp(words: int, full: int) -> float:
    """Word-count credit: 0 under a third of ``full``, then linear up to 1 at ``full``."""
    return 0.0 if words < full // 3 else min(1.0, words / full)


_TRAILING = " \t\n\r\f\v([=!"


def _distinct(pattern: re.Pattern[str], text: str) -> list[str]:
    found: dict[str, None] = {}
    for match in pattern.finditer(text):
        # "imshow(" -> "imshow", "callbacks =" -> "callbacks": readable in the evidence
        found.setdefault(" ".join(match.group(0).lower().split()).rstrip(_TRAILING)[:40], None)
    return list(found)


def _prose(cells: list[Cell]) -> tuple[str, int]:
    return "\n".join(c.prose for c in cells), sum(c.words for c in cells)


def _code(cells: list[Cell]) -> str:
    return "\n".join(c.code for c in cells if c.kind == "code")


def _first(pattern: str, cells: list[Cell]) -> Cell | None:
    return next((c for c in cells if c.kind == "code" and CODE_RE[pattern].search(c.code)), None)


def _quote(title: str, limit: int = 40) -> str:
    title = " ".join(title[: limit * 4].split())
    return f"'{title[:limit]}…'" if len(title) > limit else f"'{title}'"


def _heading_note(tally: _Tally, nb: Notebook, key: str) -> None:
    title = nb.heading(key)
    if title:
        tally.note(f"heading {_quote(title)}")


def _ignored_note(tally: _Tally, nb: Notebook, key: str) -> None:
    section = nb.section(key)
    ignored = sum(c.stuffed for c in section) + sum(c.ignored_blocks for c in section)
    if ignored:
        tally.missing.append(f"{ignored} cell(s) or comment block(s) ignored: mostly keywords or repeated words")
    copied = sum(c.copied for c in section)
    if copied:
        tally.missing.append(f"{copied} words ignored: copied from the exam template or the course material")


def _examples(words: list[str], limit: int = 3) -> str:
    return ", ".join(words[:limit])


# --------------------------------------------------------------------------------------------------
# Rubric items: one function each
# --------------------------------------------------------------------------------------------------


def _problem(nb: Notebook) -> RubricItem:
    tally = _Tally()
    _heading_note(tally, nb, "problem")
    # "Near the top": before the 3rd code cell (a parameters cell and the imports may come first),
    # plus a problem-statement section if it starts in the first half of the notebook.
    code_seen, near_top = 0, set()
    for cell in nb.cells:
        if cell.kind == "code" and cell.code_lines:
            code_seen += 1
        if code_seen >= 3:
            break
        if cell.topic in (None, "problem"):  # not the exploration's prose, even if it comes early
            near_top.add(cell.index)
    half = nb.cells[-1].index // 2 + 1 if nb.cells else 0
    near_top.update(c.index for c in nb.section("problem") if c.index <= half)
    cells = [c for c in nb.cells if c.index in near_top and c.prose and not c.stuffed]
    text, words = _prose(cells)
    enough = words >= 15
    tally.check(0.4, _ramp(words, 40), f"{words} words of prose near the top",
                f"a statement of the problem in prose near the top ({words}/40 words)")
    tasks = _distinct(TASK_RE, text) if enough else []
    tally.check(0.3, bool(tasks), f"task ({_examples(tasks)})", "what the task is (classify, predict, goal...)")
    metrics = _distinct(METRIC_RE, text) if enough else []
    tally.check(0.3, bool(metrics), f"metric ({_examples(metrics)})", "the metric that measures success")
    _ignored_note(tally, nb, "problem")
    return tally.item("problem", nb)


def _exploration(nb: Notebook, checks: KindChecks) -> RubricItem:
    tally = _Tally()
    _heading_note(tally, nb, "exploration")
    # The code and figures that explore the data: its section, or everything before the model is built.
    cells = nb.section("exploration")
    if not any(c.kind == "code" for c in cells):
        build = _first("build", nb.cells)
        cells = [c for c in nb.cells if build is None or c.index < build.index]
    code = _code(cells)
    looks = _distinct(CODE_RE["explore"], code)
    tally.check(0.1, bool(looks), f"code looking at the data ({_examples(looks)})",
                "code that looks at the data (shapes, counts, examples)")
    figures = sum(c.images for c in cells)
    plotted = bool(CODE_RE["plot"].search(code))
    if figures:
        tally.check(0.1333, 1.0, f"{figures} figure(s) ({HANDED_IN})")
    elif plotted and not nb.executed:
        tally.check(0.1333, 0.5, "plotting code (notebook not executed, no figure to see)", "figures")
    else:
        tally.check(0.1333, 0.0, missing="figures of the data (images, histograms)" + _rejected(nb))
    text, words = _prose(nb.prose_cells("exploration", DATA_RE))
    targets = bool(checks.targets_code.search(code) or (words >= 15 and checks.targets_prose.search(text)))
    shown = bool(CODE_RE["examples"].search(code))
    tally.check(0.1, targets, checks.targets, checks.targets_missing)
    tally.check(0.0, shown, "examples shown")  # evidence only: the figures criterion already pays
    tally.check(0.6667, _ramp(words, 40), f"{words} words commenting the data",
                f"prose commenting what the data looks like ({words}/40 words)")
    _ignored_note(tally, nb, "exploration")
    return tally.item("exploration", nb)


def _rejected(nb: Notebook) -> str:
    if not nb.rejected_images:
        return ""
    return (f" ({nb.rejected_images} image output(s) handed in are not counted: too small, one flat colour, "
            "too large or unreadable)")


def _model(nb: Notebook) -> RubricItem:
    tally = _Tally()
    _heading_note(tally, nb, "model")
    text, words = _prose(nb.prose_cells("model", ARCH_RE))
    code = _code(nb.cells)
    summary = CODE_RE["summary"].search(code)
    stated = words >= 15 and PARAM_RE.search(text) and DIGIT_RE.search(text)
    tally.check(0.2, bool(summary or stated),
                "parameter count (" + ("model.summary()/count_params()" if summary else "stated in prose") + ")",
                "the parameter count (model.summary() or count_params())")
    terms = _distinct(ARCH_RE, text)
    description = min(_ramp(words, 40), 1.0 if len(terms) >= 2 else 0.5 if terms else 0.0)
    tally.check(0.3, description, f"{words} words describing it ({_examples(terms)})",
                f"a description of the architecture in prose ({words}/40 words, {len(terms)}/2 layer terms)")
    reasons = _distinct(REASON_RE, text) if words >= 25 else []
    tally.check(0.5, min(1.0, len(reasons) / 2), f"choices motivated ({_examples(reasons)})",
                "an explanation of why this architecture (because, compared, trade-off...)")
    _ignored_note(tally, nb, "model")
    return tally.item("model", nb)


def _training(nb: Notebook) -> RubricItem:
    tally = _Tally()
    _heading_note(tally, nb, "training")
    code = _code(nb.cells)
    fit, epochs = CODE_RE["fit"].search(code), CODE_RE["epochs"].search(code)
    tally.check(0.1333, 1.0 if fit and epochs else 0.5 if fit else 0.0, "fit with epochs",
                "a call to fit with explicit epochs")
    callbacks = _distinct(CODE_RE["callbacks"], code)
    tally.check(0.0667, bool(callbacks), f"callbacks ({_examples(callbacks)})",
                "callbacks (EarlyStopping, ModelCheckpoint...)")
    tally.check(0.2, *_learning_curve(nb))
    text, words = _prose(nb.prose_cells("training", TRAIN_RE))
    tally.check(0.6, _ramp(words, 30), f"{words} words on the training",
                f"prose commenting the training: curves, over-fitting, epochs ({words}/30 words)")
    _ignored_note(tally, nb, "training")
    return tally.item("training", nb)


def _learning_curve(nb: Notebook) -> tuple[float, str, str]:
    """(fraction, found, missing) for "a training history plotted, or at least logged"."""
    missing = "a learning curve (plot of history.history) or an epoch log"
    for cell in nb.code_cells():
        if CODE_RE["history"].search(cell.code) and CODE_RE["plot"].search(cell.code):
            if cell.images:
                return 1.0, f"learning curve plotted ({cell.images} figure, {HANDED_IN})", missing
            if not nb.executed:
                return 1.0, "learning curve plotted (code; notebook not executed)", missing
    curves = [c for c in nb.section("training") if c.images]
    if curves:
        return 1.0, f"{sum(c.images for c in curves)} figure(s) in the training section ({HANDED_IN})", missing
    if any(EPOCH_LOG.search(c.output_text) for c in nb.code_cells()):
        return 0.5, f"epoch log ({HANDED_IN}; not plotted)", missing
    return 0.0, "", missing


def _evaluation(nb: Notebook, checks: KindChecks) -> RubricItem:
    tally = _Tally()
    _heading_note(tally, nb, "evaluation")
    code = _code(nb.cells)
    metrics = _distinct(CODE_RE["metrics"], code)
    tally.check(0.1, bool(metrics), f"metrics computed ({_examples(metrics)})",
                "metrics computed on the validation set (evaluate, accuracy_score...)")
    text, words = _prose(nb.prose_cells("evaluation", EVAL_RE))
    errors = bool(checks.errors_code.search(code) or (words >= 15 and checks.errors_prose.search(text)))
    tally.check(0.15, errors, checks.errors, checks.errors_missing)
    tally.check(0.35, _ramp(words, 60), f"{words} words of discussion",
                f"prose discussing the results ({words}/60 words)")
    limits = _distinct(LIMIT_RE, text) if words >= 25 else []
    tally.check(0.4, min(1.0, len(limits) / 2), f"limits/improvements ({_examples(limits)})",
                "a discussion of the limits and of what could be improved")
    _ignored_note(tally, nb, "evaluation")
    return tally.item("evaluation", nb)


def _comments(nb: Notebook) -> RubricItem:
    tally = _Tally()
    cells = nb.code_cells()
    code_lines = sum(c.code_lines for c in cells)
    comments = sum(len(c.comments) for c in cells)
    if not code_lines:
        tally.check(1.0, 0.0, missing="no code")
        return tally.item("comments", nb)
    ratio = comments / code_lines
    tally.note(f"{comments} meaningful comment lines for {code_lines} code lines ({ratio:.0%})")
    tally.check(1.0, min(1.0, ratio / 0.15) * min(1.0, comments / 5),
                missing="comments explaining the code (aim: >= 15 % of code lines and >= 5 comments)")
    return tally.item("comments", nb)


def _runs(nb: Notebook, ran_ok: bool) -> RubricItem:
    tally = _Tally()
    cells = [c for c in nb.code_cells() if c.code_lines]
    if not cells:
        tally.check(1.0, 0.0, missing="no code to run")
    elif not ran_ok:
        tally.check(1.0, 0.0, missing="the notebook did not run top to bottom in the grader")
    else:
        counts = [(c.index, c.execution_count) for c in cells if c.execution_count is not None]
        late = next(((a, b) for a, b in zip(counts, counts[1:]) if b[1] <= a[1]), None)
        if late:
            (i, n), (j, m) = late
            tally.check(1.0, 0.5, "ran in the grader",
                        f"cells saved out of order in the notebook you handed in (cell {j + 1} [{m}] after "
                        f"cell {i + 1} [{n}]): restart and run all before handing in")
        else:
            tally.check(1.0, 1.0, "ran top to bottom in the grader"
                        + (", execution counts in order in the notebook you handed in" if counts else ""))
    return tally.item("runs", nb)


def assess_quality(notebook: Any, *, ran_ok: bool, manual: ManualScore | None = None,
                   template: Any = None, references: Sequence[str] = (),
                   kind: str = "class_labels") -> QualityResult:
    """Rubric estimate of a notebook's descriptive quality (see the package docstring).

    ``notebook``: the handed-in notebook, an nbformat v4 NotebookNode (or a plain dict of the same
    shape); its stored outputs are the student's own run, and the evidence says so. ``ran_ok``: the
    grader's run went top to bottom. ``manual``: the instructor's score, which overrides the
    estimate. ``template``: the exam template handed to the students (a notebook, or the path of its
    .ipynb). ``references``: other texts the student did not write, read as markdown (pass
    ``reference_texts(exam)``: the lecture notebooks, the task statement, the exam's README). Prose
    and comments copied from the template or the references earn nothing; pass both, or an
    untouched prose-rich template, or lecture paragraphs pasted in, would score as the student's work.
    ``kind``: the exam's prediction kind; what counts as a look at the targets and at the errors
    depends on it (class balance and a confusion matrix only for classification).
    """
    checks = KIND_CHECKS.get(kind, KIND_CHECKS["class_labels"])
    corpus = template_corpus(template) | corpus_of_texts(tuple(references))
    nb = read_notebook(notebook, Originality(corpus))
    items = [_problem(nb), _exploration(nb, checks), _model(nb), _training(nb), _evaluation(nb, checks), _comments(nb),
             _runs(nb, ran_ok)]
    estimate = round(sum(i.points for i in items) / TOTAL_POINTS, 4)
    return QualityResult(items, estimate,
                         manual=None if manual is None else manual.fraction,
                         comment="" if manual is None else manual.comment)
