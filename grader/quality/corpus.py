"""What the student did not write: the exam template, the course's lectures, the exam's own text.

The 20 % for descriptive quality must not be won by copying. A sentence (or a comment line) earns
nothing when it is

- a copy of a sentence of the reference corpus: the exam template (``template=``) and the texts
  passed as ``references=`` (``reference_texts(exam)``: the markdown and comments of the course's
  lecture notebooks, the exam's task statement and the exam folder's README.md), compared after
  normalisation (lower case, words only; a reference sentence needs three words to be matched);
- mostly made of longer copied phrases: at least ``COPIED_SHARE`` of its words lie in a run of
  ``SHINGLE`` consecutive words that also occurs in the corpus (or in the few words around such
  runs that an edit broke: see ``_spread``), so that a lecture paragraph with a word changed here
  and there, or re-wrapped, still earns nothing;
- a repeat, exact or mostly the same ``SHINGLE``-word runs, of something earlier in the notebook.

Runs of words are compared across sentence boundaries, so that a copied paragraph is caught even
where its sentences are short.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from .text import norm, sentences, split_code, split_markdown, text_of

if TYPE_CHECKING:
    from grader.exam import Exam

SHINGLE = 8  # words per compared run: long enough to be a copy, not a common phrase
COPIED_SHARE = 0.5  # a sentence with at least this share of its words in copied runs is a copy
EDIT_GAP = 3  # words between two copied stretches that are counted as copied too (the edits)
LONG_COPY = 2 * SHINGLE  # a copied stretch this long also takes the SHINGLE - 1 words on either side
MAX_REFERENCE_BYTES = 2 * 2**20  # per reference file read (a lecture notebook is ~25 kB)
MAX_TEMPLATE_CELL_CHARS = 200_000


@dataclass(frozen=True)
class Corpus:
    units: frozenset[str]  # normalised sentences and comment lines
    runs: frozenset[int]  # hashes of every SHINGLE-word run

    def __or__(self, other: Corpus) -> Corpus:
        return Corpus(self.units | other.units, self.runs | other.runs)


EMPTY = Corpus(frozenset(), frozenset())


def _runs(word_list: Sequence[str]) -> Iterable[int]:
    return (hash(tuple(word_list[i: i + SHINGLE])) for i in range(len(word_list) - SHINGLE + 1))


def _corpus(blocks: Iterable[list[str]], min_words: int = 1) -> Corpus:
    """A corpus from blocks of units (sentences, comment lines); runs span the units of a block.

    Units shorter than ``min_words`` are not matched on their own ("Results.", "Setup").
    """
    units: set[str] = set()
    runs: set[int] = set()
    for block in blocks:
        normalised = [norm(unit) for unit in block]
        units.update(n for n in normalised if n.count(" ") + 1 >= min_words)
        runs.update(_runs(" ".join(normalised).split()))
    return Corpus(frozenset(units), frozenset(runs))


def _markdown_units(text: str) -> list[str]:
    return sentences(split_markdown(text)[1])


@functools.lru_cache(maxsize=4)
def corpus_of_texts(texts: tuple[str, ...]) -> Corpus:
    """The corpus of reference texts, each read as markdown (cached: the same for every student).

    Every sentence of the template is the template's; a reference's sentence must have at least
    three words to be matched on its own: a student may well write "Conclusion." too. Each text is
    read twice, as rendered prose and as raw lines (math, link targets and headings kept), so that a
    copy pasted into code comments, where nothing is stripped, matches too.
    """
    blocks = ([_markdown_units(text), text.splitlines()] for text in texts)
    return _corpus((block for pair in blocks for block in pair), min_words=3)


def corpus_of_notebook(notebook: Any) -> Corpus:
    """The corpus of a notebook's markdown sentences and code comments (the exam template)."""
    blocks: list[list[str]] = []
    for cell in (notebook.get("cells") if isinstance(notebook, dict) else None) or []:
        if not isinstance(cell, dict):
            continue
        source, _ = text_of(cell.get("source"), MAX_TEMPLATE_CELL_CHARS)
        if cell.get("cell_type") == "markdown":
            blocks += [_markdown_units(source), source.splitlines()]
        elif cell.get("cell_type") == "code":
            blocks.append([c.text for c in split_code(source).comments])
    return _corpus(blocks)


@functools.lru_cache(maxsize=8)
def _template_file(path: str, mtime: float) -> Corpus:
    return corpus_of_notebook(nbformat.read(path, as_version=4))


def template_corpus(template: Any) -> Corpus:
    """The exam template's corpus: a notebook, or the path of its .ipynb (read once per file)."""
    if template is None:
        return EMPTY
    if isinstance(template, (str, Path)):
        path = Path(template)
        return _template_file(str(path), path.stat().st_mtime)
    return corpus_of_notebook(template)


# --------------------------------------------------------------------------------------------------
# The reference texts of an exam
# --------------------------------------------------------------------------------------------------

_CELL_MARKER = re.compile(r"^# %%(.*)$")


def percent_text(source: str) -> str:
    """The prose of a jupytext py:percent notebook: its markdown cells, then its code comments."""
    markdown: list[str] = []
    code: list[str] = []
    kind, lines = None, []  # None: the header before the first "# %%" (jupytext metadata)

    def flush() -> None:
        if kind == "markdown":
            # "# text" -> "text"; a bare "#" is an empty line
            markdown.append("\n".join(line[2:] if line.startswith("# ") else line.lstrip("#")
                                      for line in lines))
        elif kind == "code":
            code.append("\n".join(c.text for c in split_code("\n".join(lines)).comments))

    for line in source.splitlines():
        marker = _CELL_MARKER.match(line)
        if marker:
            flush()
            kind, lines = ("markdown" if "[markdown]" in marker.group(1) else "code"), []
        else:
            lines.append(line)
    flush()
    return "\n\n".join(markdown + code)


def _read_text(path: Path) -> str | None:
    from grader.safe_files import read_limited

    try:
        return read_limited(path, MAX_REFERENCE_BYTES).decode("utf-8", "replace")
    except OSError:  # UnsafeFile (a symlink, too large, missing) or unreadable: not a reference
        return None


def course_notebooks_folder() -> Path:
    """``notebooks/`` of the course kit this grader belongs to (absent in an installed grader)."""
    import grader

    return Path(grader.__file__).resolve().parent.parent / "notebooks"


@functools.lru_cache(maxsize=2)
def _course_texts(folder: str, stamp: tuple[tuple[str, int, int], ...]) -> tuple[str, ...]:
    texts = (_read_text(Path(folder) / name) for name, _, _ in stamp)
    return tuple(percent_text(text) for text in texts if text)


def course_texts(folder: Path | None = None) -> tuple[str, ...]:
    """The prose of the lecture notebooks ``NN_*.py`` (cached until one of them changes)."""
    folder = course_notebooks_folder() if folder is None else folder
    try:
        files = sorted(p for p in folder.glob("[0-9][0-9]_*.py") if p.is_file() and not p.is_symlink())
        stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    except OSError:
        return ()
    return _course_texts(str(folder), stamp)


def reference_texts(exam: Exam) -> tuple[str, ...]:
    """Texts whose sentences earn no quality points: the course's lecture notebooks (markdown and
    comments of ``notebooks/NN_*.py`` next to the grader, when that folder exists), the exam's task
    statement and the exam folder's README.md. Pass them as ``assess_quality(..., references=...)``."""
    texts = list(course_texts())
    if exam.task:
        texts.append(exam.task)
    readme = _read_text(Path(exam.folder) / "README.md")
    if readme:
        texts.append(readme)
    return tuple(texts)


# --------------------------------------------------------------------------------------------------
# The filter
# --------------------------------------------------------------------------------------------------


def _spread(marks: bytearray) -> bytearray:
    """Copied words, completed: an edit rarely leaves SHINGLE words untouched on both of its sides.

    The words of a gap of at most EDIT_GAP words between two copied stretches are copied too ("a
    really small" for "a very small"), and so are the SHINGLE - 1 words before and after a copied
    stretch of LONG_COPY words or more (the run cut short by the first or the last edit). A single
    quoted phrase (one stretch of SHINGLE words) does not spread, and the caller counts the spread
    words only in sentences that hold copied words themselves.
    """
    stretches: list[list[int]] = []  # [start, end) of the copied stretches, gaps of EDIT_GAP merged
    for i, mark in enumerate(marks):
        if not mark:
            continue
        if stretches and i - stretches[-1][1] <= EDIT_GAP:
            stretches[-1][1] = i + 1
        else:
            stretches.append([i, i + 1])
    spread = bytearray(len(marks))
    for start, end in stretches:
        if end - start >= LONG_COPY:
            start, end = max(0, start - SHINGLE + 1), min(len(marks), end + SHINGLE - 1)
        spread[start:end] = b"\1" * (end - start)
    return spread


class Originality:
    """Keeps what the student wrote, unit by unit (sentences of a cell, or comment lines), in order.

    ``keep(units)`` is called once per cell; it remembers what it kept, so that a repeat later in
    the notebook is dropped. ``copied`` counts the words dropped as copies, for the evidence.
    """

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.seen_units: set[str] = set()
        self.first_run: dict[int, int] = {}  # run hash -> word position where it first occurred
        self.position = 0  # word position of the next cell's first word, over the whole notebook
        self.copied = 0

    def keep(self, units: Sequence[str]) -> list[bool]:
        normalised = [norm(unit) for unit in units]
        stream: list[str] = []
        spans: list[tuple[int, int]] = []
        for unit in normalised:
            unit_words = unit.split()
            spans.append((len(stream), len(stream) + len(unit_words)))
            stream += unit_words
        from_corpus = bytearray(len(stream))
        from_notebook = bytearray(len(stream))
        for i, run in enumerate(_runs(stream)):
            here = self.position + i
            first = self.first_run.setdefault(run, here)
            if run in self.corpus.runs:
                from_corpus[i: i + SHINGLE] = b"\1" * SHINGLE
            elif first <= here - SHINGLE:  # seen earlier, and not just the previous overlapping run
                from_notebook[i: i + SHINGLE] = b"\1" * SHINGLE
        self.position += len(stream) + SHINGLE  # runs never span two cells
        from_either = bytearray(map(operator.or_, from_corpus, from_notebook))
        spread_corpus, spread_either = _spread(from_corpus), _spread(from_either)

        def share(direct: bytearray, spread: bytearray, start: int, end: int) -> int:
            # the words around a copy are counted only in a sentence that holds copied words itself
            return sum(spread[start:end]) if any(direct[start:end]) else 0

        kept = []
        for unit, (start, end) in zip(normalised, spans):
            size = end - start
            copied = unit in self.corpus.units or share(from_corpus, spread_corpus, start, end) >= COPIED_SHARE * size
            repeated = unit in self.seen_units or share(from_either, spread_either, start, end) >= COPIED_SHARE * size
            keep = bool(unit) and not copied and not repeated
            if keep:
                self.seen_units.add(unit)
            elif copied:
                self.copied += size
            kept.append(keep)
        return kept
