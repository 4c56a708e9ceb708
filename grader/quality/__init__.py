"""Descriptive quality of a student's notebook: the 20 % of the exam that is not the metric.

``assess_quality`` reads a notebook (nbformat v4) and fills a transparent rubric: every item carries
the points awarded, its maximum and a short evidence string the student can read ("heading 'Data
exploration' + 2 figure(s) (from the outputs you handed in) + 120 words commenting the data; missing:
class balance"). It is an *estimate* made with simple heuristics on the text (headings, prose under
them, keywords, code patterns, outputs); an instructor's manual score (a CSV, or nbgrader's
gradebook) overrides it (``QualityResult.fraction``).

Rubric (10 points; ``estimate`` = points / 10)

============  ===  ======================================================================================
item          max  what earns it
============  ===  ======================================================================================
problem       1.5  prose near the top (before the 3rd code cell, or under a "Problem/Task/Goal" heading
                   in the first half): 0.6 for >= 40 words, + 0.45 if it names the task (classify,
                   predict, goal...), + 0.45 if it names the metric (accuracy, loss, F1, MAE...)
exploration   1.5  code that looks at the data (.shape, value_counts, np.unique, imshow...) 0.15;
                   figures in its stored outputs 0.2 (plotting code in a notebook never run: 0.1);
                   class balance shown or discussed 0.15; prose commenting the data, >= 40 words, 1.0
model         2.0  parameter count (model.summary(), count_params() or stated in prose) 0.4; prose
                   describing the architecture (>= 40 words, >= 2 terms: layers, conv, dropout...) 0.6;
                   choices motivated: >= 2 distinct reasoning markers (because, since, chose, compared,
                   trade-off, rather than...) in that prose 1.0 (one marker: 0.5)
training      1.5  fit with explicit epochs 0.2; callbacks (EarlyStopping, checkpoints...) 0.1;
                   learning curve plotted from the history (a figure in the stored outputs, or the
                   plotting code when nothing was run) 0.3 (only an epoch log: 0.15); prose on the
                   training (>= 30 words) 0.9
evaluation    2.0  validation/test metrics computed (evaluate, accuracy_score, classification_report...)
                   0.2; confusion matrix or error analysis 0.3; discussion prose (>= 60 words) 0.7;
                   limits and improvements discussed (>= 2 distinct markers: limit, improve, could,
                   overfit, future...) 0.8 (one marker: 0.4)
comments      1.0  meaningful comment/docstring lines per code line: full at >= 15 % and >= 5 distinct
                   comments (both scale linearly); "# imports", commented-out code and duplicates ignored
runs          0.5  the notebook ran top to bottom in the grader (``ran_ok``); half if the stored
                   execution counts are out of order (the student did not "restart & run all")
============  ===  ======================================================================================

Prose is the student's own explanation, wherever it is written:
- the text of markdown cells without headings, code blocks, HTML, links' targets and math;
- code comments: a block of consecutive whole-line ``#`` comments, or a docstring, of at least 10
  words (commented-out code and markers such as "# imports" left out) is a paragraph of prose of the
  section its code cell is in. An explanation written as comment blocks (or docstrings) under the
  same headings scores at least 70 % of what the same text earns as markdown cells
  (tests/test_quality.py: 100 % on the prose items of its notebook, 111 % in all, since the comment
  lines also earn the "comments" item).
Word counts are linear up to the threshold and zero below a minimum (about a third of it).

Guards against keyword stuffing, so that a heading per section is not enough:
- headings only classify the cells below them; they earn nothing themselves;
- every keyword criterion is a yes/no (or "two distinct markers") check, so repeating words gains
  nothing, and it only counts when the section holds a minimum of real prose;
- a markdown cell (or comment block) that is mostly rubric keywords (> 50 % of its words) or mostly
  the same words repeated is ignored, and the evidence says so;
- code evidence and the run together are worth at most 25 % (code comments aside): a notebook
  without prose stays low.

The 20 % cannot be won by copying (corpus.py): a sentence or comment line repeated in the notebook
counts once, and one copied, exactly or lightly edited (mostly runs of 8 words found in the corpus),
from the exam template (``template=``) or from the reference texts (``references=``, built by
``reference_texts(exam)``: the course's lecture notebooks, the exam's task statement and README)
counts for nothing; the evidence gives the number of words ignored. Pass both: a prose-rich template
handed in untouched would otherwise score as if the student had written it (the sample exam's
template scores 96 % alone, 23 % with it).

Outputs are the ones stored in the handed-in notebook: the student's own run, not the grader's, so
evidence drawn from them says "(from the outputs you handed in)". An image output is a figure only
if it decodes, is at least 100x100 pixels and not one flat colour (figures.py): a 1x1 PNG pasted 50
times earns nothing.

Every byte a student hands in is hostile: every pattern run over it is linear-time, and what is read
is bounded (2,000 cells, 200,000 characters a cell, 500,000 in all, see text.py); the evidence says
when a notebook was read in part.

Sections: a markdown heading is matched to an item by its words (English, Italian, French, German,
Spanish); the cells under it, down to the next heading of the same or a higher level, form that
item's section. An item without a matching heading falls back on every paragraph that talks about it.

Modules: ``text`` (hostile text -> headings, prose, code, comments), ``vocabulary`` (keywords and
code patterns), ``figures`` (which image outputs are figures), ``corpus`` (what the student did not
write), ``view`` (the notebook as cells), ``rubric`` (the items and ``assess_quality``), ``manual``
(instructors' scores).
"""

from __future__ import annotations

from .corpus import reference_texts
from .manual import ManualScore, load_manual_scores, load_nbgrader_manual_scores
from .rubric import RUBRIC, QualityResult, RubricItem, assess_quality

__all__ = [
    "RUBRIC",
    "ManualScore",
    "QualityResult",
    "RubricItem",
    "assess_quality",
    "load_manual_scores",
    "load_nbgrader_manual_scores",
    "reference_texts",
]
