"""Which submissions share suspiciously much CODE: an instructor-only report, never published.

Students all start from the exam's template notebook, so similar code is expected where they keep
it; what matters is code they wrote, shared with someone else. copydetect (winnowing fingerprints,
as in MOSS) does the matching: each hand-in's code cells are tokenized with names, strings and
comments erased (renaming variables or reordering cells hides nothing), fingerprinted ONCE, and every
pair is compared by its fingerprints (O(n²) set intersections, fast for 300 students). Fingerprints
of the template are removed first, so code kept from the template never counts, in the shared part
or in the total: a student who handed in the template alone scores 0 against everyone. A score is
a reason to look, not a verdict: with names and strings erased, a few lines of idiomatic Keras look
alike in independent work, so a student with little code of their own can score high.

Writes OUT/similarity.html (pairs, with the matched lines side by side) and OUT/similarity.csv. The
report names students next to each other's code: it is for the instructor only and must never be
linked from the public leaderboard. Hand-ins are hostile: read with a size cap, no symlink followed,
a notebook that cannot be read is listed as skipped with the reason, every string is escaped.
"""

from __future__ import annotations

import bisect
import csv
import functools
import io
import json
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from grader.escaping import csv_text
from grader.escaping import esc as _esc  # html.escape(str(value), quote=True)
from grader.results import atomic_write_text
from grader.submissions import Skipped, printable

NOISE_T = 25  # matches shorter than this many filtered characters are noise (copydetect's default)
# Matches this long are always found. Equal to NOISE_T (copydetect's default), the winnowing window is 1:
# every k-gram is kept, so scores do not depend on Python's per-process str hash seed; a larger window
# is ~1.5x faster but picks other fingerprints each run, and the scores move by a few points.
GUARANTEE_T = 25
MAX_CODE_CHARS = 200_000  # 10x an exam's code; more is cut (pygments lexing costs up to 15 s a megabyte)
MAX_DETAILED = 200  # pairs shown with their code in the HTML (the table and the CSV list them all)
MAX_BLOCKS, MAX_BLOCK_LINES = 40, 60  # matched blocks per pair and lines per block shown side by side


@dataclass
class Pair:
    a: str
    b: str
    similarity_a: float  # share of a's own code (template excluded) found in b's, 0..1
    similarity_b: float
    matched_lines: list[tuple[range, range]]  # 1-based line numbers in code_of(a) and code_of(b)


# a line papermill injects: CONSTANT = literal (a student tagging real code this way hides nothing)
_INJECTED = re.compile(r"""\s*(#.*)?$|[A-Z_][A-Z0-9_]*\s*=\s*("[^"]*"|'[^']*'|[-+.\w]+)\s*$""")


def code_of(notebook_path: Path | str, max_bytes: int | None = None) -> str:
    """The source of the notebook's code cells, magics (``%``, ``!``) and outputs left out, each cell
    headed by a ``# cell N`` comment (comments do not count in the matching). Raises on a file that
    is not a readable notebook (too large, a symlink, not JSON, broken structure). ``max_bytes``:
    default grader.notebook.MAX_NOTEBOOK_BYTES."""
    from grader.notebook import MAX_NOTEBOOK_BYTES, read_notebook  # nbformat only when used: the CLI starts fast

    # read_limited, the last component opened O_NOFOLLOW, the size checked before anything is parsed
    nb, _ = read_notebook(Path(notebook_path), max_bytes or MAX_NOTEBOOK_BYTES)
    parts = []
    for number, cell in enumerate(nb.cells, 1):
        source = cell.get("source", "")
        source = "".join(map(str, source)) if isinstance(source, list) else source
        if cell.get("cell_type") != "code" or not isinstance(source, str):
            continue
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        meta = cell.get("metadata")
        tags = meta.get("tags") if isinstance(meta, dict) else None
        if isinstance(tags, list) and "injected-parameters" in tags and all(map(_INJECTED.match, lines)):
            continue  # papermill's cell in an executed copy: the grader's constants, not the student's code
        if any(line.strip() for line in lines):
            parts.append(f"# cell {number}\n" + "\n".join(lines) + "\n")
    code = "\n".join(parts)[:MAX_CODE_CHARS]
    return code.encode("utf-8", "replace").decode("utf-8")  # lone surrogates from JSON become '?'


def _fingerprint(code: str, path: Path, noise_t: int, guarantee_t: int, boilerplate: frozenset = frozenset()):
    """copydetect's fingerprint of ``code`` (written to ``path``, a .py file of ours), boilerplate removed.

    copydetect 0.5.0's own ``boilerplate=`` argument drops the FIRST occurrence of every fingerprint
    the student repeats, boilerplate or not (np.intersect1d(..., assume_unique=True) on a list with
    duplicates), so a student's repeated code would shrink; the boilerplate is removed here instead,
    hash by hash, and the covered length recounted with copydetect's own function.
    """
    from copydetect import CodeFingerprint
    from copydetect.utils import get_token_coverage

    path.write_text(code, encoding="utf-8")
    fp = CodeFingerprint(str(path), noise_t, guarantee_t - noise_t + 1, language="python")
    common = fp.hashes & boilerplate
    if common:
        fp.hashes = fp.hashes - common
        fp.hash_idx = {h: idx for h, idx in fp.hash_idx.items() if h not in common}
        fp.token_coverage = get_token_coverage(fp.hash_idx, fp.k, len(fp.filtered_code))
    return fp


def _to_raw(fp, positions):
    """Positions in the filtered code -> positions in the code as written (compare_files' mapping)."""
    import numpy as np

    positions = np.asarray(positions, dtype=np.int64)
    if len(fp.offsets) == 0:
        return positions
    where = np.clip(np.searchsorted(fp.offsets[:, 0], positions), 0, fp.offsets.shape[0] - 1)
    return positions + fp.offsets[:, 1][where]


@functools.lru_cache(maxsize=64)
def _line_starts(code: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", code)]


def _line(code: str, pos: int) -> int:
    return bisect.bisect_right(_line_starts(code), pos)  # 1-based line number of a character position


def _matched_lines(fa, fb, slices_a, slices_b) -> list[tuple[range, range]]:
    """Which span of a matches which span of b: every shared fingerprint anchors a position in each;
    anchors are grouped by the (slice of a, slice of b) they fall in, each slice keeps its best partner."""
    import numpy as np

    anchors = []
    for h in fa.hashes & fb.hashes:
        for p in fa.hash_idx[h][:8]:  # a fingerprint repeated many times adds nothing but cost
            anchors.extend((p, q) for q in fb.hash_idx[h][:8])
    if not anchors or len(slices_a[0]) == 0:
        return []
    pa, pb = np.array(anchors, dtype=np.int64).T
    a0, a1, b0, b1 = _to_raw(fa, pa), _to_raw(fa, pa + fa.k), _to_raw(fb, pb), _to_raw(fb, pb + fb.k)
    ia = np.clip(np.searchsorted(slices_a[0], a0, side="right") - 1, 0, len(slices_a[0]) - 1)
    ib = np.clip(np.searchsorted(slices_b[0], b0, side="right") - 1, 0, len(slices_b[0]) - 1)
    votes = Counter(zip(ia.tolist(), ib.tolist()))
    best_a, best_b = {}, {}
    for (i, j), _ in votes.most_common():
        best_a.setdefault(i, (i, j))
        best_b.setdefault(j, (i, j))
    out = []
    for i, j in sorted(set(best_a.values()) | set(best_b.values())):
        sel = (ia == i) & (ib == j)
        sa = (max(int(a0[sel].min()), int(slices_a[0][i])), min(int(a1[sel].max()), int(slices_a[1][i])))
        sb = (max(int(b0[sel].min()), int(slices_b[0][j])), min(int(b1[sel].max()), int(slices_b[1][j])))
        out.append((range(_line(fa.raw_code, sa[0]), _line(fa.raw_code, max(sa[1] - 1, sa[0])) + 1),
                    range(_line(fb.raw_code, sb[0]), _line(fb.raw_code, max(sb[1] - 1, sb[0])) + 1)))
    return out


def similarity_report(notebooks: dict[str, Path], template: Path | None, out_dir: Path, *,
                      threshold: float = 0.5, max_bytes: int | None = None,
                      noise_t: int = NOISE_T, guarantee_t: int = GUARANTEE_T,
                      skipped: list[Skipped] | None = None) -> list[Pair]:
    """Pairs of students whose own code matches at least ``threshold`` of either one's, most similar
    first; writes OUT/similarity.html and OUT/similarity.csv. A notebook that cannot be read is
    appended to ``skipped`` (when given) with the reason, and reported: a hand-in never makes it raise."""
    from copydetect import compare_files

    if not 1 <= noise_t <= guarantee_t:
        raise ValueError(f"need 1 <= noise_t <= guarantee_t (got {noise_t}, {guarantee_t})")
    skipped = skipped if skipped is not None else []
    fps, spans = {}, {}
    with tempfile.TemporaryDirectory(prefix="grader-similarity-") as tmp:
        boilerplate: frozenset = frozenset()
        if template is not None:  # the instructor's own file: an error here is theirs to see
            code = code_of(template, max_bytes)
            boilerplate = frozenset(_fingerprint(code, Path(tmp) / "template.py", noise_t, noise_t).hashes)
        for n, (student, path) in enumerate(sorted(notebooks.items())):
            try:
                code = code_of(path, max_bytes)
                fps[student] = _fingerprint(code, Path(tmp) / f"{n:05d}.py", noise_t, guarantee_t, boilerplate)
            except Exception as exc:  # noqa: BLE001 - one hostile notebook never stops the report
                skipped.append(Skipped(printable(student), printable(f"{type(exc).__name__}: {exc}")[:500]))
    pairs = []
    names = sorted(fps)
    for x, a in enumerate(names):
        fa = fps[a]
        if not fa.hashes:
            continue  # no code beyond the template (or none at all): similarity 0 with everyone
        for b in names[x + 1:]:
            fb = fps[b]
            if fa.hashes.isdisjoint(fb.hashes):
                continue
            _, (sim_a, sim_b), (slices_a, slices_b) = compare_files(fa, fb)
            if max(sim_a, sim_b) >= threshold and max(sim_a, sim_b) > 0:
                pairs.append(Pair(a, b, float(sim_a), float(sim_b), _matched_lines(fa, fb, slices_a, slices_b)))
                spans[a, b] = (slices_a, slices_b)
    pairs.sort(key=lambda p: (-max(p.similarity_a, p.similarity_b), p.a, p.b))
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(out_dir / "similarity.csv", pairs)
    atomic_write_text(out_dir / "similarity.html", _html(pairs, fps, spans, skipped, threshold, template))
    return pairs


def _write_csv(path: Path, pairs: list[Pair]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC)  # text quoted, numbers bare
    writer.writerow(["a", "b", "similarity_a", "similarity_b"])
    for p in pairs:
        writer.writerow([csv_text(p.a), csv_text(p.b), round(p.similarity_a, 4), round(p.similarity_b, 4)])
    atomic_write_text(path, buffer.getvalue())


def _block(code: str, lines: range, slices) -> str:
    """Lines of ``code`` with the matched characters in <mark>, everything escaped, under a label
    naming the notebook cell they start in."""
    starts = _line_starts(code)
    shown = range(lines.start, min(lines.stop, lines.start + MAX_BLOCK_LINES))
    begin = starts[shown.start - 1] if shown.start - 1 < len(starts) else len(code)
    end = starts[shown.stop - 1] if shown.stop - 1 < len(starts) else len(code)
    out, pos = [], begin
    for s, e in zip(slices[0].tolist(), slices[1].tolist()):
        s, e = max(int(s), pos), min(int(e), end)
        if s < e:
            out += [_esc(code[pos:s]), "<mark>", _esc(code[s:e]), "</mark>"]
            pos = e
    out.append(_esc(code[pos:end]))
    more = f"\n… {len(lines) - len(shown)} more lines" if len(shown) < len(lines) else ""
    first_line_end = starts[shown.start] if shown.start < len(starts) else len(code)
    cells = re.findall(r"^# cell (\d+)$", code[:first_line_end], re.M)
    label = f"lines {lines.start}–{lines.stop - 1}" + (f" (from cell {cells[-1]})" if cells else "")
    return f"<div class='lines'>{label}</div><pre>{''.join(out)}{_esc(more)}</pre>"


STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
.private{background:#fdecea;border:2px solid #c0392b;padding:.6em 1em;font-weight:bold}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;vertical-align:top}
.side td{width:50%}pre{margin:0;white-space:pre-wrap;font-size:12px}mark{background:#ffd54f}
.lines{color:#666;font-size:12px}"""


def _html(pairs, fps, spans, skipped, threshold, template) -> str:
    pct = "{:.0%}".format
    out = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
           "<meta name='robots' content='noindex,nofollow'><title>Code similarity (instructor only)</title>",
           f"<style>{STYLE}</style></head><body>",
           "<p class='private'>INSTRUCTOR ONLY: this report shows students' code side by side. Do not publish it, "
           "share it or link it from the public leaderboard. A high score is a reason to look, not a verdict.</p>",
           f"<h1>Code similarity: {len(pairs)} pair(s) at or above {_esc(pct(threshold))}</h1>",
           f"<p>{len(fps)} notebooks compared with copydetect (winnowing; names, strings and comments erased). "
           f"{'Code of the template ' + _esc(template.name) + ' is ignored.' if template else 'No template given.'} "
           "% = share of that student's own code found in the other's.</p>",
           "<table><tr><th>#</th><th>student a</th><th>student b</th><th>% of a's code matched</th>"
           "<th>% of b's code matched</th><th>matched blocks</th></tr>"]
    for n, p in enumerate(pairs, 1):
        link = f"<a href='#pair-{n}'>{n}</a>" if n <= MAX_DETAILED else str(n)
        out.append(f"<tr><td>{link}</td><td>{_esc(p.a)}</td><td>{_esc(p.b)}</td><td>{pct(p.similarity_a)}</td>"
                   f"<td>{pct(p.similarity_b)}</td><td>{len(p.matched_lines)}</td></tr>")
    out.append("</table>")
    for n, p in enumerate(pairs[:MAX_DETAILED], 1):
        code_a, code_b = fps[p.a].raw_code, fps[p.b].raw_code
        slices_a, slices_b = spans[p.a, p.b]
        out.append(f"<h2 id='pair-{n}'>{n}. {_esc(p.a)} ({pct(p.similarity_a)}) and {_esc(p.b)} "
                   f"({pct(p.similarity_b)})</h2><table class='side'><tr><th>{_esc(p.a)}</th><th>{_esc(p.b)}</th></tr>")
        for ra, rb in p.matched_lines[:MAX_BLOCKS]:
            out.append(f"<tr><td>{_block(code_a, ra, slices_a)}</td><td>{_block(code_b, rb, slices_b)}</td></tr>")
        if len(p.matched_lines) > MAX_BLOCKS:
            out.append(f"<tr><td colspan='2'>… {len(p.matched_lines) - MAX_BLOCKS} more blocks</td></tr>")
        out.append("</table>")
    if skipped:
        out.append("<h2>Not compared</h2><table><tr><th>notebook</th><th>reason</th></tr>")
        out += [f"<tr><td>{_esc(s.entry)}</td><td>{_esc(s.reason)}</td></tr>" for s in skipped]
        out.append("</table>")
    out.append("</body></html>\n")
    return "\n".join(out)


# --- the `grader similarity` command (grader/cli.py calls register) -----------------------------

def register(subparsers) -> None:
    cmd = subparsers.add_parser("similarity", help="instructor-only report of submissions with similar code")
    cmd.add_argument("out_dir", type=Path, help="the output folder of `grader grade`")
    cmd.add_argument("--threshold", type=float, default=0.5, help="flag pairs from this share of code (0.5)")
    cmd.add_argument("--submissions", type=Path, help="the original hand-ins (default: OUT/executed copies)")
    cmd.add_argument("--exam", type=Path, dest="exam_dir", help="default: the exam of OUT/exam.json")
    cmd.set_defaults(run=cmd_similarity)


def cmd_similarity(args) -> int:
    from grader.exam import load_exam
    from grader.submissions import discover

    if not 0 <= args.threshold <= 1:
        raise ValueError("--threshold must be between 0 and 1")
    exam_dir = args.exam_dir
    if exam_dir is None:
        meta = args.out_dir / "exam.json"
        if not meta.is_file():
            raise FileNotFoundError(f"{args.out_dir} is not a grader output folder (no exam.json): pass --exam")
        exam_dir = Path(json.loads(meta.read_text())["exam_dir"])
    exam = load_exam(exam_dir)
    if exam.template is None:
        print("note: the exam names no template (exam.template): starter code everyone shares will count")
    skipped: list[Skipped] = []
    if args.submissions is not None:  # the hand-ins as they were: the executed copies add nothing
        notebooks = {s.student: s.notebook for s in discover(args.submissions, skipped) if s.notebook}
    else:
        executed = args.out_dir / "executed"
        if not executed.is_dir():
            raise FileNotFoundError(f"no {executed}: pass --submissions with the hand-ins folder")
        notebooks = {p.stem: p for p in sorted(executed.glob("*.ipynb"))}
    pairs = similarity_report(notebooks, exam.template, args.out_dir, threshold=args.threshold,
                              max_bytes=int(exam.limits.max_notebook_mb * 2**20), skipped=skipped)
    for s in skipped:
        print(f"skipped {printable(s.entry)}: {printable(s.reason)}")
    for p in pairs:
        print(f"similar: {printable(p.a)} ~ {printable(p.b)}: {p.similarity_a:.0%} of {printable(p.a)}'s code, "
              f"{p.similarity_b:.0%} of {printable(p.b)}'s ({len(p.matched_lines)} matched blocks)")
    print(f"{len(pairs)} pair(s) of {len(notebooks)} notebooks at or above {args.threshold:.0%}; wrote "
          f"{args.out_dir / 'similarity.html'} (INSTRUCTOR ONLY: do not publish) and {args.out_dir / 'similarity.csv'}")
    return 0
