"""Hostile hand-ins against the whole grading path (discover -> stage -> sandbox -> score -> report).

Each test hands in what a student who wants the hidden labels, or a better grade than earned, would
hand in, and asserts the harm did not happen: no code ran outside the sandbox, no label was reached,
no verdict or budget was bent, the batch went on. All of it on a NumPy-only exam (no TensorFlow).
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
import zipfile
from pathlib import Path

import h5py
import nbformat
import numpy as np
import pytest

from grader import sandbox
from grader.cli import main
from tests.exam_factory import PARAMS, RULE, make_exam, student_notebook

from .harness import printed_outputs, unbound_dir

pytestmark = [
    pytest.mark.skipif(not sandbox.isolation_available()[0], reason="needs bubblewrap"),
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.xdist_group("handin_attacks"),
]

SHADOWED = ("ctypes", "resource", "signal", "os", "json", "sitecustomize", "usercustomize")
HALF_RIGHT = RULE + "\npred[::2] = (pred[::2] + 1) % 3"


def read_grades(out: Path) -> dict[str, dict]:
    with open(out / "grades.csv", newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def shadow_module(name: str, marker_dir: Path, labels: Path) -> str:
    """A module named like a standard one: if anything imports it, it becomes the real module (so the
    importer keeps working), then tries to leave a marker on the host and to copy the labels out."""
    become_real = "" if name.endswith("customize") else f"""
_here = _sys.modules[__name__].__file__.rsplit("/", 1)[0]
_saved = list(_sys.path)
_sys.path[:] = [p for p in _sys.path if p not in ("", ".", _here)]
del _sys.modules[__name__]
_real = __import__("importlib").import_module({name!r})
_sys.path[:] = _saved
_sys.modules[__name__] = _real
"""
    return f"""import sys as _sys
{become_real}
def _attack():
    import os, shutil
    try:
        with open(os.path.join({str(marker_dir)!r}, {name!r} + "-" + str(os.getpid())), "w") as f:
            f.write(repr(_sys.argv))
    except OSError:
        pass
    try:
        shutil.copyfile({str(labels)!r}, "stolen_labels.npy")
    except OSError:
        pass
    try:
        with open("imported_by.log", "a") as f:
            f.write({name!r} + " " + repr(_sys.argv[:1]) + "\\n")
    except OSError:
        pass
_attack()
"""


def test_shadowed_standard_modules_never_run_outside_the_sandbox(tmp_path):
    """ctypes.py, os.py, json.py, sitecustomize.py ... and a .pth beside the notebook: the host-side
    launcher and the papermill runner must import none of them; the labels stay out of reach."""
    with unbound_dir("host-marker-") as marker_dir:
        extra = "".join(f'\n[[limits.extra_files]]\nname = "{n}.py"\nmax_mb = 1\n' for n in SHADOWED)
        extra += '\n[[limits.extra_files]]\nname = "evil.pth"\nmax_mb = 1\n'
        exam = make_exam(tmp_path / "exam", max_parameters=None)
        spec = (exam / "exam.toml").read_text().replace("[grading]", extra + "\n[grading]")
        (exam / "exam.toml").write_text(spec)
        labels = exam / "data" / "hidden" / "test_labels.npy"
        sub = tmp_path / "subs" / "mallory"
        sub.mkdir(parents=True)
        for name in SHADOWED:
            (sub / f"{name}.py").write_text(shadow_module(name, marker_dir, labels))
        (sub / "evil.pth").write_text(
            f"import os; open(os.path.join({str(marker_dir)!r}, 'pth-' + str(os.getpid())), 'w').write('x')\n")
        nb = student_notebook(
            HALF_RIGHT,
            "import os\nif os.path.exists('stolen_labels.npy'):\n    pred = np.load('stolen_labels.npy')\n"
            "np.save(PREDICTIONS_PATH, pred)",
            # control: the kernel is the student's own process and may import its files; the attack code
            # works there (it logs), yet nothing reaches the host
            "import usercustomize\n"
            "print('LOG', open('imported_by.log').read() if os.path.exists('imported_by.log') else '')")
        nbformat.write(nb, sub / "mallory.ipynb")
        # the honest twin: the same predictions without any attack
        nbformat.write(student_notebook(HALF_RIGHT, "np.save(PREDICTIONS_PATH, pred)"),
                       tmp_path / "subs" / "honest.ipynb")
        out = tmp_path / "out"
        assert main(["grade", str(exam), str(tmp_path / "subs"), "--out", str(out), "--require-sandbox"]) == 0
        assert sorted(os.listdir(marker_dir)) == []  # nothing ran on the host
    # the copies handed to the sandbox are gone (--keep-work keeps them); the predictions are kept
    assert not any((out / "work").glob("*/*")) and (out / "predictions" / "mallory.npy").is_file()
    g = read_grades(out)
    assert g["mallory"]["failure_class"] == "", g["mallory"]
    assert float(g["mallory"]["metric"]) == float(g["honest"]["metric"]) < 0.99
    executed = nbformat.read(out / "executed" / "mallory.ipynb", as_version=4)
    log_lines = [ln for ln in executed.cells[-1].outputs[0].text.splitlines() if ln]
    assert any(line.startswith(("LOG usercustomize", "usercustomize")) for line in log_lines), log_lines
    # the kernel (the student's own process) may import its own files; the runner ('-c') never does
    assert all("'-c'" not in line for line in log_lines), log_lines


def test_forged_status_and_killed_runner_cannot_turn_a_failure_into_a_score(tmp_path):
    exam = make_exam(tmp_path / "exam", max_parameters=None)
    subs = tmp_path / "subs"
    subs.mkdir()
    forge = ("import os, json\nos.makedirs('.grader', exist_ok=True)\n"
             "json.dump({'status': 'ok'}, open('.grader/status.json', 'w'))\nos.chmod('.grader', 0o500)\n"
             "np.save(PREDICTIONS_PATH, pred)")
    nbformat.write(student_notebook(RULE, forge, "raise ValueError('the real result')"), subs / "forger.ipynb")
    kill = "np.save(PREDICTIONS_PATH, pred)\nimport os, signal\nos.kill(os.getppid(), signal.SIGKILL)"
    nbformat.write(student_notebook(RULE, kill, "print('after')"), subs / "killer.ipynb")
    out = tmp_path / "out"
    assert main(["grade", str(exam), str(subs), "--out", str(out)]) == 0
    g = read_grades(out)
    assert g["forger"]["failure_class"] == "exception" and "the real result" in g["forger"]["message"]
    assert g["killer"]["failure_class"] == "dead_kernel", g["killer"]
    assert g["forger"]["metric"] == "" == g["killer"]["metric"]


def fake_keras_file(path: Path, shapes: list[tuple[int, ...]]) -> Path:
    """A .keras archive whose weights have the given shapes (enough to count parameters)."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        for i, shape in enumerate(shapes):
            h5.create_dataset(f"layers/dense_{i}/vars/0", data=np.zeros(shape, "float32"))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", "{}")
        z.writestr("metadata.json", "{}")
        z.writestr("model.weights.h5", buffer.getvalue())
    return path


def test_budget_is_counted_on_the_handed_in_model_which_stays_read_only(tmp_path):
    """A notebook cannot swap MODEL_PATH for a small model after predicting with a big one, and an
    undeclared aux.keras is never given to it."""
    exam = make_exam(tmp_path / "exam", mode="weights", max_parameters=1000)
    subs = tmp_path / "subs"
    for name, shapes in (("big", [(100, 100)]), ("small", [(10, 10)])):
        (subs / name).mkdir(parents=True)
        fake_keras_file(subs / name / "model.keras", shapes)
        fake_keras_file(subs / name / "aux.keras", [(1000, 1000)])
        swap = ("import os\ntry:\n    open(MODEL_PATH, 'wb').write(b'small now')\n    print('SWAPPED')\n"
                "except OSError as e:\n    print('REFUSED', type(e).__name__)\n"
                "print('AUX', os.path.exists('aux.keras'))\nnp.save(PREDICTIONS_PATH, pred)")
        nbformat.write(student_notebook(RULE, swap), subs / name / f"{name}.ipynb")
    out = tmp_path / "out"
    assert main(["grade", str(exam), str(subs), "--out", str(out)]) == 0
    g = read_grades(out)
    assert g["big"]["failure_class"] == "rule_broken" and "10,000 parameters" in g["big"]["message"]
    assert g["big"]["parameters"] == "10000" and g["small"]["parameters"] == "100"
    assert g["small"]["failure_class"] == "" and float(g["small"]["metric"]) == 1.0
    text = printed_outputs(out / "executed" / "small.ipynb")
    assert "REFUSED" in text and "SWAPPED" not in text and "AUX False" in text
    record = json.loads((out / "results" / "small.json").read_text())
    assert any("aux.keras" in n and "not given" in n for n in record["notes"])


def test_symlinks_huge_files_and_odd_entries_never_stop_the_batch(tmp_path):
    exam = make_exam(tmp_path / "exam", mode="weights", max_parameters=None)
    labels = exam / "data" / "hidden" / "test_labels.npy"
    marker = b"LABELMARKER-" + os.urandom(8).hex().encode()
    secret = labels.parent / "secret.bin"  # beside the labels: a marker that must never be copied
    secret.write_bytes(marker * 100)
    subs = tmp_path / "subs"
    good = student_notebook(RULE, "np.save(PREDICTIONS_PATH, pred)")
    # a model.keras symlinked to the hidden files
    (subs / "linker").mkdir(parents=True)
    nbformat.write(good, subs / "linker" / "linker.ipynb")
    (subs / "linker" / "model.keras").symlink_to(secret)
    # a notebook that is itself a symlink to the labels
    (subs / "nblink.ipynb").symlink_to(secret)
    # a 1 TiB sparse file beside the notebook (and as the model)
    (subs / "sparse").mkdir()
    nbformat.write(good, subs / "sparse" / "sparse.ipynb")
    with open(subs / "sparse" / "huge.bin", "wb") as f:
        f.truncate(2**40)
    with open(subs / "sparse" / "model.keras", "wb") as f:
        f.truncate(2**40)
    # names: suffix case, a dot-folder, a formula-looking folder, a FIFO, stray junk
    (subs / "=SUM(2+5)").mkdir()
    fake_keras_file(subs / "=SUM(2+5)" / "model.keras", [(2, 2)])
    nbformat.write(good, subs / "=SUM(2+5)" / "nb.ipynb")
    (subs / "ivan").mkdir()
    fake_keras_file(subs / "ivan" / "model.keras", [(2, 2)])
    nbformat.write(good, subs / "ivan" / "ivan.IPYNB")
    (subs / ".bob").mkdir()
    fake_keras_file(subs / ".bob" / "model.keras", [(2, 2)])
    nbformat.write(good, subs / ".bob" / "bob.ipynb")
    os.mkfifo(subs / "pipe.ipynb")
    (subs / "notes.txt").write_text("stray")
    (subs / "__MACOSX").mkdir()
    out = tmp_path / "out"
    started = time.monotonic()
    assert main(["grade", str(exam), str(subs), "--out", str(out)]) == 0
    assert time.monotonic() - started < 300
    g = read_grades(out)
    assert g["linker"]["failure_class"] == "invalid_submission"  # its model was refused, not followed
    assert g["sparse"]["failure_class"] == "invalid_submission" and "too large" in json.dumps(
        json.loads((out / "results" / "sparse.json").read_text())["notes"])
    assert g["ivan"]["failure_class"] == "" and g["bob"]["failure_class"] == ""
    assert any(row["name"].startswith("'=") for row in g.values())  # a name, never a formula
    skipped = (out / "skipped.csv").read_text()
    for entry in ("nblink.ipynb", "pipe.ipynb", "notes.txt", "__MACOSX"):
        assert entry in skipped or entry.removesuffix(".ipynb") in g, entry
    for path in out.rglob("*"):  # nothing of the hidden folder was copied into the output folder
        if path.is_file() and not path.is_symlink():
            assert marker not in path.read_bytes(), path


def test_a_hide_that_does_not_hide_refuses_to_grade(tmp_path, monkeypatch):
    """At start-up the grader proves every hidden path is invisible in the sandbox; when one is not
    (here: the hiding step sabotaged), it refuses with exit status 2 before any notebook runs."""
    import sys

    from grader.sandbox import bwrap

    with unbound_dir("env-"):
        inside_env = Path(sys.prefix) / "share" / "dl-course-kit-sandbox-tests" / f"leak-{os.getpid()}"
        inside_env.mkdir(parents=True, exist_ok=True)
        (inside_env / "labels_copy.npy").write_bytes(b"secret")
        try:
            exam = make_exam(tmp_path / "exam", max_parameters=None)
            spec = (exam / "exam.toml").read_text().replace(
                'validation_labels = "data/public/val_labels.npy"',
                f'validation_labels = "data/public/val_labels.npy"\nhide = ["{inside_env}"]')
            (exam / "exam.toml").write_text(spec)
            subs = tmp_path / "subs"
            subs.mkdir()
            nbformat.write(student_notebook(RULE, "np.save(PREDICTIONS_PATH, pred)"), subs / "a.ipynb")
            assert main(["grade", str(exam), str(subs), "--out", str(tmp_path / "ok")]) == 0
            monkeypatch.setattr(bwrap, "inside_paths", lambda host_path, binds: [])
            assert main(["grade", str(exam), str(subs), "--out", str(tmp_path / "refused")]) == 2
            assert not (tmp_path / "refused" / "results").exists()
        finally:
            for p in inside_env.iterdir():
                p.unlink()
            inside_env.rmdir()


def test_notebook_text_bombs_are_read_in_bounded_time(tmp_path):
    """Colab-line disabling and parameter-cell detection are linear in the notebook's size."""
    from grader.notebook import normalize_notebook

    cells = [nbformat.v4.new_code_cell("\n" * 40_000 + "x = 1"),
             nbformat.v4.new_code_cell(" " * 200_000 + "\t\n" * 20_000),
             nbformat.v4.new_code_cell("!" + " " * 100_000 + "pi"),
             nbformat.v4.new_code_cell(PARAMS.replace("\n", "\n" + " \n" * 10_000))]
    path = tmp_path / "bomb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    started = time.perf_counter()
    normalize_notebook(path)
    assert time.perf_counter() - started < 5
