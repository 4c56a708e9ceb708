"""Find the submissions in a folder, whatever layout the instructor downloaded.

Layouts understood:
- flat: ``<student>.ipynb`` files;
- one folder per student: ``<student>/<anything>.ipynb`` plus the files handed with it (weights);
- nbgrader: ``submitted/<student>/<assignment>/<notebook>.ipynb`` (pass the ``submitted`` folder);
- Moodle: ``<Full Name>_<id>_assignsubmission_file_/...`` folders.

A submission that cannot be run (a zip archive, no notebook, two notebooks for one student) is
still returned, with ``problem`` set, so it gets a verdict instead of vanishing from the grades.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

IGNORED = {".ipynb_checkpoints", "__MACOSX", "__pycache__", ".DS_Store", ".git"}
MOODLE_SUFFIX = re.compile(r"_\d+_assignsubmission_(file|onlinetext)_?$")
ARCHIVES = (".zip", ".tar", ".gz", ".tgz", ".7z", ".rar")


@dataclass
class Submission:
    student: str  # safe identifier: ASCII letters, digits, '_' and '-', unique in the batch
    name: str  # the name as handed in, for people
    source: Path  # the file or folder found
    notebook: Path | None = None
    files: list[Path] = field(default_factory=list)  # other files handed in with the notebook
    problem: str | None = None  # why it cannot run, in words a student understands


def student_id(name: str) -> str:
    """A filesystem- and CSV-safe id: 'José  Müller (1)' -> 'jose_muller_1'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "_", ascii_name).strip("_").lower()
    return slug or "student"


def _display_name(entry: Path) -> str:
    name = entry.name if entry.is_dir() else entry.stem
    return MOODLE_SUFFIX.sub("", name) if entry.is_dir() else name


def _visible(path: Path) -> bool:
    return not any(part in IGNORED or part.startswith(".") for part in path.parts)


def _from_folder(folder: Path, name: str) -> Submission:
    sub = Submission(student_id(name), name, folder)
    notebooks = sorted(p for p in folder.rglob("*.ipynb") if _visible(p.relative_to(folder)))
    if not notebooks:
        archives = [p.name for p in folder.rglob("*") if p.suffix.lower() in ARCHIVES]
        sub.problem = ("no notebook found" + (f" (only the archive {archives[0]}: hand in the "
                                              "notebook unpacked)" if archives else " (.ipynb)"))
        return sub
    if len(notebooks) > 1:
        listed = ", ".join(str(p.relative_to(folder)) for p in notebooks)
        sub.problem = f"several notebooks handed in ({listed}): hand in exactly one"
        return sub
    sub.notebook = notebooks[0]
    root = sub.notebook.parent  # nbgrader nests one level: <student>/<assignment>/
    sub.files = sorted(p for p in root.rglob("*") if p.is_file() and p != sub.notebook
                       and _visible(p.relative_to(root)))
    return sub


def discover(folder: Path | str) -> list[Submission]:
    """Every submission in ``folder``, sorted by student id, ids made unique."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"submissions folder {folder} does not exist or is not a folder")
    found: list[Submission] = []
    for entry in sorted(folder.iterdir()):
        if not _visible(Path(entry.name)):
            continue
        if entry.is_dir():
            found.append(_from_folder(entry, _display_name(entry)))
        elif entry.suffix == ".ipynb":
            found.append(Submission(student_id(entry.stem), entry.stem, entry, notebook=entry))
        elif entry.suffix.lower() in ARCHIVES:
            found.append(Submission(student_id(entry.stem.removesuffix(".tar")), entry.stem, entry,
                                    problem=f"{entry.name} is an archive: hand in the notebook (and "
                                            "model file) unpacked, or unpack it before grading"))
    return _resolve_duplicates(found)


def _resolve_duplicates(found: list[Submission]) -> list[Submission]:
    """Two entries for one student (e.g. alice.ipynb and alice/) cannot both be graded: flag them.
    Different names that only collide as ids (José / Jose) get distinct ids instead."""
    by_id: dict[str, list[Submission]] = {}
    for sub in found:
        by_id.setdefault(sub.student, []).append(sub)
    result = []
    for sid, subs in sorted(by_id.items()):
        names = {s.name for s in subs}
        if len(subs) > 1 and len(names) == 1:  # the same student handed in twice
            listed = ", ".join(s.source.name for s in subs)
            result.append(Submission(sid, subs[0].name, subs[0].source,
                                     problem=f"two submissions for one student ({listed}): keep one"))
            continue
        for i, sub in enumerate(sorted(subs, key=lambda s: s.name)):
            if i:
                sub.student = f"{sid}-{i + 1}"
            result.append(sub)
    return sorted(result, key=lambda s: s.student)
