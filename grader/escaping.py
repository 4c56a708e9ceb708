"""Student text (names, messages, rubric evidence) made safe for each report format.

Names, messages and rubric evidence come from students (a folder named ``=HYPERLINK(...)``, an
exception message with ``<script>``): every text cell of the CSV that a spreadsheet would read as a
formula gets a leading ``'`` (OWASP's CSV-injection advice), every string in HTML is escaped, and the
Markdown feedback shows them as text, never as HTML or Markdown.
"""

from __future__ import annotations

import html
import re

# A cell starting with one of these is a formula to Excel, LibreOffice or Google Sheets (OWASP);
# the full-width forms too in some locales. Leading blanks are skipped by some importers.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_text(value: str) -> str:
    """A text cell no spreadsheet evaluates: a leading ' when it could start a formula."""
    if value.startswith(FORMULA_START) or value.lstrip().startswith(FORMULA_START):
        return "'" + value
    return value


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")
_MD_LINE_START = re.compile(r"^(\d+)([.)])")


def md_text(value: object) -> str:
    """Student text inside one line of Markdown (a heading, a table cell, a list item): shown as
    typed, never as HTML, a link, an image, emphasis or a table column."""
    text = " ".join(str(value).split())
    text = html.escape(text, quote=False)  # < > & as entities: no raw HTML, no autolinks
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_lines(value: object) -> str:
    """Student text of several lines (an error message) as one Markdown paragraph, line breaks
    kept: no line can start a heading, list, quote, code block or table of its own."""
    lines = []
    for line in str(value).splitlines():
        line = md_text(line)
        if line and line[0] in "#>+-=~":
            line = "\\" + line
        lines.append(_MD_LINE_START.sub(r"\1\\\2", line))
    return "  \n".join(lines)


def esc(value: object) -> str:
    """Any value inside HTML text or a quoted attribute."""
    return html.escape(str(value), quote=True)
