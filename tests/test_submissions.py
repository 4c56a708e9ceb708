"""Submission discovery across layouts, with a verdict for hand-ins that cannot run."""

import os
import re
import time

import nbformat
import pytest

from grader.submissions import discover, student_id


def nb(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), path)
    return path


def test_flat_and_folder_layouts(tmp_path):
    nb(tmp_path / "alice.ipynb")
    nb(tmp_path / "bob" / "project.ipynb")
    (tmp_path / "bob" / "model.keras").write_bytes(b"weights")
    nb(tmp_path / "bob" / ".ipynb_checkpoints" / "project-checkpoint.ipynb")
    subs = {s.student: s for s in discover(tmp_path)}
    assert set(subs) == {"alice", "bob"}
    assert subs["bob"].notebook.name == "project.ipynb" and [f.name for f in subs["bob"].files] == ["model.keras"]
    assert all(s.problem is None for s in subs.values())


def test_nbgrader_and_moodle_layouts(tmp_path):
    nb(tmp_path / "carol" / "exam1" / "exam.ipynb")
    nb(tmp_path / "Dan Østergaard_4242_assignsubmission_file_" / "notebook.ipynb")
    subs = {s.student: s for s in discover(tmp_path)}
    assert subs["carol"].notebook.parent.name == "exam1"
    assert subs["dan_stergaard"].name == "Dan Østergaard"


def test_unrunnable_handins_get_a_verdict(tmp_path):
    (tmp_path / "erin.zip").write_bytes(b"PK\x03\x04")
    nb(tmp_path / "frank" / "a.ipynb")
    nb(tmp_path / "frank" / "b.ipynb")
    (tmp_path / "gina").mkdir()
    (tmp_path / "gina" / "notes.txt").write_text("forgot")
    nb(tmp_path / "hal.ipynb")
    nb(tmp_path / "hal" / "hal.ipynb")
    subs = {s.student: s for s in discover(tmp_path)}
    assert "archive" in subs["erin"].problem
    assert "several notebooks" in subs["frank"].problem
    assert "no notebook" in subs["gina"].problem
    assert "two submissions" in subs["hal"].problem


def test_names_with_spaces_and_accents_get_safe_unique_ids(tmp_path):
    nb(tmp_path / "José Müller.ipynb")
    nb(tmp_path / "Jose Muller.ipynb")
    ids = [s.student for s in discover(tmp_path)]
    assert sorted(ids) == ["jose_muller", "jose_muller-2"]
    assert student_id("  ..  ") == "student"


# --- every entry gets a verdict; hostile names and file types --------------------------------

def found(folder):
    skipped = []
    subs = {s.student: s for s in discover(folder, skipped)}
    return subs, {s.entry: s.reason for s in skipped}


def test_notebook_suffix_in_any_case_and_dot_names(tmp_path):
    nb(tmp_path / "ivan.IPYNB")
    nb(tmp_path / "..ipynb")
    nb(tmp_path / ".hidden.ipynb")
    nb(tmp_path / ".bob" / "work.ipynb")
    subs, skipped = found(tmp_path)
    assert skipped == {}
    assert subs["ivan"].notebook.name == "ivan.IPYNB" and subs["ivan"].name == "ivan"
    assert subs["student"].notebook.name == "..ipynb"  # no letters at all: still a safe id
    assert subs["hidden"].name == ".hidden"
    assert subs["bob"].name == ".bob" and subs["bob"].notebook.name == "work.ipynb"
    assert all(s.problem is None for s in subs.values())


def test_notebook_in_a_dot_folder_is_found_or_reported(tmp_path):
    nb(tmp_path / "carl" / ".work" / "exam.ipynb")  # the only notebook: graded
    nb(tmp_path / "dina" / "exam.ipynb")  # one in plain sight wins, the hidden one is reported
    nb(tmp_path / "dina" / ".old" / "exam.ipynb")
    nb(tmp_path / "dina" / ".ipynb_checkpoints" / "exam-checkpoint.ipynb")  # junk: not reported
    nb(tmp_path / "ed" / ".a" / "one.ipynb")
    nb(tmp_path / "ed" / ".b" / "two.ipynb")
    subs, _ = found(tmp_path)
    assert subs["carl"].problem is None and subs["carl"].notebook.parent.name == ".work"
    assert subs["dina"].notebook == tmp_path / "dina" / "exam.ipynb"
    assert subs["dina"].rejected == [".old/exam.ipynb: a notebook in a hidden folder; ignored (graded exam.ipynb)"]
    assert "several notebooks" in subs["ed"].problem and ".a/one.ipynb" in subs["ed"].problem


def test_junk_and_stray_files_are_skipped_with_a_reason(tmp_path):
    nb(tmp_path / "alice.ipynb")
    for junk in ("__MACOSX", ".ipynb_checkpoints", "__pycache__", ".git", ".Trashes", ".Trash-1000"):
        nb(tmp_path / junk / "alice.ipynb")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (tmp_path / "._alice.ipynb").write_bytes(b"\x00\x05\x16\x07" + b"\x00" * 60)  # macOS AppleDouble
    (tmp_path / "notes.txt").write_text("grading notes")
    subs, skipped = found(tmp_path)
    assert list(subs) == ["alice"]
    assert skipped.pop("notes.txt") == "not a notebook (.ipynb), an archive or a student's folder"
    assert set(skipped) == {"__MACOSX", ".ipynb_checkpoints", "__pycache__", ".git", ".Trashes", ".Trash-1000",
                            ".DS_Store", "._alice.ipynb"}
    assert set(skipped.values()) == {"known junk (macOS/Jupyter metadata)"}
    assert [s.student for s in discover(tmp_path)] == ["alice"]  # the old call still works


def test_symlinks_are_never_followed(tmp_path):
    secret = tmp_path / "hidden"
    secret.mkdir()
    (secret / "labels.npy").write_bytes(b"the answers")
    nb(secret / "someone.ipynb")
    subs_dir = tmp_path / "subs"
    nb(subs_dir / "real" / "a.ipynb")
    (subs_dir / "linked_folder").symlink_to(secret, target_is_directory=True)
    (subs_dir / "linked.ipynb").symlink_to(secret / "someone.ipynb")
    nb(subs_dir / "mia" / "exam.ipynb")
    (subs_dir / "mia" / "model.keras").symlink_to(secret / "labels.npy")
    (subs_dir / "mia" / "deep").mkdir()
    (subs_dir / "mia" / "deep" / "weights.h5").symlink_to(secret / "labels.npy")
    (subs_dir / "mia" / "up").symlink_to(secret, target_is_directory=True)
    (subs_dir / "noah").mkdir()
    (subs_dir / "noah" / "exam.ipynb").symlink_to(secret / "someone.ipynb")
    subs, skipped = found(subs_dir)
    assert skipped == {"linked_folder": "a symbolic link: hand in the file itself",
                       "linked.ipynb": "a symbolic link: hand in the file itself"}
    assert set(subs) == {"real", "mia", "noah"}
    mia = subs["mia"]
    assert mia.problem is None and mia.files == []
    assert mia.rejected == ["deep/weights.h5: a symbolic link, not a file; ignored",
                            "model.keras: a symbolic link, not a file; ignored",
                            "up: a symbolic link, not a file; ignored"]
    assert subs["noah"].notebook is None
    assert subs["noah"].problem == "exam.ipynb: a symbolic link: hand in the file itself"


def test_fifos_and_special_files_do_not_block_or_vanish(tmp_path):
    nb(tmp_path / "olga" / "exam.ipynb")
    os.mkfifo(tmp_path / "olga" / "model.keras")
    os.mkfifo(tmp_path / "pipe.ipynb")
    (tmp_path / "pete").mkdir()
    os.mkfifo(tmp_path / "pete" / "exam.ipynb")
    subs, skipped = found(tmp_path)
    assert skipped == {"pipe.ipynb": "a FIFO, not a file or folder"}
    assert subs["olga"].files == [] and subs["olga"].rejected == ["model.keras: a FIFO, not a file; ignored"]
    assert subs["pete"].problem == "exam.ipynb: a FIFO, not a file: hand in the file itself"


def test_handed_in_files_skip_junk_and_keep_one_file_per_name(tmp_path):
    nb(tmp_path / "rita" / "exam.ipynb")
    (tmp_path / "rita" / "model.keras").write_bytes(b"new")
    (tmp_path / "rita" / "old").mkdir()
    (tmp_path / "rita" / "old" / "model.keras").write_bytes(b"old")
    (tmp_path / "rita" / "__pycache__").mkdir()
    (tmp_path / "rita" / "__pycache__" / "x.pyc").write_bytes(b"junk")
    subs, _ = found(tmp_path)
    assert subs["rita"].files == [tmp_path / "rita" / "model.keras"]
    assert subs["rita"].rejected == ["old/model.keras: the same file name as model.keras; ignored"]


def test_a_folder_of_too_many_files_is_flagged_in_bounded_time(tmp_path):
    nb(tmp_path / "sam" / "exam.ipynb")
    many = tmp_path / "sam" / "many"
    many.mkdir()
    for i in range(20_000):
        (many / f"{i}.bin").touch()
    nb(tmp_path / "tess.ipynb")
    started = time.perf_counter()
    subs, skipped = found(tmp_path)
    elapsed = time.perf_counter() - started
    assert subs["sam"].problem == "the folder holds more than 10,000 files: hand in the notebook and model only"
    assert subs["tess"].problem is None and skipped == {}
    assert elapsed < 5, f"discovery took {elapsed:.2f} s"


def test_odd_names_never_stop_discovery(tmp_path):
    nb(tmp_path / os.fsdecode(b"caf\xe9") / "exam.ipynb")  # Latin-1 bytes from an old zip: not UTF-8
    nb(tmp_path / os.fsdecode(b"x\xff.ipynb"))
    nb(tmp_path / "two\nlines\u202e.ipynb")
    nb(tmp_path / "=SUM(1+2)" / "exam.ipynb")
    subs, skipped = found(tmp_path)
    assert skipped == {}
    names = {s.name for s in subs.values()}
    assert {"caf\\xe9", "x\\xff", "two\\nlines\\u202e", "=SUM(1+2)"} == names
    assert all(re.fullmatch(r"[a-z0-9_-]+", sid) for sid in subs)
    assert (tmp_path / os.fsdecode(b"caf\xe9") / "exam.ipynb") in [s.notebook for s in subs.values()]


def test_unreadable_entries_get_a_verdict(tmp_path, monkeypatch):
    nb(tmp_path / "uma" / "exam.ipynb")
    nb(tmp_path / "vic" / "exam.ipynb")
    (tmp_path / "vic" / "private").mkdir()
    denied = {str(tmp_path / "uma"), str(tmp_path / "vic" / "private")}  # as chmod 0 would (not for root)
    scandir, access = os.scandir, os.access

    def fake_scandir(path="."):
        if str(path) in denied:
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", fake_scandir)
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: str(path) not in denied and access(path, mode, **kw))
    subs, skipped = found(tmp_path)
    assert skipped == {}
    assert subs["uma"].problem == "the folder cannot be read (Permission denied): hand in readable files"
    assert subs["vic"].problem is None
    assert subs["vic"].rejected == ["private/: the folder cannot be read; its files were not looked at"]


def test_missing_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        discover(tmp_path / "nope")


def test_moodle_keeps_the_participant_id(tmp_path):
    nb(tmp_path / "Dan Østergaard_4242_assignsubmission_file_" / "notebook.ipynb")
    (tmp_path / "Dan Østergaard_4242_assignsubmission_onlinetext_").mkdir()
    (tmp_path / "Dan Østergaard_4242_assignsubmission_onlinetext_" / "onlinetext.html").write_text("<p>hi</p>")
    nb(tmp_path / "alice.ipynb")
    subs, skipped = found(tmp_path)
    assert set(subs) == {"dan_stergaard", "alice"}
    assert subs["dan_stergaard"].lms_id == "4242" and subs["dan_stergaard"].name == "Dan Østergaard"
    assert subs["alice"].lms_id is None
    assert list(skipped) == ["Dan Østergaard_4242_assignsubmission_onlinetext_"]


def test_two_moodle_students_with_one_name_stay_apart(tmp_path):
    nb(tmp_path / "Jan Novák_111_assignsubmission_file_" / "a.ipynb")
    nb(tmp_path / "Jan Novák_222_assignsubmission_file_" / "b.ipynb")
    subs, _ = found(tmp_path)
    assert {sid: (s.name, s.lms_id) for sid, s in subs.items()} == {
        "jan_novak-111": ("Jan Novák", "111"), "jan_novak-222": ("Jan Novák", "222")}
    assert all(s.problem is None for s in subs.values())
