"""Hostile text, read in linear time: markdown -> (headings, prose), code -> (code, comments), words.

Every byte a student hands in is hostile, and a regular expression that backtracks can be made to
run for minutes on a few hundred kilobytes (``"<h1" * 200_000`` took 35 s to 5 minutes with the
old heading pattern ``<h([1-6])[^>]*>(.*?)</h\\1>``: every ``<h1`` rescanned the rest of the text for a
closing tag). So here:

- delimited spans (HTML headings, tags, links, images) never let a scan started at one opening
  delimiter run past the next opening delimiter (``[^<>]*+``), or remember how far a search for a
  closing tag has already looked (``_Finder``), so each character is scanned a bounded number of times;
- line patterns (ATX / setext headings) are plain string operations;
- in code, comments and strings are found by one regular-expression scan in which every token,
  once started, matches (the tokenize module is pure Python and slow on megabytes);
- what is read at all is capped (``MAX_CELLS`` cells, ``MAX_CELL_CHARS`` characters per cell,
  ``MAX_TOTAL_CHARS`` in all, and the bounds below); the evidence says when a notebook was read in
  part. tests/adversarial/test_quality_bombs.py times all of this on 2-10 MB bombs.
"""

from __future__ import annotations

import ast
import re
import string
from dataclasses import dataclass
from typing import Any

# What is read of a notebook. A long honest exam notebook has ~50 cells, ~50 kB of sources, a few
# thousand strings and comments; these bounds are ten times that or more, and keep the worst case
# to about a second of work.
MAX_CELLS = 2_000  # cells read
MAX_CELL_CHARS = 200_000  # characters read per cell source
MAX_TOTAL_CHARS = 500_000  # characters of source read in all
MAX_CODE_TOKENS = 50_000  # strings and comments scanned in all (each costs a little Python)
MAX_OUTPUT_CHARS = 20_000  # output text kept per cell: enough to see an epoch log
MAX_TOTAL_OUTPUT_CHARS = 500_000  # output text kept in all
MAX_OUTPUTS = 20_000  # outputs looked at in all
MAX_COMMENT_CHARS = 2_000  # a longer comment line is neither prose nor code: it is ignored
MIN_BLOCK_WORDS = 10  # a block of comment lines (or a docstring) this long counts as prose

WORD_RE = re.compile(r"[^\W\d_]++(?:['’-][^\W\d_]++)*+")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?;:])\s++|\n++")


def words(text: str) -> list[str]:
    return WORD_RE.findall(text)


def sentences(text: str) -> list[str]:
    """Sentences, or lines: a break after . ! ? ; : or at any newline."""
    return [s.strip() for s in _SENTENCE_BREAK.split(text) if s.strip()]


def norm(text: str) -> str:
    """Lower-case words joined by single spaces: what two copies of a sentence have in common."""
    return " ".join(words(text.lower()))


def text_of(value: Any, limit: int) -> tuple[str, bool]:
    """(text, truncated): a cell source or output text, a str or a list of str in raw JSON, cut at
    ``limit`` characters without joining more than that. Anything else is empty."""
    if value is None:
        return "", False
    if isinstance(value, str):
        return value[:limit], len(value) > limit
    if isinstance(value, (list, tuple)):
        parts, size = [], 0
        for part in value:
            if not isinstance(part, str):
                part = str(part) if isinstance(part, (int, float)) else ""
            if size + len(part) > limit:
                parts.append(part[: limit - size])
                return "".join(parts), True
            parts.append(part)
            size += len(part)
        return "".join(parts), False
    if isinstance(value, (int, float)):
        return str(value)[:limit], False
    return "", False


# --------------------------------------------------------------------------------------------------
# Markdown -> (headings, prose)
# --------------------------------------------------------------------------------------------------

# Fences and math are linear as they are: an opening ``` or ~~~ always matches (up to its closing
# fence or the end), and "$$" can only fail to close for the last two "$$" of the text.
_FENCE = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)", re.DOTALL)
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]++\$", re.DOTALL)
# A scan started at "[" stops at the next "[" (and in the target at the next "("): each character is
# scanned once. "[a [b]](url)" keeps "a " as text: a nested link is rare in a notebook.
_IMAGE = re.compile(r"!\[[^\[\]]*+\]\([^()]*+\)")
_LINK = re.compile(r"\[([^\[\]]*+)\]\([^()]*+\)")
_TAG = re.compile(r"<[^<>]++>")
_HTML_OPEN = re.compile(r"<[hH]([1-6])")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)  # keeps every index


class _Finder:
    """``str.find`` that remembers its last answer per needle.

    Searches move forward through the text, so a search that found nothing (or found a hit beyond
    the new start) is not repeated: each needle scans the text about once, however many openings
    ask for it.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.last: dict[str, tuple[int, int]] = {}

    def find(self, needle: str, start: int) -> int:
        hit = self.last.get(needle)
        if hit is not None:
            searched_from, found = hit
            if start >= searched_from and (found == -1 or start <= found):
                return found
        found = self.text.find(needle, start)
        self.last[needle] = (start, found)
        return found


def _html_headings(source: str) -> tuple[list[tuple[int, str]], str]:
    """``<h2 ...>Title</h2>`` -> (2, "Title"), and the text with each heading replaced by a newline."""
    finder = _Finder(source.translate(_ASCII_LOWER))
    headings: list[tuple[int, str]] = []
    pieces: list[str] = []
    pos = 0
    for opening in _HTML_OPEN.finditer(source):
        start = opening.start()
        if start < pos:  # inside the heading just taken
            continue
        end_of_tag = finder.find(">", opening.end())
        if end_of_tag < 0:
            break  # no ">" left: no later opening can close either
        level = opening.group(1)
        closing = finder.find(f"</h{level}>", end_of_tag + 1)
        if closing < 0:
            continue
        headings.append((int(level), _TAG.sub("", source[end_of_tag + 1: closing]).strip()))
        pieces += [source[pos:start], "\n"]
        pos = closing + 5
    pieces.append(source[pos:])
    return headings, "".join(pieces)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _atx(line: str) -> tuple[int, str] | None:
    """``## Title ##`` -> (2, "Title"); ``###`` alone -> (3, ""); not a heading -> None.

    As before the rewrite: up to 3 spaces of indent, 1 to 6 "#" (more are part of the title), no
    space needed after them, closing "#"s dropped.
    """
    stripped = line.lstrip()
    if not stripped.startswith("#") or _indent(line) > 3:
        return None
    hashes = min(6, len(stripped) - len(stripped.lstrip("#")))
    title = stripped[hashes:].strip().rstrip("#").rstrip()
    return hashes, title


def _setext(line: str) -> int | None:
    """``=====`` -> 1, ``-----`` -> 2 (the line above is a heading), else None."""
    stripped = line.strip()
    if not stripped or _indent(line) > 3 or stripped.strip(stripped[0]) or stripped[0] not in "=-":
        return None
    return 1 if stripped[0] == "=" else 2


def split_markdown(source: str) -> tuple[list[tuple[int, str]], str]:
    """(headings as (level, title), prose): prose is the text without headings, code blocks, HTML,
    link targets, images and math."""
    headings, text = _html_headings(source)
    text = _FENCE.sub("\n", text)
    text = _MATH.sub(" ", text)
    text = _IMAGE.sub(" ", text)
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    prose_lines: list[str] = []
    for line in text.splitlines():
        atx = _atx(line)
        setext = _setext(line) if atx is None else None
        if atx is not None:
            if atx[1]:
                headings.append(atx)
        elif setext is not None and prose_lines and prose_lines[-1].strip():
            # "Title\n=====" : the previous line was a heading, not prose
            headings.append((setext, prose_lines.pop().strip()))
        else:
            prose_lines.append(line)
    return headings, "\n".join(prose_lines)


# --------------------------------------------------------------------------------------------------
# Code -> (code without comments, number of code lines, comment lines)
# --------------------------------------------------------------------------------------------------

_TRIVIAL_COMMENT = re.compile(
    r"^(!|-\*-|%%|in\s*+\[|noqa|type:|pragma|fmt:|your code here|todo\b|parameters$|"
    r"injected parameters|imports?$|coding[:=])", re.IGNORECASE)
_CODE_CHARS = re.compile(r"[=(\[.]")


def looks_like_code(text: str) -> bool:
    """"x = f(y)" or "model.fit(x)" kept as a comment is code, not prose."""
    if not _CODE_CHARS.search(text):
        return False
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _prose_comment(text: str) -> bool:
    """A comment line that can be part of an explanation: words, not a marker, not code.

    With 3 words or more it is also a "meaningful" comment for the comments item."""
    return (bool(text) and len(text) <= MAX_COMMENT_CHARS and not _TRIVIAL_COMMENT.match(text)
            and bool(WORD_RE.search(text)) and not looks_like_code(text))


@dataclass
class CommentLine:
    text: str  # without "#" and surrounding spaces
    block: int  # consecutive whole-line comments, or the lines of one docstring, share a block
    meaningful: bool  # counts for the "comments" item
    prose: bool  # can be part of an explanation (a block of them is prose for its section)


@dataclass
class CodeText:
    code: str  # the source without comments and docstrings
    code_lines: int
    comments: list[CommentLine]
    tokens: int = 0  # strings and comments scanned
    truncated: bool = False  # stopped at max_tokens: the rest counts as code without comments


def _comment_lines(raw: list[tuple[int, str, bool]]) -> list[CommentLine]:
    """(row, text, whole line) in order -> CommentLines with blocks; docstrings come as negative rows."""
    out: list[CommentLine] = []
    block, previous_row = 0, None
    for row, text, whole_line in raw:
        text = text.strip().lstrip("#").strip()
        if not whole_line or previous_row is None or row != previous_row + 1:
            block += 1
        previous_row = row if whole_line else None
        if text:
            prose = _prose_comment(text)
            out.append(CommentLine(text, block, prose and len(words(text)) >= 3, prose))
    return out


# Comments and strings, found by one linear scan (the tokenize module is pure Python in 3.11, slow on
# megabytes of hostile code, and gives up on a whole cell at the first unbalanced bracket). Every
# alternative, once started, matches: an unterminated string runs to the end of its line (or,
# triple-quoted, of the text), so nothing is ever rescanned.
_CODE_TOKEN = re.compile(r"""
    (?P<comment>\#[^\n]*+)
  | (?P<string>[rRbBuUfF]{0,2}(?:
        \"\"\"(?:[^"\\]++|\\.|"(?!""))*+(?:\"\"\"|\\?\Z)
      | '''(?:[^'\\]++|\\.|'(?!''))*+(?:'''|\\?\Z)
      | "(?:[^"\\\n]++|\\.)*+(?:"|(?=\n)|\\?\Z)
      | '(?:[^'\\\n]++|\\.)*+(?:'|(?=\n)|\\?\Z)
    ))
""", re.VERBOSE | re.DOTALL)
_TRIPLE = ('"""', "'''")


def split_code(source: str, max_tokens: int = MAX_CODE_TOKENS) -> CodeText:
    """Code without comments and docstrings, its number of lines, and the comment lines.

    A docstring is a triple-quoted string that starts a statement (first on its line, outside
    brackets, not after a line continuation); its lines count as comments, not as code. At most
    ``max_tokens`` strings and comments are looked at.
    """
    # IPython magics and shell lines are not Python: blank them.
    lines = [("" if line.lstrip().startswith(("%", "!")) else line) for line in source.splitlines()]
    text = "\n".join(lines)
    raw: list[tuple[int, str, bool]] = []  # (row, text, whole line)
    comment_rows: set[int] = set()
    docstring_rows: set[int] = set()
    row, line_start, last_end, depth = 1, 0, 0, 0
    tokens, truncated = 0, False
    for token in _CODE_TOKEN.finditer(text):
        if tokens >= max_tokens:
            truncated = True
            break
        tokens += 1
        start, body = token.start(), token.group()
        between = text[last_end:start]  # code between the previous token and this one
        depth = max(0, depth + sum(map(between.count, "([{")) - sum(map(between.count, ")]}")))
        newline = between.rfind("\n")
        if newline >= 0:
            row += between.count("\n")
            line_start = last_end + newline + 1
        first_on_line = line_start >= last_end and not text[line_start:start].strip()
        if token.group("comment") is not None:
            raw.append((row, body, first_on_line))
            if first_on_line:
                comment_rows.add(row)
        else:
            continued = line_start >= 2 and text[line_start - 2] == "\\"
            unprefixed = body.lstrip("rRbBuUfF")
            quote = unprefixed[:3]
            if quote in _TRIPLE and first_on_line and depth == 0 and not continued:
                content = unprefixed[3:].removesuffix(quote)  # a docstring / prose block
                raw += [(row + i, line, True) for i, line in enumerate(content.split("\n")) if line.strip()]
                raw.append((-1, "", False))  # ends the docstring's block
                docstring_rows.update(range(row, row + body.count("\n") + 1))
            inside = body.count("\n")
            if inside:
                row += inside
                line_start = start + body.rfind("\n") + 1
        last_end = token.end()
    code_rows = [line for i, line in enumerate(lines, start=1)
                 if line.strip() and i not in comment_rows and i not in docstring_rows]
    return CodeText("\n".join(code_rows), len(code_rows), _comment_lines(raw), tokens, truncated)
