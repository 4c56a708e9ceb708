"""Deadlines: when each submission was handed in, and what being late costs.

An exam may set a deadline and a late policy in an optional ``[deadline]`` table of exam.toml:

```toml
[deadline]
due = 2026-06-30T23:59:00+02:00  # a TOML datetime, unquoted; without an offset it is the local time
                                 # of the machine that grades (say Europe/Rome), daylight saving included
policy = "penalty"               # "penalty": points off per started day late; "refuse": late = not graded
penalty_per_day = 1.0            # points off the final scale per started day late
max_days_late = 7                # later than this many days: refused (penalty policy)
grace_minutes = 5                # a hand-in this close to the deadline (or to any later day boundary) is on time
```

A hand-in is N days late when it arrives more than the grace after ``due + (N - 1) days``: with the
defaults, 23:59 + 4 minutes is on time, 10 minutes late costs one point, 1 day and 3 minutes costs
one point, 2 days 3 hours costs three.

When was it handed in? From, later sources winning:
(a) nbgrader's ``timestamp.txt`` beside the notebook (``submitted/<student>/<assignment>/``), written
    as ``2026-06-30 21:03:12.123456 UTC``. It comes from the student's folder, so it is hostile: read with
    a size limit, never through a symlink, and a bad value only makes the time unknown. It is written
    by the student's own ``nbgrader submit``, so a student with a shell can forge it: prefer (b) or (c);
(b) Moodle's grading worksheet (``Identifier``, ``Last modified (submission)`` as
    ``Tuesday, 30 June 2026, 11:03 PM``, in the downloading user's Moodle time zone, read here as the
    grading machine's local time; download it with Moodle in English);
(c) the instructor's CSV ``student,submitted_at`` with ISO 8601 times (no offset: local time).
An unknown time gives the verdict "submission time unknown", never a penalty and never an exception.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from grader.exam import ExamError
from grader.safe_files import UnsafeFile, read_limited
from grader.submissions import Submission, printable

POLICIES = ("penalty", "refuse")
DEADLINE_KEYS = {"due", "policy", "penalty_per_day", "max_days_late", "grace_minutes"}
TIMESTAMP_FILE = "timestamp.txt"
MAX_TIMESTAMP_BYTES = 4096
_NBGRADER = re.compile(r"^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(?: ([A-Za-z_/+\-0-9:]{1,40}))?$")
_OFFSET = re.compile(r"^[+-]\d{2}:?\d{2}$")
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class DeadlineRule:
    due: datetime  # timezone-aware
    policy: str = "penalty"
    penalty_per_day: float = 1.0
    max_days_late: int | None = 7
    grace_minutes: float = 5
    local_time: bool = False  # ``due`` had no offset: the grading machine's local time


@dataclass(frozen=True)
class LateVerdict:
    days_late: int
    penalty: float  # points off the final scale
    refused: bool
    text: str  # for the feedback
    known: bool = True  # False: the submission time is unknown


def _aware(when: datetime) -> datetime:
    """A naive time is the grading machine's local time."""
    return when if when.tzinfo else when.astimezone()


def parse_deadline(raw: dict) -> DeadlineRule | None:
    """The ``[deadline]`` table of a parsed exam.toml; None when there is none. Raises ExamError."""
    if "deadline" not in raw:
        return None
    table = raw["deadline"]
    if not isinstance(table, dict):
        raise ExamError("[deadline]: must be a table")
    unknown = sorted(set(table) - DEADLINE_KEYS)
    if unknown:
        raise ExamError(f"unknown key(s) {', '.join('deadline.' + k for k in unknown)}: expected "
                        f"{', '.join(sorted(DEADLINE_KEYS))}")
    due = table.get("due")
    if isinstance(due, str):
        raise ExamError(f"deadline.due: write the date unquoted, as a TOML datetime (due = 2026-06-30T23:59:00+02:00), "
                        f"got the string {due!r}")
    if not isinstance(due, datetime):
        what = "a date without a time" if isinstance(due, date) else repr(due)
        raise ExamError(f"deadline.due: a date and time such as 2026-06-30T23:59:00+02:00 is required, got {what}")
    policy = table.get("policy", "penalty")
    if policy not in POLICIES:
        raise ExamError(f"deadline.policy: {policy!r} is not one of {', '.join(POLICIES)}")

    def number(key, default, kind=(int, float)):
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value) or value < 0:
            raise ExamError(f"deadline.{key}: a number >= 0{' (whole days)' if kind is int else ''}, got {value!r}")
        return value

    return DeadlineRule(_aware(due), policy, float(number("penalty_per_day", 1.0)),
                        number("max_days_late", 7, int), float(number("grace_minutes", 5)), due.tzinfo is None)


def _when(when: datetime) -> str:
    offset = when.strftime("%z")
    return f"{when:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def duration(delta: timedelta) -> str:
    """'2 days 3 hours', '5 hours 12 minutes', '3 minutes', '40 seconds'."""
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = []
    if days:
        parts.append(_plural(days, "day"))
    if hours:
        parts.append(_plural(hours, "hour"))
    if minutes and not days:
        parts.append(_plural(minutes, "minute"))
    return " ".join(parts) or _plural(seconds, "second")


def _points(points: float) -> str:
    return f"−{points:g} point{'' if points == 1 else 's'}"


def late_verdict(submitted: datetime | None, rule: DeadlineRule) -> LateVerdict:
    """How late ``submitted`` is under ``rule``, the penalty, and a sentence for the feedback."""
    due = _when(rule.due) + (" local time" if rule.local_time else "")
    deadline = f"deadline {due}"
    if submitted is None:
        return LateVerdict(0, 0.0, False, f"submission time unknown ({deadline}): no late penalty applied", False)
    late = _aware(submitted) - rule.due
    grace = timedelta(minutes=rule.grace_minutes)
    if late <= timedelta(0):
        return LateVerdict(0, 0.0, False, f"handed in on time ({deadline})")
    if late <= grace:
        return LateVerdict(0, 0.0, False, f"handed in {duration(late)} after the deadline ({due}), within the "
                                          f"{rule.grace_minutes:g}-minute grace period: no penalty")
    days = math.ceil((late - grace) / _DAY)
    head = f"handed in {duration(late)} after the deadline ({due})"
    if rule.policy == "refuse":
        return LateVerdict(days, 0.0, True, f"{head}: late hand-ins are not accepted")
    if rule.max_days_late is not None and days > rule.max_days_late:
        return LateVerdict(days, 0.0, True, f"{head}: more than {_plural(rule.max_days_late, 'day')} late, "
                                            "not accepted")
    penalty = days * rule.penalty_per_day
    return LateVerdict(days, penalty, False, f"{head}: {_points(penalty)}" + (
        f" ({_plural(days, 'started day')} × {rule.penalty_per_day:g})" if days > 1 else ""))


def parse_nbgrader_timestamp(text: str) -> datetime:
    """nbgrader's ``timestamp.txt``: '2026-06-30 21:03:12.123456 UTC' (no zone: UTC, as nbgrader reads it)."""
    from dateutil import tz

    match = _NBGRADER.match(text.strip())
    if not match:
        raise ValueError("not a time as nbgrader writes it (2026-06-30 21:03:12.123456 UTC)")
    when = datetime.fromisoformat(match.group(1).replace(" ", "T"))
    zone = match.group(2)
    if zone is None or zone.upper() in ("UTC", "GMT", "Z"):
        return when.replace(tzinfo=UTC)
    if _OFFSET.match(zone):
        return datetime.fromisoformat(f"{match.group(1).replace(' ', 'T')}{zone}")
    info = tz.gettz(zone) if "/" in zone else None  # abbreviations such as CEST are ambiguous
    if info is None:
        raise ValueError(f"unknown time zone {zone!r}")
    return when.replace(tzinfo=info)


def _nbgrader_time(sub: Submission, root: Path, problems: list[str]) -> datetime | None:
    if sub.notebook is None or not sub.source.is_dir() or sub.source not in sub.notebook.parents:
        return None  # a flat layout has no folder of its own to hold a timestamp
    path = sub.notebook.parent / TIMESTAMP_FILE
    try:
        os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        problems.append(f"{sub.student}: {TIMESTAMP_FILE} cannot be read ({exc.strerror}); submission time unknown")
        return None
    try:
        text = read_limited(path, MAX_TIMESTAMP_BYTES, root=root).decode("utf-8")
        return parse_nbgrader_timestamp(text)
    except (UnsafeFile, UnicodeDecodeError, ValueError, OverflowError) as exc:
        problems.append(f"{sub.student}: {TIMESTAMP_FILE} ignored ({printable(str(exc))[:200]}); "
                        "submission time unknown")
        return None


def _moodle_times(path: Path, subs: list[Submission]) -> dict[str, datetime]:
    from dateutil import parser

    from grader.lms import read_moodle_worksheet

    column = "Last modified (submission)"
    by_lms = {s.lms_id: s.student for s in subs if s.lms_id}
    times = {}
    for lms_id, row in read_moodle_worksheet(path).items():
        value = row.get(column)
        if value is None:
            raise ValueError(f"{path}: no '{column}' column (download the worksheet with Moodle in English)")
        if lms_id not in by_lms or value in ("", "-"):
            continue  # a participant without a hand-in here, or nothing submitted
        try:
            times[by_lms[lms_id]] = _aware(parser.parse(value))
        except (ValueError, OverflowError):
            raise ValueError(f"{path}: participant {lms_id}: {column} {value!r} is not a date such as "
                             "'Tuesday, 30 June 2026, 11:03 PM'") from None
    return times


def _csv_times(path: Path, known: set[str]) -> dict[str, datetime]:
    reader = csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8-sig")))
    header = [h.strip().lower() for h in next(reader, [])]
    if "student" not in header or "submitted_at" not in header:
        raise ValueError(f"{path}: the first line must name the columns student and submitted_at")
    at_student, at_time = header.index("student"), header.index("submitted_at")
    times, unknown = {}, []
    for line, row in enumerate(reader, start=2):
        student = row[at_student].strip() if at_student < len(row) else ""
        value = row[at_time].strip() if at_time < len(row) else ""
        if student and student not in known:
            unknown.append(student)
            continue
        if not student or not value:
            continue  # blank: no time known
        try:
            times[student] = _aware(datetime.fromisoformat(value))
        except ValueError:
            raise ValueError(f"{path}:{line}: {value!r} is not an ISO 8601 time (2026-06-30T23:03:00+02:00)") from None
    if unknown:
        raise ValueError(f"{path}: unknown student id(s) {', '.join(unknown)}; the ids of this class are: "
                         f"{', '.join(sorted(known)) or '(none)'}")
    return times


def submission_times(submissions_dir: Path | str, submissions: list[Submission], moodle_csv: Path | None = None,
                     times_csv: Path | None = None, *, problems: list[str] | None = None) -> dict[str, datetime]:
    """Student id -> when the submission was handed in (timezone-aware), from every source available.

    Student files that cannot be used are reported in ``problems`` (when given); the instructor's files
    (``moodle_csv``, ``times_csv``) raise ValueError when they are malformed or name unknown students."""
    problems = problems if problems is not None else []
    root = Path(submissions_dir)
    times: dict[str, datetime] = {}
    for sub in submissions:
        when = _nbgrader_time(sub, root, problems)
        if when is not None:
            times[sub.student] = when
    if moodle_csv is not None:
        times.update(_moodle_times(Path(moodle_csv), submissions))
    if times_csv is not None:
        times.update(_csv_times(Path(times_csv), {s.student for s in submissions}))
    return times
