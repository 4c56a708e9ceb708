"""The persisted manual review (OUT/manual_review.json): survives reloads, refuses unknown ids and bad
values, and a crash mid-write leaves the old file."""

from __future__ import annotations

import json
import os
import threading

import pytest

from grader import review_store
from grader.quality.manual import ManualScore
from grader.results import Record, ResultStore

KNOWN = {"s001", "s002", "s003"}
NAMES = {"s001": "Ada Lovelace", "s002": "Alan Turing", "s003": "Grace Hopper"}


def test_nothing_reviewed_yet_is_empty(tmp_path):
    assert review_store.load(tmp_path) == {}
    assert not review_store.path(tmp_path).exists()


def test_scores_survive_a_reload(tmp_path):
    review_store.set_score(tmp_path, "s001", 4.5, 6, "Clear plots, thin discussion.")
    review_store.set_score(tmp_path, "s002", 6, 6)
    loaded = review_store.load(tmp_path)
    assert set(loaded) == {"s001", "s002"}
    s = loaded["s001"]
    assert (s.student, s.score, s.max_score, s.comment, s.source) == (
        "s001", 4.5, 6.0, "Clear plots, thin discussion.", "review page")
    assert s.fraction == pytest.approx(0.75)
    raw = json.loads(review_store.path(tmp_path).read_text(encoding="utf-8"))
    assert set(raw["s001"]) == {"score", "max", "comment", "source", "updated"}
    assert raw["s001"]["updated"].startswith("20")  # ISO time

    # a second process / a later run sees the same
    review_store.set_score(tmp_path, "s001", 5, 6, "Revised.")
    assert review_store.load(tmp_path)["s001"].score == 5.0
    assert review_store.load(tmp_path)["s002"].score == 6.0


def test_clear_and_save(tmp_path):
    review_store.set_score(tmp_path, "s001", 1, 2)
    assert review_store.clear(tmp_path, "s001") is True
    assert review_store.clear(tmp_path, "s001") is False
    assert review_store.load(tmp_path) == {}
    review_store.save(tmp_path, {"s003": ManualScore("s003", 0.5, 1.0, "ok", "manual.csv:2")})
    assert review_store.load(tmp_path)["s003"].source == "manual.csv:2"


def test_unchanged_entry_keeps_its_time(tmp_path):
    review_store.set_score(tmp_path, "s001", 1, 2, "x")
    review_store.set_score(tmp_path, "s002", 1, 2, "y")
    before = review_store.entries(tmp_path)
    before["s001"]["updated"] = "2020-01-01T00:00:00+00:00"
    review_store.path(tmp_path).write_text(json.dumps(before))
    review_store.import_scores(tmp_path, {"s001": ManualScore("s001", 1, 2, "x", "review page"),
                                          "s002": ManualScore("s002", 2, 2, "y", "review page")}, KNOWN)
    after = review_store.entries(tmp_path)
    assert after["s001"]["updated"] == "2020-01-01T00:00:00+00:00"
    assert after["s002"]["updated"] != "2020-01-01T00:00:00+00:00"


def test_import_merges(tmp_path):
    review_store.set_score(tmp_path, "s001", 3, 6, "from the page")
    imported = review_store.import_scores(tmp_path, {
        "s002": ManualScore("s002", 0.5, 1.0, "csv", "manual.csv:3"),
        "s003": ManualScore("s003", 1.0, 1.0, "", "manual.csv:4"),
    }, KNOWN, NAMES)
    assert imported == ["s002", "s003"]
    loaded = review_store.load(tmp_path)
    assert set(loaded) == KNOWN
    assert loaded["s001"].comment == "from the page"  # kept
    assert loaded["s002"].source == "manual.csv:3"


def test_unknown_key_lists_the_known_ids_and_writes_nothing(tmp_path):
    review_store.set_score(tmp_path, "s001", 3, 6)
    before = review_store.path(tmp_path).read_bytes()
    with pytest.raises(ValueError) as err:
        review_store.import_scores(tmp_path, {"s002": ManualScore("s002", 1, 1),
                                              "nobody": ManualScore("nobody", 1, 1)}, KNOWN, NAMES)
    message = str(err.value)
    assert "'nobody'" in message
    for student in KNOWN:
        assert student in message
    assert review_store.path(tmp_path).read_bytes() == before  # all or nothing: s002 not written either


def test_display_name_key_suggests_the_id(tmp_path):
    with pytest.raises(ValueError, match=r"'Alan Turing' is the display name of 's002'"):
        review_store.import_scores(tmp_path, {"Alan Turing": ManualScore("Alan Turing", 1, 1)}, KNOWN, NAMES)
    with pytest.raises(ValueError, match=r"'alan turing' is the display name of 's002'"):
        review_store.import_scores(tmp_path, {"alan turing": ManualScore("alan turing", 1, 1)}, KNOWN, NAMES)
    with pytest.raises(ValueError, match=r"did you mean 's001'"):
        review_store.import_scores(tmp_path, {"S001": ManualScore("S001", 1, 1)}, KNOWN, NAMES)
    assert not review_store.path(tmp_path).exists()


def test_roster_reads_the_results(tmp_path):
    store = ResultStore(tmp_path)
    for student, name in NAMES.items():
        store.save(Record(student=student, name=name, notebook=None, fingerprint="f"))
    assert review_store.roster(tmp_path) == NAMES


@pytest.mark.parametrize("score, maximum, comment, problem", [
    (-0.5, 6, "", "outside"),
    (6.5, 6, "", "outside"),
    (1, 0, "", "max must be positive"),
    (0, -2, "", "max must be positive"),
    (float("nan"), 6, "", "finite"),
    (1, float("inf"), "", "finite"),
    ("5", 6, "", "finite number"),
    (True, 6, "", "finite number"),
    (1, 6, "x" * 5_001, "at most 5000"),
    (1, 6, None, "comment must be text"),
])
def test_bad_values_are_refused(tmp_path, score, maximum, comment, problem):
    with pytest.raises(ValueError, match=problem):
        review_store.set_score(tmp_path, "s001", score, maximum, comment)
    with pytest.raises(ValueError, match=problem):
        review_store.import_scores(tmp_path, {"s001": ManualScore("s001", score, maximum, comment)}, KNOWN)
    assert not review_store.path(tmp_path).exists()


def test_limits_themselves_are_accepted(tmp_path):
    review_store.set_score(tmp_path, "s001", 0, 6, "x" * 5_000)
    review_store.set_score(tmp_path, "s002", 6, 6)
    assert review_store.load(tmp_path)["s002"].fraction == 1.0


def test_a_damaged_file_is_an_error_not_silence(tmp_path):
    review_store.path(tmp_path).write_text('{"s001": {"score": 9, "max": 6}}')
    with pytest.raises(ValueError, match="outside"):
        review_store.load(tmp_path)
    review_store.path(tmp_path).write_text('{"s001": ')
    with pytest.raises(ValueError, match="not valid JSON"):
        review_store.load(tmp_path)
    with pytest.raises(ValueError, match="not valid JSON"):  # and is not overwritten by a merge
        review_store.set_score(tmp_path, "s002", 1, 1)
    assert review_store.path(tmp_path).read_text() == '{"s001": '


def test_crash_during_replace_leaves_the_old_file(tmp_path, monkeypatch):
    review_store.set_score(tmp_path, "s001", 3, 6, "first")
    before = review_store.path(tmp_path).read_bytes()

    def crash(src, dst):
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        review_store.set_score(tmp_path, "s001", 5, 6, "second")
    monkeypatch.undo()
    assert review_store.path(tmp_path).read_bytes() == before
    assert review_store.load(tmp_path)["s001"].comment == "first"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_keeps_the_old_file(tmp_path):
    review_store.set_score(tmp_path, "s001", 3, 6, "first")
    before = review_store.path(tmp_path).read_bytes()
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(OSError):
            review_store.set_score(tmp_path, "s001", 5, 6, "second")
    finally:
        tmp_path.chmod(0o700)
    assert review_store.path(tmp_path).read_bytes() == before


def test_concurrent_saves_lose_nothing(tmp_path):
    students = [f"t{i:02d}" for i in range(24)]
    threads = [threading.Thread(target=review_store.set_score, args=(tmp_path, s, 1, 2, s)) for s in students]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(review_store.load(tmp_path)) == students
