"""A simple view of a handed-in notebook: what each cell says, shows and ran, within bounds.

Prose is the student's own text: markdown sentences and explanations written as code comments
(a block of consecutive whole-line comments, or a docstring, of at least ``MIN_BLOCK_WORDS`` words),
minus what the ``Originality`` filter drops (copies of the template or the reference corpus,
repeats). Outputs are the ones stored in the notebook: the student's own run, not the grader's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .corpus import Originality
from .figures import FigureCheck
from .text import (
    MAX_CELL_CHARS,
    MAX_CELLS,
    MAX_CODE_TOKENS,
    MAX_OUTPUT_CHARS,
    MAX_OUTPUTS,
    MAX_TOTAL_CHARS,
    MAX_TOTAL_OUTPUT_CHARS,
    MIN_BLOCK_WORDS,
    CodeText,
    sentences,
    split_code,
    split_markdown,
    text_of,
    words,
)
from .vocabulary import ALL_KEYWORDS_RE, HEADING_RE

MIN_CELL_WORDS = 8  # below this a markdown cell is too short to judge as stuffed or not
STUFFED_DENSITY = 0.5  # more than half of the words are rubric keywords
STUFFED_DISTINCT = 0.35  # fewer than 35 % distinct words in a cell of >= 20 words


@dataclass
class Cell:
    index: int
    kind: str  # "markdown" or "code" (raw and unknown cells are dropped)
    headings: list[tuple[int, str]] = field(default_factory=list)
    prose: str = ""  # the student's own explanation (markdown text, or comment blocks of a code cell)
    words: int = 0
    stuffed: bool = False  # markdown: ignored, mostly keywords or repeated words
    ignored_blocks: int = 0  # code: comment blocks ignored for the same reason
    copied: int = 0  # words dropped: copies of the template or the reference corpus
    code: str = ""  # code: source without comments
    code_lines: int = 0
    comments: list[str] = field(default_factory=list)  # meaningful comment and docstring lines
    images: int = 0  # figures (see figures.py) in the stored outputs
    outputs: bool = False  # the cell has stored outputs of any kind
    output_text: str = ""
    execution_count: int | None = None
    topic: str | None = None  # rubric key of the section the cell is in
    topic_heading: str = ""  # the heading of this cell that opened that section, if any


@dataclass
class Notebook:
    cells: list[Cell]
    executed: bool  # some code cell has stored outputs or an execution count
    limits: str = ""  # what was not read, when the notebook is beyond the bounds
    rejected_images: int = 0  # image outputs that are not figures (figures.py)

    def markdown(self) -> list[Cell]:
        return [c for c in self.cells if c.kind == "markdown"]

    def code_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.kind == "code"]

    def section(self, key: str) -> list[Cell]:
        return [c for c in self.cells if c.topic == key]

    def heading(self, key: str) -> str | None:
        return next((c.topic_heading for c in self.section(key) if c.topic_heading), None)

    def prose_cells(self, key: str, pattern: re.Pattern[str]) -> list[Cell]:
        """Prose about an item: its section if it has prose, else any paragraph matching ``pattern``."""
        section = self.section(key)
        if section:
            return [c for c in section if c.prose and not c.stuffed]
        return [c for c in self.cells if c.prose and not c.stuffed and pattern.search(c.prose)]


def _get(obj: Any, key: str, default: Any = None) -> Any:
    try:
        return obj.get(key, default)
    except AttributeError:
        return default


def is_stuffed(word_list: list[str], prose: str) -> bool:
    if len(word_list) < MIN_CELL_WORDS:
        return False
    keyword_words = sum(len(words(m)) for m in ALL_KEYWORDS_RE.findall(prose))
    if keyword_words / len(word_list) > STUFFED_DENSITY:
        return True
    distinct = len({w.lower() for w in word_list})
    return len(word_list) >= 20 and distinct / len(word_list) < STUFFED_DISTINCT


def _markdown_cell(index: int, source: str, originality: Originality) -> Cell:
    headings, prose = split_markdown(source)
    units = sentences(prose)
    kept = [s for s, keep in zip(units, originality.keep(units)) if keep]  # a copy or a repeat counts never
    prose = "\n".join(kept)
    word_list = words(prose)
    return Cell(index, "markdown", headings=headings, prose=prose, words=len(word_list),
                stuffed=is_stuffed(word_list, prose))


def _comment_prose(parts: CodeText, kept: list[bool]) -> tuple[str, int]:
    """(prose, ignored blocks): comment blocks of MIN_BLOCK_WORDS words or more, one paragraph each."""
    blocks: dict[int, list[str]] = {}
    for line, keep in zip(parts.comments, kept):
        if keep and line.prose:
            blocks.setdefault(line.block, []).append(line.text)
    paragraphs, ignored = [], 0
    for lines in blocks.values():
        paragraph = " ".join(lines)
        word_list = words(paragraph)
        if len(word_list) < MIN_BLOCK_WORDS:
            continue
        if is_stuffed(word_list, paragraph):
            ignored += 1
        else:
            paragraphs.append(paragraph)
    return "\n".join(paragraphs), ignored


class _Budget:
    """What is left to read of one notebook (see the bounds in text.py)."""

    def __init__(self) -> None:
        self.chars = MAX_TOTAL_CHARS
        self.tokens = MAX_CODE_TOKENS
        self.output_chars = MAX_TOTAL_OUTPUT_CHARS
        self.outputs = MAX_OUTPUTS
        self.cut = 0  # cells read in part or not at all


def _outputs(raw: Any, figures: FigureCheck, budget: _Budget) -> tuple[int, bool, str]:
    images, texts, size = 0, [], 0
    outputs = _get(raw, "outputs") or []
    if not isinstance(outputs, list):
        return 0, False, ""
    for output in outputs[: max(0, budget.outputs)]:
        data = _get(output, "data") or {}
        images += figures.count(data)
        limit = min(MAX_OUTPUT_CHARS - size, budget.output_chars)
        if limit > 0:
            text = text_of(_get(output, "text"), limit)[0] or text_of(_get(data, "text/plain"), limit)[0]
            texts.append(text)
            size += len(text)
            budget.output_chars -= len(text)
    budget.outputs -= len(outputs)
    return images, bool(outputs), "".join(texts)


def _code_cell(index: int, raw: Any, source: str, originality: Originality, figures: FigureCheck,
               budget: _Budget) -> Cell:
    parts = split_code(source, max(0, budget.tokens))
    budget.tokens -= parts.tokens
    budget.cut += parts.truncated
    kept = originality.keep([line.text for line in parts.comments])
    prose, ignored = _comment_prose(parts, kept)
    images, outputs, output_text = _outputs(raw, figures, budget)
    count = _get(raw, "execution_count")
    return Cell(index, "code", prose=prose, words=len(words(prose)), ignored_blocks=ignored,
                code=parts.code, code_lines=parts.code_lines,
                comments=[line.text for line, keep in zip(parts.comments, kept) if keep and line.meaningful],
                images=images, outputs=outputs, output_text=output_text,
                execution_count=count if isinstance(count, int) and not isinstance(count, bool) else None)


def read_notebook(notebook: Any, originality: Originality) -> Notebook:
    raw_cells = _get(notebook, "cells") or []
    if not isinstance(raw_cells, list):
        raw_cells = []
    figures = FigureCheck()
    budget = _Budget()
    cells: list[Cell] = []
    for index, raw in enumerate(raw_cells[:MAX_CELLS]):
        kind = _get(raw, "cell_type")
        if kind not in ("markdown", "code"):
            continue
        if budget.chars <= 0:
            budget.cut += 1
            continue
        tags = _get(_get(raw, "metadata") or {}, "tags") or []
        if kind == "code" and isinstance(tags, list) and "injected-parameters" in tags:
            continue  # papermill's cell is not the student's
        source, truncated = text_of(_get(raw, "source"), min(MAX_CELL_CHARS, budget.chars))
        budget.chars -= len(source)
        budget.cut += truncated
        copied = originality.copied
        if kind == "markdown":
            cells.append(_markdown_cell(index, source, originality))
        else:
            cells.append(_code_cell(index, raw, source, originality, figures, budget))
        cells[-1].copied = originality.copied - copied
    _assign_topics(cells)
    executed = any(c.execution_count is not None or c.outputs for c in cells)
    limits = []
    if len(raw_cells) > MAX_CELLS:
        limits.append(f"only the first {MAX_CELLS:,} of {len(raw_cells):,} cells were read")
    if budget.cut:
        limits.append(f"{budget.cut} cell(s) read in part or not at all (at most {MAX_CELL_CHARS:,} characters "
                      f"a cell, {MAX_TOTAL_CHARS:,} in all)")
    if budget.outputs < 0 or budget.output_chars <= 0:
        limits.append("outputs read in part")
    return Notebook(cells, executed, "; ".join(limits), figures.rejected)


def _heading_topic(title: str) -> str | None:
    for key, pattern in HEADING_RE.items():  # dict order is the priority order
        if pattern.search(title):
            return key
    return None


def _assign_topics(cells: list[Cell]) -> None:
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
