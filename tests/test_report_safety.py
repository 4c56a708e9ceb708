"""Reports built from hostile names and messages: no spreadsheet formula, no HTML, no Markdown tricks."""

import csv
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from grader.exam import load_exam
from grader.report import csv_text, md_lines, md_text, write_reports
from grader.results import Record
from tests.exam_factory import make_exam

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"

HOSTILE_NAMES = ["=SUM(2+5)", "+cmd|' /C calc'!A0", "-2+3", "@A1", "\t=1+1", "\r=1+1", " =HYPERLINK(\"http://x\")",
                 XSS, "\"><script>alert(3)</script>", "Eve'><svg onload=alert(4)>", "a;=1+1,=2+2",
                 "[click](javascript:alert(5)) ![](http://track/x.png) | x | y", "＝1+1"]


@pytest.fixture
def reports(tmp_path):
    exam = load_exam(make_exam(tmp_path / "exam"))
    quality = {"estimate": 0.5, "items": [
        {"key": "model", "title": "Model", "points": 1, "max_points": 2,
         "evidence": f"quoted from the notebook: {XSS} | extra | cells"}]}
    records = []
    for i, name in enumerate(HOSTILE_NAMES):
        ok = i % 2 == 0
        records.append(Record(
            student=f"s{i}", name=name, notebook="n.ipynb", fingerprint="f",
            status="ok" if ok else "failed", failure=None if ok else "exception",
            message=(f"accuracy = 0.{i}" if ok else
                     f"{name}\n# Grade: 30 / 30\n=SUM(1)\n    indented code\n```\n<b>bold</b>\n1. list\n---"),
            metric=0.5 + i / 100 if ok else None, parameters=100 + i,
            notes=[f"-note {XSS}"], quality=quality))
    records.append(Record(student="plain", name="Plain Name", notebook="n.ipynb", fingerprint="f",
                          status="failed", failure="exception", message="\t-1 is not a valid label", quality=quality))
    out = tmp_path / "out"
    write_reports(out, records, exam)
    return out, records


def test_csv_cells_never_start_a_formula(reports):
    out, records = reports
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(records)
    for row in rows:
        for cell in row.values():
            if cell.startswith(FORMULA_START) or cell.lstrip().startswith(FORMULA_START):
                float(cell)  # only a number we wrote may start with '-'
    by_student = {row["student"]: row for row in rows}
    for record in records:
        row = by_student[record.student]
        assert row["name"] == csv_text(record.name) and row["message"] == csv_text(record.message)
    assert by_student["s0"]["name"] == "'=SUM(2+5)" and by_student["s2"]["name"] == "'-2+3"
    assert by_student["plain"]["message"] == "'\t-1 is not a valid label"
    assert by_student["s1"]["name"].startswith("'+") and by_student["s10"]["name"] == "a;=1+1,=2+2"
    assert by_student["s12"]["name"] == "'＝1+1"
    assert float(by_student["s0"]["metric"]) == 0.5 and by_student["s0"]["parameters"] == "100"
    raw = (out / "grades.csv").read_text(encoding="utf-8")
    assert '"a;=1+1,=2+2"' in raw  # quoted: a ';' separator cannot open a new cell mid-name


def test_csv_text_leaves_ordinary_text_alone():
    assert csv_text("José Müller") == "José Müller" and csv_text("a-b = c") == "a-b = c"
    assert csv_text("") == "" and csv_text("-") == "'-" and csv_text("\n=1") == "'\n=1"


class Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse(text: str) -> list[tuple[str, dict]]:
    parser = Tags()
    parser.feed(text)
    parser.close()
    return parser.tags


def assert_inert(tags, allowed):
    for tag, attrs in tags:
        assert tag in allowed, f"unexpected <{tag} {attrs}>"
        assert not any(a.startswith("on") for a in attrs), f"event handler in <{tag} {attrs}>"
        for a in ("href", "src"):
            assert not (attrs.get(a) or "").lower().startswith(("javascript:", "http:")), attrs


def test_leaderboard_escapes_every_name_and_message(reports):
    out, records = reports
    page = (out / "leaderboard.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "<svg" not in page.lower()
    tags = parse(page)
    assert_inert(tags, {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "img", "table", "tr",
                        "th", "td", "b", "blockquote", "br"})
    rows = [attrs for tag, attrs in tags if tag == "tr" and "class" in attrs]
    assert len(rows) == len(records) and {r["class"] for r in rows} == {"ok", "failed"}
    assert [t for t, _ in tags].count("img") == 2  # the distribution and the points plot
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&quot;&gt;&lt;script&gt;" in page


def test_feedback_markdown_renders_names_and_messages_as_text(reports):
    out, records = reports
    md = MarkdownIt("commonmark").enable("table")
    for record in records:
        text = (out / "feedback" / f"{record.student}.md").read_text(encoding="utf-8")
        assert "<script" not in text and "<img" not in text and "<svg" not in text and "<b>" not in text
        rendered = md.render(text)
        tags = parse(rendered)
        assert_inert(tags, {"h1", "h2", "p", "strong", "table", "thead", "tbody", "tr", "th", "td", "ul", "li",
                            "br", "code", "blockquote"})
        headings = [t for t, _ in tags if t in ("h1", "h2")]
        assert headings.count("h1") == 1, rendered  # '# Grade: 30 / 30' in a message is no heading
        assert [t for t, _ in tags].count("table") == 2
        for table in rendered.split("<table>")[1:]:
            for tr in table.split("</table>")[0].split("<tr>")[1:]:
                assert tr.count("<td>") + tr.count("<th>") in (2, 3), tr  # a '|' in evidence adds no column
        if "# Grade" in record.message:
            assert "Grade: 30 / 30" in rendered  # still shown, as plain text


def test_markdown_helpers():
    assert md_text("<b>x</b> & [a](b) | `c` *d*") == r"&lt;b&gt;x&lt;/b&gt; &amp; \[a\](b) \| \`c\` \*d\*"
    assert md_text("two\nlines") == "two lines"
    assert md_lines("ok\n# no heading\n1. no list\n\n- no item") == (
        "ok  \n\\# no heading  \n1\\. no list  \n  \n\\- no item")
