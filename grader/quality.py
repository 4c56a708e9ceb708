"""Descriptive quality of a student's notebook: the 20 % of the exam that is not the metric.

``assess_quality`` reads a notebook (nbformat v4) and fills a transparent rubric: every item carries
the points awarded, its maximum and a short evidence string the student can read ("heading 'Data
exploration' + 2 figures + 120 words of prose; missing: class balance"). It is an *estimate* made
with simple heuristics on the text (headings, prose under them, keywords, code patterns, outputs);
an instructor's manual score (a CSV, or nbgrader's gradebook) overrides it (``QualityResult.fraction``).

Rubric (10 points; ``estimate`` = points / 10)

============  ===  ======================================================================================
item          max  what earns it
============  ===  ======================================================================================
problem       1.5  prose near the top (before the 3rd code cell, or under a "Problem/Task/Goal" heading
                   in the first half): 0.6 for >= 40 words, + 0.45 if it names the task (classify,
                   predict, goal...), + 0.45 if it names the metric (accuracy, loss, F1, MAE...)
exploration   1.5  code that looks at the data (.shape, value_counts, np.unique, imshow...) 0.15;
                   figures in its outputs 0.2; class balance / examples shown or discussed 0.15;
                   prose commenting the data, >= 40 words, 1.0
model         2.0  parameter count (model.summary(), count_params() or stated in prose) 0.4; prose
                   describing the architecture (>= 40 words, >= 2 terms: layers, conv, dropout...) 0.6;
                   choices motivated: >= 2 distinct reasoning markers (because, since, chose, compared,
                   trade-off, rather than...) in that prose 1.0 (one marker: 0.5)
training      1.5  fit with explicit epochs 0.2; callbacks (EarlyStopping, checkpoints...) 0.1;
                   learning curve plotted from the history 0.3 (only an epoch log: 0.15); prose on the
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

Prose is the text of markdown cells without headings, code blocks, HTML, links' targets and math.
Word counts are linear up to the threshold and zero below a minimum (about a third of it).

Guards against keyword stuffing, so that a heading per section is not enough:
- headings only classify the cells below them; they earn nothing themselves;
- every keyword criterion is a yes/no (or "two distinct markers") check, so repeating words gains
  nothing, and it only counts when the section holds a minimum of real prose;
- a markdown cell that is mostly rubric keywords (> 50 % of its words) or mostly the same words
  repeated is ignored, and the evidence says so;
- a sentence repeated anywhere in the notebook counts once; sentences and comments copied from the
  exam template (``template=``) count for nothing;
- code evidence and the run together are worth at most 25 % (code comments aside): a notebook
  without prose stays low.

Pass the exam template (``template=``): a prose-rich template handed in untouched would otherwise
score as if the student had written it (the sample exam's template scores 95 % alone, 23 % with it).

Sections: a markdown heading is matched to an item by its words (English, Italian, French, German,
Spanish); the cells under it, down to the next heading of the same or a higher level, form that
item's section. An item without a matching heading falls back on every paragraph that talks about it.
"""

from __future__ import annotations

import ast
import csv
import functools
import io
import math
import re
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

__all__ = [
    "RUBRIC",
    "ManualScore",
    "QualityResult",
    "RubricItem",
    "assess_quality",
    "load_manual_scores",
    "load_nbgrader_manual_scores",
]

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
class ManualScore:
    """An instructor's grade for the quality part: ``score`` out of ``max_score``."""

    student: str
    score: float
    max_score: float = 1.0
    comment: str = ""
    source: str = ""  # where it came from, e.g. "manual.csv:4" or "nbgrader:exam"

    @property
    def fraction(self) -> float:
        return min(1.0, max(0.0, self.score / self.max_score))


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
# Vocabulary. Patterns are case-insensitive; "*" stands for any word ending ("improv*").
# A few Italian / French / German / Spanish synonyms, since the kit is used in European courses.
# Ambiguous short words are left out on purpose ("da", "car", "but" mean other things in English).
# --------------------------------------------------------------------------------------------------

HEADING_WORDS: dict[str, list[str]] = {
    # Checked in this order: "Model training" is training, "Model evaluation" is evaluation.
    "evaluation": ["evaluat*", "result*", "test*", "discussion", "conclusion*", "error analysis",
                   "performance", "limit*", "valutazion*", "risultat*", "discussione", "conclusion*",
                   "évaluation", "résultats", "auswertung", "ergebnis*", "diskussion", "fazit",
                   "evaluación", "resultados", "discusión", "conclusiones"],
    "training": ["train*", "fit*", "learning curve*", "optimi*", "addestramento", "allenamento",
                 "entraînement", "apprentissage", "entrenamiento"],
    "exploration": ["explor*", "data", "dataset*", "eda", "visuali*", "esplorazion*", "dati",
                    "données", "daten*", "datos", "exploración"],
    "model": ["model*", "architectur*", "network*", "design", "choice*", "modello", "architettura",
              "modèle", "architektur", "modelo", "arquitectura", "rete", "réseau", "netz*", "red"],
    "problem": ["problem*", "task", "goal*", "objective*", "introduction", "overview", "context", "aim",
                "obiettiv*", "introduzione", "compito", "énoncé", "objectif*", "tâche", "aufgabe*",
                "ziel*", "einleitung", "objetivo*", "tarea", "introducción", "planteamiento"],
}

TASK_WORDS = ["classif*", "predict*", "regression", "recogni*", "detect*", "task", "goal*", "aim*",
              "objective*", "forecast*", "segment*", "classificar*", "classificazione", "prevedere",
              "obiettivo", "compito", "scopo", "classer", "prédire", "objectif", "tâche", "klassifi*",
              "vorhersag*", "aufgabe", "ziel", "clasificar", "clasificación", "predecir", "objetivo",
              "tarea"]
METRIC_WORDS = ["accuracy", "precision", "recall", "f1", "auc", "loss", "error rate", "mae", "mse",
                "rmse", "metric*", "score", "top-1", "accuratezza", "metrica", "precisione", "exactitude",
                "métrique", "genauigkeit", "metrik", "exactitud", "precisión", "métrica"]
DATA_WORDS = ["data", "dataset*", "image*", "sample*", "example*", "class", "classes", "label*",
              "distribution", "balance*", "imbalance*", "pixel*", "split", "dati", "immagin*", "esempi*",
              "classi", "etichett*", "distribuzione", "données", "exemple*", "étiquette*", "daten",
              "bild*", "beispiel*", "klasse*", "verteilung", "datos", "imagen*", "ejemplo*", "clases",
              "etiqueta*"]
BALANCE_WORDS = ["balance*", "imbalance*", "unbalanced", "distribution", "per class", "per-class",
                 "class count*", "frequenc*", "bilanciat*", "sbilanciat*", "distribuzione", "équilibr*",
                 "ausgewogen*", "unausgewogen*", "verteilung", "equilibr*", "desbalance*", "distribución"]
ARCHITECTURE_WORDS = ["layer*", "conv*", "dense", "dropout", "pooling", "maxpool*", "activation*",
                      "relu", "softmax", "sigmoid", "batch norm*", "batchnorm*", "normali?ation",
                      "filter*", "kernel*", "neuron*", "units", "residual", "skip connection*",
                      "embedding*", "lstm", "gru", "attention", "transformer*", "cnn", "mlp",
                      "perceptron", "hidden", "architecture", "depth", "width", "strat*", "livell*",
                      "neuroni", "architettura", "convoluzion*", "couche*", "neurone*", "schicht*",
                      "architektur", "faltung*", "capa*", "neurona*", "arquitectura", "convolución"]
REASON_WORDS = ["because", "since", "chose", "choose", "chosen", "choice", "compared", "comparing",
                "comparison", "trade-off*", "tradeoff*", "instead of", "rather than", "in order to",
                "so that", "motivat*", "justif*", "reason*", "therefore", "thus", "hence", "to avoid",
                "to reduce", "better than", "worse than", "outperform*", "ablation", "tried",
                "perché", "poiché", "siccome", "scelt*", "scegliere", "confront*", "rispetto a",
                "compromesso", "invece di", "quindi", "per evitare", "parce que", "puisque", "choisi*",
                "choix", "compar*", "compromis", "au lieu de", "plutôt que", "afin de", "weil",
                "deshalb", "daher", "gewählt", "vergleich*", "kompromiss", "anstatt", "porque",
                "ya que", "elegí", "elegido", "elección", "compromiso", "en lugar de", "en vez de",
                "por eso", "para evitar"]
PARAMETER_WORDS = ["param*", "parametri", "paramètres", "parámetros", "weights", "budget"]
TRAINING_WORDS = ["epoch*", "learning rate", "optimi?er", "adam", "sgd", "batch size", "loss",
                  "overfit*", "underfit*", "converg*", "learning curve*", "validation", "callback*",
                  "early stopping", "plateau", "schedul*", "regulari?ation", "augment*", "epoca",
                  "epoche", "tasso di apprendimento", "sovradattamento", "addestrament*", "époque*",
                  "taux d'apprentissage", "surapprentissage", "entraînement", "lernrate", "überanpassung",
                  "época*", "tasa de aprendizaje", "sobreajuste", "entrenamiento"]
EVALUATION_WORDS = ["accuracy", "validation", "test set", "confusion", "precision", "recall", "f1",
                    "error*", "misclassif*", "per-class", "per class", "result*", "validazione",
                    "matrice di confusione", "errori", "risultat*", "matrice de confusion", "erreur*",
                    "validierung", "konfusionsmatrix", "fehler", "ergebnis*", "validación",
                    "matriz de confusión", "errores", "resultados"]
LIMIT_WORDS = ["limit*", "improv*", "could", "would", "future", "next step*", "weakness*", "drawback*",
               "shortcoming*", "fail*", "struggl*", "mistake*", "overfit*", "bias*",
               "not enough", "more data", "miglior*", "potrebbe", "futur*", "debolezz*", "difett*",
               "sbagli*", "confond*", "amélior*", "pourrait", "faiblesse*", "grenze*", "einschränkung*",
               "verbesser*", "könnte*", "schwäche*", "künftig*", "limitaci*", "mejor*", "podría*",
               "debilidad*"]

# Code patterns, searched in code with its comments removed (commented-out code is no evidence).
CODE = {
    "explore": r"\.shape\b|\.head\(|\.describe\(|\.info\(|value_counts|bincount|np\.unique|\bunique\(|"
               r"Counter\(|imshow\(|\bhist\(|\.dtype\b|\.min\(\)|\.max\(\)",
    "balance": r"value_counts|bincount|return_counts|Counter\(|countplot|\bhist\(",
    "examples": r"imshow\(|\bsubplots?\(",
    "plot": r"\bplt\.|\.plot\(|imshow\(|\bsns\.|seaborn|ConfusionMatrixDisplay|\bplot_\w+\(",
    "build": r"Sequential\(|\bModel\(|\blayers\.\w+\(|\bConv\dD\(|\bDense\(",
    "summary": r"\.summary\(|count_params\(|plot_model\(",
    "fit": r"\.fit\(",
    "epochs": r"\bepochs\s*=",
    "callbacks": r"EarlyStopping|ModelCheckpoint|ReduceLROnPlateau|LearningRateScheduler|CSVLogger|"
                 r"TensorBoard|\bcallbacks\s*=",
    "history": r"\.history\b|\bhistory\[|\bhistory\b",
    "metrics": r"\.evaluate\(|accuracy_score|classification_report|f1_score|precision_score|recall_score|"
               r"mean_squared_error|mean_absolute_error|roc_auc_score|top_k_accuracy|\bmetrics\.\w+\(|"
               r"np\.mean(?=\([^)]*==)",
    "errors": r"confusion|misclass|classification_report|!=\s*y_?\w*|\by_?\w*\s*!=|\bwrong\w*\b|"
              r"\berrors?\s*=",
}
EPOCH_LOG = re.compile(r"Epoch \d+/\d+|\bval_loss\b|\bval_accuracy\b")

IMAGE_MIME = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
MAX_OUTPUT_CHARS = 20_000  # text kept per cell: enough to see an epoch log, cheap on huge outputs
MIN_CELL_WORDS = 8  # below this a markdown cell is too short to judge as stuffed or not
STUFFED_DENSITY = 0.5  # more than half of the words are rubric keywords
STUFFED_DISTINCT = 0.35  # fewer than 35 % distinct words in a cell of >= 20 words


def _compile(words: Iterable[str]) -> re.Pattern[str]:
    parts = []
    for word in words:
        escaped = re.escape(word).replace(r"\*", r"\w*").replace(r"\?", ".")
        parts.append(escaped.replace(r"\ ", r"\s+"))
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


HEADING_RE = {key: _compile(words) for key, words in HEADING_WORDS.items()}
TASK_RE, METRIC_RE, DATA_RE = _compile(TASK_WORDS), _compile(METRIC_WORDS), _compile(DATA_WORDS)
BALANCE_RE, ARCH_RE, REASON_RE = _compile(BALANCE_WORDS), _compile(ARCHITECTURE_WORDS), _compile(REASON_WORDS)
PARAM_RE, TRAIN_RE, EVAL_RE = _compile(PARAMETER_WORDS), _compile(TRAINING_WORDS), _compile(EVALUATION_WORDS)
LIMIT_RE = _compile(LIMIT_WORDS)
ALL_KEYWORDS_RE = _compile(
    TASK_WORDS + METRIC_WORDS + BALANCE_WORDS + ARCHITECTURE_WORDS + REASON_WORDS + PARAMETER_WORDS
    + TRAINING_WORDS + EVALUATION_WORDS + LIMIT_WORDS
)
CODE_RE = {key: re.compile(pattern) for key, pattern in CODE.items()}
WORD_RE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


# --------------------------------------------------------------------------------------------------
# A simple view of the notebook: what each cell says, shows and ran.
# --------------------------------------------------------------------------------------------------


@dataclass
class _Cell:
    index: int
    kind: str  # "markdown" or "code" (raw and unknown cells are dropped)
    headings: list[tuple[int, str]] = field(default_factory=list)
    prose: str = ""  # markdown: text without headings/code/HTML; duplicate sentences removed
    words: int = 0
    stuffed: bool = False
    code: str = ""  # code: source without comments
    code_lines: int = 0
    comments: list[str] = field(default_factory=list)  # meaningful comment and docstring lines
    images: int = 0
    output_text: str = ""
    execution_count: int | None = None
    topic: str | None = None  # rubric key of the section the cell is in
    topic_heading: str = ""  # the heading of this cell that opened that section, if any


@dataclass
class _Notebook:
    cells: list[_Cell]
    executed: bool  # some code cell has outputs or an execution count

    def markdown(self) -> list[_Cell]:
        return [c for c in self.cells if c.kind == "markdown"]

    def code_cells(self) -> list[_Cell]:
        return [c for c in self.cells if c.kind == "code"]

    def section(self, key: str) -> list[_Cell]:
        return [c for c in self.cells if c.topic == key]

    def heading(self, key: str) -> str | None:
        return next((c.topic_heading for c in self.section(key) if c.topic_heading), None)

    def prose_cells(self, key: str, pattern: re.Pattern[str]) -> list[_Cell]:
        """Prose about an item: its section if it has a heading, else any paragraph matching ``pattern``."""
        if any(c.kind == "markdown" for c in self.section(key)):
            return [c for c in self.section(key) if c.kind == "markdown" and not c.stuffed]
        return [c for c in self.markdown() if not c.stuffed and pattern.search(c.prose)]


def _text(value: Any) -> str:
    """Cell sources and output texts are str, or lists of str in raw JSON; anything else is empty."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "".join(str(v) for v in value)
    return str(value)


def _get(obj: Any, key: str, default: Any = None) -> Any:
    try:
        return obj.get(key, default)
    except AttributeError:
        return default


def _words(text: str) -> list[str]:
    return WORD_RE.findall(text)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?;:])\s+|\n+", text) if s.strip()]


def _norm(text: str) -> str:
    return " ".join(_words(text.lower()))


# Markdown -> (headings, prose)
_FENCE = re.compile(r"```.*?(```|\Z)|~~~.*?(~~~|\Z)", re.DOTALL)
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.DOTALL)
_HTML_HEADING = re.compile(r"<h([1-6])[^>]*>(.*?)</h\1>", re.IGNORECASE | re.DOTALL)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_TAG = re.compile(r"<[^>]+>")
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s*(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")


def _split_markdown(source: str) -> tuple[list[tuple[int, str]], str]:
    headings: list[tuple[int, str]] = []
    for level, title in _HTML_HEADING.findall(source):
        headings.append((int(level), _TAG.sub("", title).strip()))
    text = _HTML_HEADING.sub("\n", source)
    text = _FENCE.sub("\n", text)
    text = _MATH.sub(" ", text)
    text = _IMAGE.sub(" ", text)
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    prose_lines: list[str] = []
    for line in text.splitlines():
        atx = _ATX.match(line)
        setext = _SETEXT.match(line)
        if atx and atx.group(2):
            headings.append((len(atx.group(1)), atx.group(2)))
        elif setext and prose_lines and prose_lines[-1].strip():
            # "Title\n=====" : the previous line was a heading, not prose
            headings.append((1 if setext.group(1)[0] == "=" else 2, prose_lines.pop().strip()))
        elif not atx:
            prose_lines.append(line)
    return headings, "\n".join(prose_lines)


# Code -> (code without comments, number of code lines, meaningful comments)
_TRIVIAL_COMMENT = re.compile(
    r"^(!|-\*-|%%|in\s*\[|noqa|type:|pragma|fmt:|your code here|todo\b|parameters$|"
    r"injected parameters|imports?$|coding[:=])", re.IGNORECASE)


def _meaningful_comment(text: str) -> bool:
    """A comment that explains something: >= 3 words, not a marker, not commented-out code."""
    text = text.strip().lstrip("#").strip()
    if len(_words(text)) < 3 or _TRIVIAL_COMMENT.match(text):
        return False
    if re.search(r"[=(\[.]", text):  # "x = f(y)" or "model.fit(x)" kept as a comment is code, not prose
        try:
            ast.parse(text)
            return False
        except (SyntaxError, ValueError):
            pass
    return True


def _split_code(source: str) -> tuple[str, int, list[str]]:
    # IPython magics and shell lines are not Python: blank them so that tokenize can read the rest.
    lines = [("" if line.lstrip().startswith(("%", "!")) else line) for line in source.splitlines()]
    cleaned = "\n".join(lines) + "\n"
    comments: list[str] = []
    comment_rows: set[int] = set()
    docstring_rows: set[int] = set()
    try:
        previous = tokenize.NEWLINE
        for tok in tokenize.generate_tokens(io.StringIO(cleaned).readline):
            if tok.type == tokenize.COMMENT:
                comments.append(tok.string)
                if not tok.line[: tok.start[1]].strip():
                    comment_rows.add(tok.start[0])
            elif tok.type == tokenize.STRING and previous in (tokenize.NEWLINE, tokenize.INDENT,
                                                                tokenize.DEDENT, tokenize.NL):
                if tok.string.lstrip("rRbBuUfF").startswith(('"""', "'''")):  # a docstring / prose block
                    body = tok.string.strip("rRbBuUfF").strip("\"'")
                    comments.extend(line for line in body.splitlines() if line.strip())
                    docstring_rows.update(range(tok.start[0], tok.end[0] + 1))
            if tok.type not in (tokenize.COMMENT, tokenize.NL):
                previous = tok.type
    except (tokenize.TokenError, IndentationError, SyntaxError):
        # Broken code: fall back on whole-line "#" comments.
        comments = [line for line in lines if line.lstrip().startswith("#")]
        comment_rows = {i + 1 for i, line in enumerate(lines) if line.lstrip().startswith("#")}
    code_rows = [line for i, line in enumerate(lines, start=1)
                 if line.strip() and i not in comment_rows and i not in docstring_rows]
    return "\n".join(code_rows), len(code_rows), [c for c in comments if _meaningful_comment(c)]


def _outputs(cell: Any) -> tuple[int, str]:
    images, texts, size = 0, [], 0
    for output in _get(cell, "outputs") or []:
        data = _get(output, "data") or {}
        if any(mime in data for mime in IMAGE_MIME):
            images += 1
        if size < MAX_OUTPUT_CHARS:
            text = _text(_get(output, "text")) or _text(_get(data, "text/plain"))
            text = text[: MAX_OUTPUT_CHARS - size]
            texts.append(text)
            size += len(text)
    return images, "".join(texts)


@functools.lru_cache(maxsize=8)
def _template_file(path: str, mtime: float) -> tuple[frozenset[str], frozenset[str]]:
    sentences, comments = _template_text(nbformat.read(path, as_version=4))
    return frozenset(sentences), frozenset(comments)


def _template_text(template: Any) -> tuple[set[str], set[str]]:
    """Sentences and comments of the exam template: the student did not write them."""
    if template is None:
        return set(), set()
    if isinstance(template, (str, Path)):  # read once per file, not once per student
        path = Path(template)
        sentences_, comments_ = _template_file(str(path), path.stat().st_mtime)
        return set(sentences_), set(comments_)
    sentences: set[str] = set()
    comments: set[str] = set()
    for cell in _get(template, "cells") or []:
        source = _text(_get(cell, "source"))
        if _get(cell, "cell_type") == "markdown":
            sentences.update(_norm(s) for s in _sentences(_split_markdown(source)[1]))
        elif _get(cell, "cell_type") == "code":
            comments.update(_norm(c) for c in _split_code(source)[2])
    return sentences, comments


def _is_stuffed(words: list[str], prose: str) -> bool:
    if len(words) < MIN_CELL_WORDS:
        return False
    keyword_words = sum(len(_words(m)) for m in ALL_KEYWORDS_RE.findall(prose))
    if keyword_words / len(words) > STUFFED_DENSITY:
        return True
    distinct = len({w.lower() for w in words})
    return len(words) >= 20 and distinct / len(words) < STUFFED_DISTINCT


def _read(notebook: Any, template: Any = None) -> _Notebook:
    seen_sentences, seen_comments = _template_text(template)
    cells: list[_Cell] = []
    for index, raw in enumerate(_get(notebook, "cells") or []):
        kind = _get(raw, "cell_type")
        source = _text(_get(raw, "source"))
        tags = _get(_get(raw, "metadata") or {}, "tags") or []
        if kind == "markdown":
            headings, prose = _split_markdown(source)
            kept = []
            for sentence in _sentences(prose):  # a repeated or template sentence counts once / never
                key = _norm(sentence)
                if key and key not in seen_sentences:
                    seen_sentences.add(key)
                    kept.append(sentence)
            prose = "\n".join(kept)
            words = _words(prose)
            cells.append(_Cell(index, kind, headings=headings, prose=prose, words=len(words),
                               stuffed=_is_stuffed(words, prose)))
        elif kind == "code" and "injected-parameters" not in tags:  # papermill's cell is not the student's
            code, code_lines, comments = _split_code(source)
            fresh = []
            for comment in comments:
                key = _norm(comment)
                if key not in seen_comments:
                    seen_comments.add(key)
                    fresh.append(comment)
            images, output_text = _outputs(raw)
            count = _get(raw, "execution_count")
            cells.append(_Cell(index, kind, code=code, code_lines=code_lines, comments=fresh, images=images,
                               output_text=output_text,
                               execution_count=count if isinstance(count, int) else None))
    _assign_topics(cells)
    executed = any(c.execution_count is not None or c.images or c.output_text for c in cells)
    return _Notebook(cells, executed)


def _heading_topic(title: str) -> str | None:
    for key, pattern in HEADING_RE.items():  # dict order is the priority order
        if pattern.search(title):
            return key
    return None


def _assign_topics(cells: list[_Cell]) -> None:
    """Each cell belongs to the item of the last heading above it that names one.

    An unrecognised sub-heading ("### Why three blocks?") stays in its parent's section; an
    unrecognised heading of the same or a higher level ("## Setup") closes it.
    """
    topic: str | None = None
    level = 0
    for cell in cells:
        for heading_level, title in cell.headings:
            matched = _heading_topic(title)
            if matched is not None:
                topic, level = matched, heading_level
                cell.topic_heading = title
            elif topic is not None and heading_level <= level:
                topic, level = None, 0
        cell.topic = topic


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

    def item(self, key: str) -> RubricItem:
        title, max_points = RUBRIC[key]
        evidence = " + ".join(self.found) if self.found else "nothing found"
        if self.missing:
            evidence += "; missing: " + "; ".join(self.missing)
        return RubricItem(key, title, round(max_points * min(1.0, self.earned), 3), max_points, evidence)


def _ramp(words: int, full: int) -> float:
    """Word-count credit: 0 under a third of ``full``, then linear up to 1 at ``full``."""
    return 0.0 if words < full // 3 else min(1.0, words / full)


def _distinct(pattern: re.Pattern[str], text: str) -> list[str]:
    found: dict[str, None] = {}
    for match in pattern.findall(text):
        # "imshow(" -> "imshow", "callbacks =" -> "callbacks": readable in the evidence
        found.setdefault(re.sub(r"[\s(=\[!]+$", "", " ".join(match.lower().split())), None)
    return list(found)


def _prose(cells: list[_Cell]) -> tuple[str, int]:
    return "\n".join(c.prose for c in cells), sum(c.words for c in cells)


def _code(cells: list[_Cell]) -> str:
    return "\n".join(c.code for c in cells if c.kind == "code")


def _first(pattern: str, cells: list[_Cell]) -> _Cell | None:
    return next((c for c in cells if c.kind == "code" and CODE_RE[pattern].search(c.code)), None)


def _quote(title: str, limit: int = 40) -> str:
    title = " ".join(title.split())
    return f"'{title[:limit]}…'" if len(title) > limit else f"'{title}'"


def _heading_note(tally: _Tally, nb: _Notebook, key: str) -> None:
    title = nb.heading(key)
    if title:
        tally.note(f"heading {_quote(title)}")


def _stuffed_note(tally: _Tally, nb: _Notebook, key: str) -> None:
    ignored = [c for c in nb.section(key) if c.stuffed]
    if ignored:
        tally.missing.append(f"{len(ignored)} cell(s) ignored: mostly keywords or repeated words")


def _examples(words: list[str], limit: int = 3) -> str:
    return ", ".join(words[:limit])


# --------------------------------------------------------------------------------------------------
# Rubric items: one function each
# --------------------------------------------------------------------------------------------------


def _problem(nb: _Notebook) -> RubricItem:
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
    cells = [c for c in nb.markdown() if c.index in near_top and not c.stuffed]
    text, words = _prose(cells)
    enough = words >= 15
    tally.check(0.4, _ramp(words, 40), f"{words} words of prose near the top",
                f"a statement of the problem in prose near the top ({words}/40 words)")
    tasks = _distinct(TASK_RE, text) if enough else []
    tally.check(0.3, bool(tasks), f"task ({_examples(tasks)})", "what the task is (classify, predict, goal...)")
    metrics = _distinct(METRIC_RE, text) if enough else []
    tally.check(0.3, bool(metrics), f"metric ({_examples(metrics)})", "the metric that measures success")
    _stuffed_note(tally, nb, "problem")
    return tally.item("problem")


def _exploration(nb: _Notebook) -> RubricItem:
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
        tally.check(0.1333, 1.0, f"{figures} figure(s)")
    elif plotted and not nb.executed:
        tally.check(0.1333, 0.5, "plotting code (notebook not executed, no figure to see)", "figures")
    else:
        tally.check(0.1333, 0.0, missing="figures of the data (images, histograms)")
    text, words = _prose(nb.prose_cells("exploration", DATA_RE))
    balance = bool(CODE_RE["balance"].search(code) or (words >= 15 and BALANCE_RE.search(text)))
    shown = bool(CODE_RE["examples"].search(code))
    tally.check(0.1, balance, "class balance", "class balance (counts per class)")
    tally.check(0.0, shown, "examples shown")  # evidence only: the figures criterion already pays
    tally.check(0.6667, _ramp(words, 40), f"{words} words commenting the data",
                f"prose commenting what the data looks like ({words}/40 words)")
    _stuffed_note(tally, nb, "exploration")
    return tally.item("exploration")


def _model(nb: _Notebook) -> RubricItem:
    tally = _Tally()
    _heading_note(tally, nb, "model")
    text, words = _prose(nb.prose_cells("model", ARCH_RE))
    code = _code(nb.cells)
    summary = CODE_RE["summary"].search(code)
    stated = words >= 15 and PARAM_RE.search(text) and re.search(r"\d", text)
    tally.check(0.2, bool(summary or stated),
                "parameter count (" + ("model.summary()/count_params()" if summary else "stated in prose") + ")",
                "the parameter count (model.summary() or count_params())")
    terms = _distinct(ARCH_RE, text)
    description = min(_ramp(words, 40), 1.0 if len(terms) >= 2 else 0.5 if terms else 0.0)
    tally.check(0.3, description, f"{words} words describing it ({_examples(terms)})",
                f"a description of the architecture in prose ({words}/40 words, {len(terms)}/2 layer terms)")
    reasons = _distinct(REASON_RE, text) if words >= 25 else []
    tally.check(0.5, min(1.0, len(reasons) / 2), f"choices motivated ({_examples(reasons)})",
                "markdown explaining why this architecture (because, compared, trade-off...)")
    _stuffed_note(tally, nb, "model")
    return tally.item("model")


def _training(nb: _Notebook) -> RubricItem:
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
    _stuffed_note(tally, nb, "training")
    return tally.item("training")


def _learning_curve(nb: _Notebook) -> tuple[float, str, str]:
    """(fraction, found, missing) for "a training history plotted, or at least logged"."""
    missing = "a learning curve (plot of history.history) or an epoch log"
    for cell in nb.code_cells():
        if CODE_RE["history"].search(cell.code) and CODE_RE["plot"].search(cell.code):
            if cell.images:
                return 1.0, f"learning curve plotted ({cell.images} figure)", missing
            if not nb.executed:
                return 1.0, "learning curve plotted (code; notebook not executed)", missing
    curves = [c for c in nb.section("training") if c.images]
    if curves:
        return 1.0, f"{sum(c.images for c in curves)} figure(s) in the training section", missing
    if any(EPOCH_LOG.search(c.output_text) for c in nb.code_cells()):
        return 0.5, "epoch log in the outputs (not plotted)", missing
    return 0.0, "", missing


def _evaluation(nb: _Notebook) -> RubricItem:
    tally = _Tally()
    _heading_note(tally, nb, "evaluation")
    code = _code(nb.cells)
    metrics = _distinct(CODE_RE["metrics"], code)
    tally.check(0.1, bool(metrics), f"metrics computed ({_examples(metrics)})",
                "metrics computed on the validation set (evaluate, accuracy_score...)")
    text, words = _prose(nb.prose_cells("evaluation", EVAL_RE))
    errors = bool(CODE_RE["errors"].search(code) or (words >= 15 and re.search(r"confusion|misclass", text, re.I)))
    tally.check(0.15, errors, "confusion matrix / error analysis", "a confusion matrix or a look at the errors")
    tally.check(0.35, _ramp(words, 60), f"{words} words of discussion",
                f"prose discussing the results ({words}/60 words)")
    limits = _distinct(LIMIT_RE, text) if words >= 25 else []
    tally.check(0.4, min(1.0, len(limits) / 2), f"limits/improvements ({_examples(limits)})",
                "a discussion of the limits and of what could be improved")
    _stuffed_note(tally, nb, "evaluation")
    return tally.item("evaluation")


def _comments(nb: _Notebook) -> RubricItem:
    tally = _Tally()
    cells = nb.code_cells()
    code_lines = sum(c.code_lines for c in cells)
    comments = sum(len(c.comments) for c in cells)
    if not code_lines:
        tally.check(1.0, 0.0, missing="no code")
        return tally.item("comments")
    ratio = comments / code_lines
    tally.note(f"{comments} meaningful comment lines for {code_lines} code lines ({ratio:.0%})")
    tally.check(1.0, min(1.0, ratio / 0.15) * min(1.0, comments / 5),
                missing="comments explaining the code (aim: >= 15 % of code lines and >= 5 comments)")
    return tally.item("comments")


def _runs(nb: _Notebook, ran_ok: bool) -> RubricItem:
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
                        f"cells saved out of order (cell {j + 1} [{m}] after cell {i + 1} [{n}]): "
                        "restart and run all before handing in")
        else:
            tally.check(1.0, 1.0, "ran top to bottom" + (", execution counts in order" if counts else ""))
    return tally.item("runs")


def assess_quality(notebook: Any, *, ran_ok: bool, manual: ManualScore | None = None,
                   template: Any = None) -> QualityResult:
    """Rubric estimate of a notebook's descriptive quality (see the module docstring).

    ``notebook``: an nbformat v4 NotebookNode (or a plain dict of the same shape), ideally the
    executed copy so that figures are visible. ``ran_ok``: the grader's run went top to bottom.
    ``manual``: the instructor's score, which overrides the estimate. ``template``: the exam template
    handed to the students (a notebook, or the path of its .ipynb); its sentences and comments earn
    nothing. Pass it: an untouched, prose-rich template would otherwise score as the student's work.
    """
    nb = _read(notebook, template)
    items = [_problem(nb), _exploration(nb), _model(nb), _training(nb), _evaluation(nb), _comments(nb),
             _runs(nb, ran_ok)]
    estimate = round(sum(i.points for i in items) / TOTAL_POINTS, 4)
    return QualityResult(items, estimate,
                         manual=None if manual is None else manual.fraction,
                         comment="" if manual is None else manual.comment)


# --------------------------------------------------------------------------------------------------
# Manual scores
# --------------------------------------------------------------------------------------------------


def _number(text: str, decimal_comma: bool) -> float:
    value = float(text.replace(",", ".") if decimal_comma else text)
    if not math.isfinite(value):
        raise ValueError
    return value


def load_manual_scores(path: Path | str) -> dict[str, ManualScore]:
    """Instructor's quality scores from a CSV: ``student,quality[,max][,comment]``.

    - With a ``max`` column, ``quality`` is out of that row's ``max`` (e.g. 17 out of 20).
    - Without it, ``quality`` must be a fraction in [0, 1].
    - A blank ``quality`` means "not graded yet": the row is skipped and the estimate stays.
    - ``;``-separated files with decimal commas (European spreadsheets) are accepted.
    Anything else wrong (missing column, empty or duplicate student, non-numeric, negative, above
    max) raises ValueError naming the file, the line and the problem.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")  # spreadsheets often add a BOM
    first = text.splitlines()[0] if text.strip() else ""
    semicolon = ";" in first and "," not in first
    reader = csv.DictReader(io.StringIO(text), delimiter=";" if semicolon else ",")

    def fail(problem: str) -> ValueError:
        return ValueError(f"{path}: line {reader.line_num}: {problem}")

    columns = {(name or "").strip().lower(): name for name in (reader.fieldnames or [])}
    missing = [c for c in ("student", "quality") if c not in columns]
    if missing:
        raise ValueError(f"{path}: line 1: missing column(s) {', '.join(missing)}; "
                         f"expected student,quality[,max][,comment], found {list(columns) or 'nothing'}")
    has_max = "max" in columns
    scores: dict[str, ManualScore] = {}
    for row in reader:
        def cell(name: str, row: dict = row) -> str:
            return (row.get(columns[name]) or "").strip() if name in columns else ""

        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # blank line
        student, quality = cell("student"), cell("quality")
        if not student:
            raise fail("empty student name")
        if student in scores:
            raise fail(f"student {student!r} appears twice (first at {scores[student].source})")
        if not quality:
            continue
        try:
            value = _number(quality, semicolon)
        except ValueError:
            raise fail(f"quality {quality!r} of {student!r} is not a number") from None
        maximum = 1.0
        if has_max:
            try:
                maximum = _number(cell("max"), semicolon)
            except ValueError:
                raise fail(f"max {cell('max')!r} of {student!r} is not a number") from None
            if maximum <= 0:
                raise fail(f"max {cell('max')!r} of {student!r} must be positive")
        if value < 0:
            raise fail(f"quality {quality!r} of {student!r} is negative")
        if value > maximum:
            hint = "" if has_max else "; without a 'max' column scores must be fractions in [0, 1]"
            raise fail(f"quality {quality!r} of {student!r} is above the maximum {maximum:g}{hint}")
        scores[student] = ManualScore(student, value, maximum, cell("comment"), f"{path.name}:{reader.line_num}")
    return scores


def load_nbgrader_manual_scores(gradebook_db_url: str, assignment: str, *,
                                course_id: str = "default_course") -> dict[str, ManualScore]:
    """Manual grades from nbgrader's gradebook: per student, manually graded points / their maximum.

    Manually graded cells are markdown answers, task cells and code answers nbgrader could not score
    (``auto_score is None``), plus any cell the instructor overrode. A submission whose manual cells
    are not all graded yet is left out, so its rubric estimate stays.
    """
    from nbgrader.api import Gradebook, MissingEntry

    if gradebook_db_url.startswith("sqlite:///"):
        db = Path(gradebook_db_url.removeprefix("sqlite:///"))
        if not db.exists():  # Gradebook would silently create an empty database
            raise FileNotFoundError(f"nbgrader gradebook not found: {db}")
    scores: dict[str, ManualScore] = {}
    with Gradebook(gradebook_db_url, course_id=course_id) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            raise ValueError(f"{gradebook_db_url}: no assignment named {assignment!r}") from None
        for submission in gradebook.assignment_submissions(assignment):
            grades = [g for notebook in submission.notebooks for g in notebook.grades
                      if g.cell_type == "markdown" or g.auto_score is None or g.manual_score is not None]
            if not grades or any(g.auto_score is None and g.manual_score is None for g in grades):
                continue
            total = sum(g.max_score or 0.0 for g in grades)
            if total <= 0:
                continue
            score = min(total, sum(g.score or 0.0 for g in grades))  # extra credit cannot pass 100 %
            scores[submission.student_id] = ManualScore(submission.student_id, score, total,
                                                        source=f"nbgrader:{assignment}")
    return scores
