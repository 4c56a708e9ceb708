"""The instructor's manual review, kept in the output folder so every later run sees it.

``OUT/manual_review.json`` maps a student id (the ``student`` of ``OUT/results/<student>.json``) to
``{"score": float, "max": float, "comment": str, "source": str, "updated": ISO time}``. It is what
overrides the rubric estimate of the descriptive quality: the review page (``grader review OUT``)
writes it one student at a time, ``import_scores`` merges a CSV or nbgrader's gradebook into it,
and ``grader grade`` / ``grader report`` read it back with ``load`` on every run, flag or no flag.

Every write is a read-modify-write under a lock (threads of the review page, and other processes
through ``fcntl.flock`` on ``OUT/.manual_review.lock``), then an atomic replace: a crash leaves the
old file or the new one, never half of one. A file that exists but cannot be read is an error, not
"no manual scores": silently falling back to the estimates is the bug this module exists to fix.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

from grader.quality.manual import ManualScore
from grader.results import atomic_write_text

FILE_NAME = "manual_review.json"
LOCK_NAME = ".manual_review.lock"
MAX_COMMENT = 5_000  # characters
_SHOWN_IDS = 40  # known ids listed in an error message, at most

_thread_lock = threading.RLock()


def path(out_dir: Path | str) -> Path:
    return Path(out_dir) / FILE_NAME


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


@contextlib.contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """Serializes read-modify-write cycles: across threads always, across processes where fcntl exists."""
    with _thread_lock:
        try:
            import fcntl
        except ImportError:  # Windows: threads only
            yield
            return
        out_dir.mkdir(parents=True, exist_ok=True)
        with open(out_dir / LOCK_NAME, "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)


def validate(student: str, score: float, max_score: float, comment: str) -> None:
    """Raises ValueError unless 0 <= score <= max, max > 0 (both finite), comment <= MAX_COMMENT chars."""
    if not isinstance(student, str) or not student.strip():
        raise ValueError(f"student id must be a non-empty string, got {student!r}")
    for label, value in (("score", score), ("max", max_score)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"{student}: {label} must be a finite number, got {value!r}")
    if max_score <= 0:
        raise ValueError(f"{student}: max must be positive, got {max_score:g}")
    if score < 0 or score > max_score:
        raise ValueError(f"{student}: score {score:g} is outside 0..{max_score:g}")
    if not isinstance(comment, str):
        raise ValueError(f"{student}: comment must be text, got {type(comment).__name__}")
    if len(comment) > MAX_COMMENT:
        raise ValueError(f"{student}: comment has {len(comment)} characters, at most {MAX_COMMENT} allowed")


def _read(out_dir: Path) -> dict[str, dict]:
    """The raw entries (with their ``updated`` times); {} when there is no file yet."""
    file = path(out_dir)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{file}: not valid JSON ({exc}); fix or remove it, the manual scores are in it") from None
    if not isinstance(data, dict):
        raise ValueError(f"{file}: expected an object mapping student id -> score, got {type(data).__name__}")
    entries: dict[str, dict] = {}
    for student, entry in data.items():
        if not isinstance(entry, dict):
            raise ValueError(f"{file}: entry of {student!r} is not an object")
        try:
            score, maximum = entry["score"], entry["max"]
            comment, source = entry.get("comment", ""), entry.get("source", "")
            updated = entry.get("updated", "")
        except KeyError as exc:
            raise ValueError(f"{file}: entry of {student!r} has no {exc.args[0]!r}") from None
        try:
            validate(student, score, maximum, comment)
        except ValueError as exc:
            raise ValueError(f"{file}: {exc}") from None
        entries[student] = {"score": float(score), "max": float(maximum), "comment": comment,
                            "source": str(source), "updated": str(updated)}
    return entries


def _write(out_dir: Path, entries: Mapping[str, dict]) -> None:
    ordered = {student: entries[student] for student in sorted(entries)}
    atomic_write_text(path(out_dir), json.dumps(ordered, indent=2, ensure_ascii=False) + "\n")


def _entry(score: ManualScore, previous: dict | None) -> dict:
    entry = {"score": float(score.score), "max": float(score.max_score), "comment": score.comment,
             "source": score.source}
    unchanged = previous is not None and all(previous.get(k) == v for k, v in entry.items())
    entry["updated"] = previous["updated"] if unchanged and previous.get("updated") else _now()
    return entry


def _to_score(student: str, entry: dict) -> ManualScore:
    return ManualScore(student, entry["score"], entry["max"], entry["comment"], entry["source"])


def load(out_dir: Path | str) -> dict[str, ManualScore]:
    """Student id -> the instructor's score; {} when nothing was reviewed yet.

    Raises ValueError when the file exists but is damaged or holds an invalid score."""
    return {student: _to_score(student, e) for student, e in _read(Path(out_dir)).items()}


def entries(out_dir: Path | str) -> dict[str, dict]:
    """Like ``load``, as the stored dicts (with ``updated``), for display."""
    return _read(Path(out_dir))


def save(out_dir: Path | str, scores: Mapping[str, ManualScore]) -> None:
    """Replaces the whole file with ``scores`` (student id -> score). Validates every one first.

    An entry whose values did not change keeps its ``updated`` time."""
    out_dir = Path(out_dir)
    for student, s in scores.items():
        validate(student, s.score, s.max_score, s.comment)
    with _locked(out_dir):
        old = _read_or_empty(out_dir)
        _write(out_dir, {student: _entry(s, old.get(student)) for student, s in scores.items()})


def _read_or_empty(out_dir: Path) -> dict[str, dict]:
    """The old entries, only to keep their ``updated`` times: a damaged file is being replaced anyway."""
    try:
        return _read(out_dir)
    except ValueError:
        return {}


def roster(out_dir: Path | str) -> dict[str, str]:
    """Student id -> display name of every graded submission in OUT (``results/*.json``): what
    ``import_scores`` needs as ``known_students`` (its keys) and ``names``."""
    from grader.results import ResultStore

    return {r.student: r.name for r in ResultStore(Path(out_dir)).all()}


def unknown_students_error(unknown: list[str], known_students: set[str],
                           names: Mapping[str, str] | None = None) -> ValueError:
    """The error for scores keyed by something that is not a student id: lists the known ids, and
    suggests the id when the key is a student's display name (or differs only in case)."""
    names = names or {}
    by_name: dict[str, list[str]] = {}
    for student in sorted(known_students):
        name = (names.get(student) or "").strip()
        if name:
            by_name.setdefault(name.casefold(), []).append(student)
    by_id = {student.casefold(): student for student in known_students}
    parts = []
    for key in unknown:
        folded = key.strip().casefold()
        if folded in by_name:
            ids = by_name[folded]
            parts.append(f"{key!r} is the display name of {' and '.join(map(repr, ids))}: "
                         f"use the student id{'s' if len(ids) > 1 else ''}")
        elif folded in by_id:
            parts.append(f"{key!r}: did you mean {by_id[folded]!r}? (ids are case-sensitive)")
        else:
            parts.append(repr(key))
    known = sorted(known_students)
    listed = ", ".join(known[:_SHOWN_IDS]) + (f", ... ({len(known) - _SHOWN_IDS} more)"
                                              if len(known) > _SHOWN_IDS else "")
    return ValueError(f"manual scores for {len(unknown)} unknown student(s): {'; '.join(parts)}. "
                      f"Scores are keyed by student id; the known ids are: {listed or '(none)'}")


def import_scores(out_dir: Path | str, new: Mapping[str, ManualScore], known_students: set[str],
                  names: Mapping[str, str] | None = None) -> list[str]:
    """Merges ``new`` (student id -> score, e.g. from ``load_manual_scores``) into the stored review.

    A student already stored gets the new value; others keep theirs. Nothing is written unless every
    key is a known student id and every score is valid: otherwise ValueError (see
    ``unknown_students_error``; ``names`` maps id -> display name for the suggestion).
    Returns the ids imported, sorted."""
    out_dir = Path(out_dir)
    unknown = sorted(k for k in new if k not in known_students)
    if unknown:
        raise unknown_students_error(unknown, known_students, names)
    for student, s in new.items():
        validate(student, s.score, s.max_score, s.comment)
    with _locked(out_dir):
        stored = _read(out_dir)
        for student, s in new.items():
            stored[student] = _entry(s, stored.get(student))
        _write(out_dir, stored)
    return sorted(new)


def set_score(out_dir: Path | str, student: str, score: float, max: float, comment: str = "",
              source: str = "review page") -> ManualScore:
    """Stores one student's score (replacing theirs, if any). Raises ValueError for a bad value."""
    out_dir = Path(out_dir)
    if isinstance(score, int) and not isinstance(score, bool):
        score = float(score)
    if isinstance(max, int) and not isinstance(max, bool):
        max = float(max)
    validate(student, score, max, comment)
    result = ManualScore(student, score, max, comment, source)
    with _locked(out_dir):
        stored = _read(out_dir)
        stored[student] = _entry(result, stored.get(student))
        _write(out_dir, stored)
    return result


def clear(out_dir: Path | str, student: str) -> bool:
    """Removes one student's score (their rubric estimate counts again). False if there was none."""
    out_dir = Path(out_dir)
    with _locked(out_dir):
        stored = _read(out_dir)
        if student not in stored:
            return False
        del stored[student]
        _write(out_dir, stored)
    return True
