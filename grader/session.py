"""The instructor's session around a graded class: what is entered once and kept in OUT, and the
commands that use it.

OUT/manual_review.json    the instructor's quality scores and comments (grader/review_store.py)
OUT/oral_grades.json      oral grades, imported from a CSV (`--oral`)
OUT/lms_ids.json          student id -> LMS participant id (Moodle's, from the download's folder names)
OUT/submission_times.json student id -> when it was handed in (nbgrader timestamp, Moodle worksheet, CSV)

Each is written atomically and survives every rerun of `grader grade` and `grader report`.
"""

from __future__ import annotations

import json
from pathlib import Path

from grader import review_store
from grader.exam import Exam
from grader.report import ORAL_FILE, TIMES_FILE
from grader.report import read_json as _read
from grader.results import Record, atomic_write_text

LMS_IDS_FILE = "lms_ids.json"


def import_manual_scores(out_dir: Path, csv_path: Path, records: list[Record]) -> list[str]:
    """Merge a CSV of manual quality scores into OUT/manual_review.json (unknown ids: ValueError)."""
    from grader.quality import load_manual_scores

    scores = load_manual_scores(csv_path)
    return review_store.import_scores(out_dir, scores, {r.student for r in records},
                                      names={r.student: r.name for r in records})


def import_oral_grades(out_dir: Path, csv_path: Path, records: list[Record], exam: Exam) -> int:
    """Merge a CSV student,oral into OUT/oral_grades.json (unknown ids: ValueError listing the known)."""
    from grader.final_grade import load_oral_grades

    scale = exam.final.oral_scale if exam.final else None
    grades = load_oral_grades(csv_path, {r.student for r in records}, scale=scale)
    stored = _read(out_dir / ORAL_FILE)
    stored.update(grades)
    atomic_write_text(out_dir / ORAL_FILE, json.dumps(stored, indent=2, sort_keys=True))
    return len(grades)


def record_lms_and_times(out_dir: Path, submissions_dir: Path, *, moodle_worksheet: Path | None = None,
                         times_csv: Path | None = None) -> list[str]:
    """Keep each student's LMS id and hand-in time; returns the problems found in timestamp files."""
    from grader.deadlines import submission_times
    from grader.submissions import discover

    subs = discover(submissions_dir)
    ids = _read(out_dir / LMS_IDS_FILE)
    ids.update({s.student: s.lms_id for s in subs if s.lms_id})
    atomic_write_text(out_dir / LMS_IDS_FILE, json.dumps(ids, indent=2, sort_keys=True))
    problems: list[str] = []
    times = submission_times(submissions_dir, subs, moodle_worksheet, times_csv, problems=problems)
    stored = _read(out_dir / TIMES_FILE)
    stored.update({k: v.isoformat() for k, v in times.items()})
    atomic_write_text(out_dir / TIMES_FILE, json.dumps(stored, indent=2, sort_keys=True))
    return problems


def lms_ids(out_dir: Path) -> dict[str, str]:
    return {k: str(v) for k, v in _read(out_dir / LMS_IDS_FILE).items()}


def exam_of(out_dir: Path) -> Exam:
    """The exam a grader output folder was graded for (OUT/exam.json, written by `grader grade`)."""
    from grader.exam import load_exam

    meta = Path(out_dir) / "exam.json"
    if not meta.is_file():
        raise FileNotFoundError(f"{out_dir} is not a grader output folder (no exam.json)")
    return load_exam(json.loads(meta.read_text())["exam_dir"])
