"""Find the submissions in a folder, whatever layout the instructor downloaded.

Layouts understood:
- flat: ``<student>.ipynb`` files (any case of the suffix: ``ivan.IPYNB``);
- one folder per student: ``<student>/<anything>.ipynb`` plus the files handed with it (weights);
- nbgrader: ``submitted/<student>/<assignment>/<notebook>.ipynb`` (pass the ``submitted`` folder);
- Moodle: ``<Full Name>_<id>_assignsubmission_file_/...`` folders (the participant id is kept).

Every entry of the folder gets a verdict; nothing vanishes silently:
- a submission that cannot be run (a zip archive, no notebook, two notebooks for one student, a
  folder of 200,000 files) is still returned, with ``problem`` set;
- an entry that is not a submission (a stray ``notes.txt``, a symlink, a FIFO, macOS/Jupyter junk)
  is reported as ``Skipped(entry, reason)`` when the caller passes a list to collect them;
- a file inside a student's folder that is not used (a symlink, a FIFO, a duplicate file name) is
  named in ``Submission.rejected``.

Every byte of a hand-in is hostile, names included: symlinks are never followed (a ``model.keras``
linked to the hidden labels is rejected, not graded), a folder is walked up to ``MAX_ENTRIES``
entries only, and names that are not valid UTF-8 or hold control characters are shown escaped.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.safe_files import TooManyEntries, UnsafeFile, open_regular, walk

JUNK = {".ipynb_checkpoints", "__MACOSX", "__pycache__", ".DS_Store", ".git"}
JUNK_REASON = "known junk (macOS/Jupyter metadata)"
MOODLE = re.compile(r"^(?P<name>.*)_(?P<id>\d+)_assignsubmission_(?P<kind>file|onlinetext)_?$", re.DOTALL)
ARCHIVES = (".zip", ".tar", ".gz", ".tgz", ".7z", ".rar")
NOTEBOOK_SUFFIX = ".ipynb"
MAX_ENTRIES = 10_000  # files and folders walked in one student's folder
MAX_REJECTED = 20  # reasons listed per submission; the rest are counted
SYMLINK = "a symbolic link: hand in the file itself"
_APPLEDOUBLE_MAGIC = b"\x00\x05\x16\x07"  # macOS '._name' resource-fork files, common in zips


@dataclass
class Submission:
    student: str  # safe identifier: ASCII letters, digits, '_' and '-', unique in the batch
    name: str  # the name as handed in, for people (control characters and bad bytes escaped)
    source: Path  # the file or folder found
    notebook: Path | None = None
    files: list[Path] = field(default_factory=list)  # other files handed in with the notebook
    problem: str | None = None  # why it cannot run, in words a student understands
    lms_id: str | None = None  # the LMS participant id (Moodle), None for other layouts
    rejected: list[str] = field(default_factory=list)  # handed-in entries not used, and why


@dataclass
class Skipped:
    entry: str  # the entry's name in the submissions folder, printable
    reason: str  # why it is not a submission


def student_id(name: str) -> str:
    """A filesystem- and CSV-safe id: 'José  Müller (1)' -> 'jose_muller_1'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "_", ascii_name).strip("_").lower()
    return slug or "student"


def printable(name: str) -> str:
    r"""A name as people should see it: bytes that are not UTF-8 as ``\xe9``, control and
    invisible formatting characters (newlines, bidi overrides) as ``\n`` / ``\u202e``."""
    out = []
    for ch in name:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's surrogateescape of an undecodable byte
            out.append(f"\\x{code - 0xDC00:02x}")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(repr(ch)[1:-1] if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def _is_notebook_name(name: str) -> bool:
    return name.lower().endswith(NOTEBOOK_SUFFIX)


def _is_junk_name(name: str) -> bool:
    return name in JUNK or name.startswith(".Trash")


def _is_appledouble(path: Path) -> bool:
    """A macOS '._name' file (resource fork metadata), recognised by its magic number."""
    if not path.name.startswith("._"):
        return False
    try:
        fd = open_regular(path)
    except UnsafeFile:
        return False
    try:
        return os.read(fd, 4) == _APPLEDOUBLE_MAGIC
    except OSError:
        return False
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    for test, what in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device")):
        if test(mode):
            return what
    return "not a regular file"


# --- one student's folder ---------------------------------------------------------------------

def _rel(rel: PurePosixPath) -> str:
    return printable(str(rel))


def _from_folder(folder: Path, name: str, lms_id: str | None = None) -> Submission:
    sub = Submission(student_id(name), name, folder, lms_id=lms_id)
    try:
        with os.scandir(folder):
            pass
    except OSError as exc:
        sub.problem = f"the folder cannot be read ({exc.strerror or exc}): hand in readable files"
        return sub
    notebooks: list[PurePosixPath] = []  # regular files named *.ipynb
    bad_notebooks: list[tuple[PurePosixPath, str]] = []  # *.ipynb that are symlinks, FIFOs...
    others: list[PurePosixPath] = []  # other regular files
    rejected: list[str] = []
    try:
        entries = sorted(walk(folder, max_entries=MAX_ENTRIES), key=lambda entry: str(entry[0]))
    except TooManyEntries:
        sub.problem = (f"the folder holds more than {MAX_ENTRIES:,} files: hand in the notebook and "
                       "model only")
        return sub
    for rel, st in entries:
        if any(_is_junk_name(part) for part in rel.parts) or _is_appledouble(folder / rel):
            continue
        mode = st.st_mode
        if stat.S_ISLNK(mode):
            if _is_notebook_name(rel.name):
                bad_notebooks.append((rel, SYMLINK))
            rejected.append(f"{_rel(rel)}: a symbolic link, not a file; ignored")
        elif stat.S_ISDIR(mode):
            if not os.access(folder / rel, os.R_OK | os.X_OK):
                rejected.append(f"{_rel(rel)}/: the folder cannot be read; its files were not looked at")
        elif stat.S_ISREG(mode):
            (notebooks if _is_notebook_name(rel.name) else others).append(rel)
        else:
            what = _kind(mode)
            if _is_notebook_name(rel.name):
                bad_notebooks.append((rel, f"{what}, not a file: hand in the file itself"))
            rejected.append(f"{_rel(rel)}: {what}, not a file; ignored")
    notebook = _choose_notebook(sub, sorted(notebooks), sorted(bad_notebooks), sorted(others), rejected)
    if notebook is not None:
        sub.notebook = folder / notebook
        sub.files = _files_beside(folder, notebook, sorted(others), rejected)
    sub.rejected = _capped(rejected)
    return sub


def _hidden(rel: PurePosixPath) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def _choose_notebook(sub: Submission, notebooks: list[PurePosixPath],
                     bad: list[tuple[PurePosixPath, str]], others: list[PurePosixPath],
                     rejected: list[str]) -> PurePosixPath | None:
    """The one notebook to grade, or None with ``sub.problem`` set.

    A notebook inside a dot-folder (``.backup/``) counts when it is the only one; beside a
    notebook in plain sight it is ignored, and the student is told so.
    """
    visible = [p for p in notebooks if not _hidden(p)]
    hidden = [p for p in notebooks if _hidden(p)]
    if len(visible) == 1:
        for p in hidden:
            rejected.append(f"{_rel(p)}: a notebook in a hidden folder; ignored (graded {_rel(visible[0])})")
        return visible[0]
    if len(visible) > 1 or len(hidden) > 1:
        listed = ", ".join(_rel(p) for p in visible + hidden)
        sub.problem = f"several notebooks handed in ({listed}): hand in exactly one"
        return None
    if hidden:
        return hidden[0]
    if bad:
        rel, why = bad[0]
        sub.problem = f"{_rel(rel)}: {why}"
        return None
    archives = [p for p in others if p.name.lower().endswith(ARCHIVES)]
    sub.problem = ("no notebook found" + (f" (only the archive {_rel(archives[0])}: hand in the "
                                          "notebook unpacked)" if archives else " (.ipynb)"))
    return None


def _files_beside(folder: Path, notebook: PurePosixPath, others: list[PurePosixPath],
                  rejected: list[str]) -> list[Path]:
    """The regular files in the notebook's folder and below it (nbgrader nests one level:
    ``<student>/<assignment>/``). They are copied side by side for the run, so of two files with
    one name only the one nearest the notebook is kept."""
    root = notebook.parent
    kept: dict[str, PurePosixPath] = {}
    for rel in sorted(others, key=lambda p: (len(p.parts), str(p))):
        if root.parts and rel.parts[:len(root.parts)] != root.parts:
            rejected.append(f"{_rel(rel)}: not in the notebook's folder ({_rel(root)}/); ignored")
        elif rel.name in kept:
            rejected.append(f"{_rel(rel)}: the same file name as {_rel(kept[rel.name])}; ignored")
        else:
            kept[rel.name] = rel
    return sorted(folder / rel for rel in kept.values())


def _capped(reasons: list[str]) -> list[str]:
    if len(reasons) <= MAX_REJECTED:
        return reasons
    return reasons[:MAX_REJECTED] + [f"... and {len(reasons) - MAX_REJECTED:,} more entries ignored"]


# --- the submissions folder -------------------------------------------------------------------

def _notebook_name(file_name: str) -> str:
    stem = file_name[:-len(NOTEBOOK_SUFFIX)]
    return stem or file_name  # '.ipynb' alone: keep the whole name


def _archive_name(file_name: str) -> str:
    stem = Path(file_name).stem
    return stem.removesuffix(".tar") or file_name


def _entry(path: Path, moodle: dict[str, set[str]], skipped: list[Skipped]) -> Submission | None:
    """The verdict on one top-level entry: a Submission, or None after recording why it is skipped."""
    name = path.name
    shown = printable(name)
    try:
        st = os.lstat(path)
    except OSError as exc:
        skipped.append(Skipped(shown, f"cannot be read ({exc.strerror or exc})"))
        return None
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        skipped.append(Skipped(shown, SYMLINK))
        return None
    if stat.S_ISDIR(mode):
        if _is_junk_name(name):
            skipped.append(Skipped(shown, JUNK_REASON))
            return None
        match = MOODLE.match(name)
        if match is None:
            return _from_folder(path, shown)
        lms_id = match["id"]
        if match["kind"] == "onlinetext" and lms_id in moodle.get("file", set()):
            skipped.append(Skipped(shown, "Moodle online text beside the file hand-in of the same "
                                          "participant; the file hand-in is graded"))
            return None
        return _from_folder(path, printable(match["name"]) or shown, lms_id)
    if not stat.S_ISREG(mode):
        skipped.append(Skipped(shown, f"{_kind(mode)}, not a file or folder"))
        return None
    if name in JUNK or _is_appledouble(path):
        skipped.append(Skipped(shown, JUNK_REASON))
        return None
    if _is_notebook_name(name):
        display = printable(_notebook_name(name))
        return Submission(student_id(display), display, path, notebook=path)
    if name.lower().endswith(ARCHIVES):
        display = printable(_archive_name(name))
        return Submission(student_id(display), display, path,
                          problem=f"{shown} is an archive: hand in the notebook (and model file) "
                                  "unpacked, or unpack it before grading")
    skipped.append(Skipped(shown, "not a notebook (.ipynb), an archive or a student's folder"))
    return None


def discover(folder: Path | str, skipped: list[Skipped] | None = None) -> list[Submission]:
    """Every submission in ``folder``, sorted by student id, ids made unique.

    Entries that are not submissions are appended to ``skipped`` (when given) with the reason.
    Raises only when ``folder`` itself is missing, not a folder, or cannot be listed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"submissions folder {folder} does not exist or is not a folder")
    skipped = skipped if skipped is not None else []
    names = sorted(os.listdir(folder))
    moodle: dict[str, set[str]] = {}  # kind -> participant ids, to pair online text with files
    for name in names:
        match = MOODLE.match(name)
        if match:
            moodle.setdefault(match["kind"], set()).add(match["id"])
    found: list[Submission] = []
    for name in names:
        try:
            sub = _entry(folder / name, moodle, skipped)
        except Exception as exc:  # one odd entry must never cost the batch
            skipped.append(Skipped(printable(name), f"could not be examined ({type(exc).__name__}: "
                                                    f"{printable(str(exc))})"))
            continue
        if sub is not None:
            found.append(sub)
    return _resolve_duplicates(found)


def _resolve_duplicates(found: list[Submission]) -> list[Submission]:
    """Two entries for one student (e.g. alice.ipynb and alice/) cannot both be graded: flag them.
    Different students whose ids collide get distinct ids instead: 'José' and 'Jose' become
    jose and jose-2; Moodle participants (same name or not) get their participant id appended,
    jan_novak-111 and jan_novak-222, so the id stays the same when the class list changes."""
    by_id: dict[str, list[Submission]] = {}
    for sub in found:
        by_id.setdefault(sub.student, []).append(sub)
    result = []
    for sid, subs in sorted(by_id.items()):
        by_person: dict[tuple[str, str], list[Submission]] = {}
        for sub in subs:
            by_person.setdefault((sub.name, sub.lms_id or ""), []).append(sub)
        people = []
        for (name, _), same in sorted(by_person.items()):
            if len(same) > 1:  # the same student handed in twice
                listed = ", ".join(printable(s.source.name) for s in same)
                people.append(Submission(sid, name, same[0].source, lms_id=same[0].lms_id,
                                         problem=f"two submissions for one student ({listed}): keep one"))
            else:
                people.append(same[0])
        if len(people) > 1 and all(p.lms_id for p in people):
            for p in people:
                p.student = f"{sid}-{p.lms_id}"
        else:
            for i, p in enumerate(people):
                if i:
                    p.student = f"{sid}-{i + 1}"
        result += people
    return _unique(sorted(result, key=lambda s: s.student))


def _unique(subs: list[Submission]) -> list[Submission]:
    """Suffixed ids cannot meet a plain one (plain ids hold no '-'), but make sure."""
    taken: set[str] = set()
    for sub in subs:
        base, n = sub.student, 1
        while sub.student in taken:
            n += 1
            sub.student = f"{base}-{n}"
        taken.add(sub.student)
    return subs
