"""Deadlines: [deadline] validation, late penalty by started day with grace, refusal, and the three
sources of submission times, including hostile timestamp files from student folders."""

import os
import time
import tomllib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from grader.deadlines import (
    DeadlineRule,
    late_verdict,
    parse_deadline,
    parse_nbgrader_timestamp,
    submission_times,
)
from grader.exam import ExamError
from grader.submissions import discover

ROME = timezone(timedelta(hours=2))
DUE = datetime(2026, 6, 30, 23, 59, tzinfo=ROME)


@pytest.fixture
def rome_local(monkeypatch):
    """The grading machine's local time zone is Europe/Rome."""
    monkeypatch.setenv("TZ", "Europe/Rome")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def rule(**kw) -> DeadlineRule:
    return DeadlineRule(DUE, **kw)


def test_parse_deadline_with_an_offset():
    parsed = parse_deadline(tomllib.loads("[deadline]\ndue = 2026-06-30T23:59:00+02:00\n"))
    assert parsed == DeadlineRule(DUE, "penalty", 1.0, 7, 5.0, False)
    assert parse_deadline({"exam": {}}) is None


def test_a_naive_due_is_the_local_time(rome_local):
    parsed = parse_deadline(tomllib.loads("[deadline]\ndue = 2026-06-30T23:59:00\npolicy = \"refuse\"\n"))
    assert parsed.due == DUE and parsed.local_time and parsed.policy == "refuse"
    assert "(2026-06-30 23:59 +02:00 local time)" in late_verdict(DUE + timedelta(hours=1), parsed).text
    winter = parse_deadline(tomllib.loads("[deadline]\ndue = 2026-01-15T12:00:00\n"))
    assert winter.due.utcoffset() == timedelta(hours=1)  # daylight saving follows the date


@pytest.mark.parametrize("body, key", [
    ("due = 2026-06-30", "deadline.due: .*date without a time"),
    ("due = \"2026-06-30T23:59:00+02:00\"", "deadline.due: write the date unquoted"),
    ("policy = \"penalty\"", "deadline.due"),
    ("due = 2026-06-30T23:59:00Z\npolicy = \"fine\"", "deadline.policy"),
    ("due = 2026-06-30T23:59:00Z\npenalty_per_day = -1", "deadline.penalty_per_day"),
    ("due = 2026-06-30T23:59:00Z\nmax_days_late = 2.5", "deadline.max_days_late"),
    ("due = 2026-06-30T23:59:00Z\ngrace_minutes = true", "deadline.grace_minutes"),
    ("due = 2026-06-30T23:59:00Z\ngrace = 5", "deadline.grace"),
])
def test_parse_deadline_names_the_bad_key(body, key):
    with pytest.raises(ExamError, match=key):
        parse_deadline(tomllib.loads(f"[deadline]\n{body}\n"))


def test_on_time_and_within_the_grace_period():
    assert late_verdict(DUE - timedelta(hours=3), rule()).text == "handed in on time (deadline 2026-06-30 23:59 +02:00)"
    graced = late_verdict(DUE + timedelta(minutes=4), rule())
    assert (graced.days_late, graced.penalty, graced.refused) == (0, 0, False)
    assert "within the 5-minute grace period" in graced.text
    exact = late_verdict(DUE + timedelta(minutes=5), rule())
    assert exact.penalty == 0


@pytest.mark.parametrize("late, days", [
    (timedelta(minutes=5, seconds=1), 1),
    (timedelta(hours=23), 1),
    (timedelta(days=1, minutes=3), 1),  # the grace shifts every day boundary
    (timedelta(days=1, minutes=10), 2),
    (timedelta(days=2, hours=3), 3),
    (timedelta(days=7, minutes=5), 7),
])
def test_penalty_per_started_day(late, days):
    verdict = late_verdict(DUE + late, rule(penalty_per_day=1.5))
    assert verdict.days_late == days and verdict.penalty == 1.5 * days and not verdict.refused


def test_the_feedback_sentence_names_the_delay_the_deadline_and_the_points():
    verdict = late_verdict(DUE + timedelta(days=2, hours=3), rule())
    assert verdict.text == ("handed in 2 days 3 hours after the deadline (2026-06-30 23:59 +02:00): −3 points "
                            "(3 started days × 1)")
    one = late_verdict(DUE + timedelta(minutes=42), rule())
    assert one.text == "handed in 42 minutes after the deadline (2026-06-30 23:59 +02:00): −1 point"
    utc = late_verdict(datetime(2026, 6, 30, 22, 30, tzinfo=UTC), rule())  # 00:30 in Rome
    assert utc.days_late == 1 and "31 minutes" in utc.text


def test_refused_past_max_days_or_under_the_refuse_policy():
    beyond = late_verdict(DUE + timedelta(days=7, minutes=6), rule())
    assert beyond.refused and beyond.days_late == 8 and beyond.penalty == 0
    assert "more than 7 days late, not accepted" in beyond.text
    strict = late_verdict(DUE + timedelta(minutes=6), rule(policy="refuse"))
    assert strict.refused and "not accepted" in strict.text
    assert not late_verdict(DUE + timedelta(minutes=4), rule(policy="refuse")).refused


def test_unknown_time_is_a_verdict_not_an_error():
    verdict = late_verdict(None, rule())
    assert not verdict.known and verdict.penalty == 0 and not verdict.refused
    assert verdict.text.startswith("submission time unknown")


def test_nbgrader_timestamp_formats():
    assert parse_nbgrader_timestamp("2026-06-30 21:03:12.123456 UTC\n") == datetime(2026, 6, 30, 21, 3, 12, 123456,
                                                                                       tzinfo=UTC)
    assert parse_nbgrader_timestamp("2026-06-30 23:03:12 +0200") == datetime(2026, 6, 30, 21, 3, 12, tzinfo=UTC)
    assert parse_nbgrader_timestamp("2026-06-30 23:03:12 Europe/Rome") == datetime(2026, 6, 30, 21, 3, 12, tzinfo=UTC)
    assert parse_nbgrader_timestamp("2026-06-30 21:03:12").tzinfo == UTC  # nbgrader reads a bare time as UTC
    for bad in ("yesterday", "2026-06-30 21:03:12 CEST", "2026-13-45 21:03:12 UTC", "2026-06-30 21:03:12 UTC; rm -rf"):
        with pytest.raises(ValueError):
            parse_nbgrader_timestamp(bad)


def nbgrader_submission(root, student, stamp: bytes | None):
    folder = root / student / "exam1"
    folder.mkdir(parents=True)
    (folder / "exam.ipynb").write_text("{}")
    if stamp is not None:
        (folder / "timestamp.txt").write_bytes(stamp)
    return folder


def test_nbgrader_timestamps_and_hostile_ones(tmp_path):
    root = tmp_path / "submitted"
    nbgrader_submission(root, "alice", b"2026-06-30 21:03:12.123456 UTC\n")
    nbgrader_submission(root, "bob", None)  # not every hand-in has one
    huge = nbgrader_submission(root, "huge", None)
    with open(huge / "timestamp.txt", "wb") as f:
        f.truncate(2**30)  # 1 GB (sparse): refused by size, never read
    secret = tmp_path / "elsewhere.txt"
    secret.write_text("2026-06-01 10:00:00 UTC")
    (nbgrader_submission(root, "linked", None) / "timestamp.txt").symlink_to(secret)
    nbgrader_submission(root, "garbage", b"\x00\xff\xfe not a time \x1b[31m")
    nbgrader_submission(root, "forged_format", b"2026-06-30 21:03:12 UTC\n" * 100)
    os.mkfifo(nbgrader_submission(root, "fifo", None) / "timestamp.txt")
    (nbgrader_submission(root, "folder", None) / "timestamp.txt").mkdir()
    (root / "flat.ipynb").write_text("{}")
    (root / "timestamp.txt").write_text("2026-06-30 21:00:00 UTC")  # beside flat hand-ins: nobody's
    subs = discover(root)
    problems: list[str] = []
    started = time.monotonic()
    times = submission_times(root, subs, problems=problems)
    assert time.monotonic() - started < 5
    assert times == {"alice": datetime(2026, 6, 30, 21, 3, 12, 123456, tzinfo=UTC)}
    assert {p.split(":")[0] for p in problems} == {"huge", "linked", "garbage", "forged_format", "fifo", "folder"}
    assert any("too large" in p for p in problems if p.startswith("huge"))
    assert all("submission time unknown" in p and "\x1b" not in p for p in problems)
    verdicts = {s.student: late_verdict(times.get(s.student), rule()) for s in subs}
    assert verdicts["alice"].text.startswith("handed in on time")
    assert all(not verdicts[s].known for s in ("bob", "huge", "linked", "garbage", "fifo", "flat"))


MOODLE_HEADER = ("Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
                 "Last modified (submission),Last modified (grade),Feedback comments\n")


def moodle_class(root):
    for name, pid in (("Alice Rossi", "12345"), ("Bob Bianchi", "23456"), ("Carla Verdi", "34567")):
        folder = root / f"{name}_{pid}_assignsubmission_file_"
        folder.mkdir(parents=True)
        (folder / "exam.ipynb").write_text("{}")
    return discover(root)


def test_moodle_worksheet_times(tmp_path, rome_local):
    subs = moodle_class(tmp_path / "subs")
    sheet = tmp_path / "worksheet.csv"
    sheet.write_text(MOODLE_HEADER
                     + "Participant 12345,Alice Rossi,a@x.it,Submitted for grading,,30.00,Yes,"
                       "\"Tuesday, 30 June 2026, 11:03 PM\",-,\n"
                     + "Participant 23456,\"=cmd|' /C calc'!A0\",,Submitted for grading,,30.00,Yes,"
                       "\"Wednesday, 1 July 2026, 9:05 AM\",-,\n"
                     + "Participant 34567,Carla Verdi,,No submission,,30.00,Yes,-,-,\n"
                     + "Participant 99999,Not Here,,Submitted for grading,,30.00,Yes,"
                       "\"Tuesday, 30 June 2026, 10:00 PM\",-,\n", encoding="utf-8")
    times = submission_times(tmp_path / "subs", subs, moodle_csv=sheet)
    by_name = {s.name: s.student for s in subs}
    assert times == {by_name["Alice Rossi"]: datetime(2026, 6, 30, 23, 3, tzinfo=ROME),
                     by_name["Bob Bianchi"]: datetime(2026, 7, 1, 9, 5, tzinfo=ROME)}
    assert late_verdict(times[by_name["Alice Rossi"]], rule()).text.startswith("handed in on time")
    assert late_verdict(times[by_name["Bob Bianchi"]], rule()).penalty == 1


def test_moodle_worksheet_errors(tmp_path):
    subs = moodle_class(tmp_path / "subs")
    sheet = tmp_path / "worksheet.csv"
    sheet.write_text(MOODLE_HEADER + "Participant 12345,A,,,,30,Yes,martedì 30 giugno,-,\n", encoding="utf-8")
    with pytest.raises(ValueError, match="participant 12345: Last modified"):
        submission_times(tmp_path / "subs", subs, moodle_csv=sheet)
    sheet.write_text("Identificativo,Nome completo\nPartecipante 12345,A\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a Moodle grading worksheet in English"):
        submission_times(tmp_path / "subs", subs, moodle_csv=sheet)


def test_plain_csv_times_win_over_the_other_sources(tmp_path, rome_local):
    root = tmp_path / "submitted"
    nbgrader_submission(root, "alice", b"2026-06-20 10:00:00 UTC")
    nbgrader_submission(root, "bob", None)
    subs = discover(root)
    times_csv = tmp_path / "times.csv"
    times_csv.write_text("student,submitted_at\nalice,2026-07-02T10:00:00Z\nbob,2026-06-30T23:30:00\n"
                         "carol,\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"unknown student id\(s\) carol.*alice, bob"):
        submission_times(root, subs, times_csv=times_csv)
    times_csv.write_text("student,submitted_at\nalice,2026-07-02T10:00:00Z\nbob,2026-06-30T23:30:00\n",
                         encoding="utf-8")
    times = submission_times(root, subs, times_csv=times_csv)
    assert times == {"alice": datetime(2026, 7, 2, 10, tzinfo=UTC), "bob": datetime(2026, 6, 30, 23, 30, tzinfo=ROME)}
    assert late_verdict(times["alice"], rule()).days_late == 2
    times_csv.write_text("student,submitted_at\nalice,30/06/2026 23:30\n", encoding="utf-8")
    with pytest.raises(ValueError, match="times.csv:2: '30/06/2026 23:30' is not an ISO 8601 time"):
        submission_times(root, subs, times_csv=times_csv)
