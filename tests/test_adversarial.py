"""Hostile notebooks (tests/adversarial/*.ipynb) against grader.execute: every attack is contained,
every limit is reported with its own class. Each attack is bounded by itself."""

from __future__ import annotations

import numpy as np
import pytest

from grader import sandbox
from grader.sandbox import Limits

from .adversarial.harness import fake_exam, loopback_server, printed_outputs

pytestmark = pytest.mark.skipif(not sandbox.isolation_available()[0], reason="needs bubblewrap")


@pytest.fixture(scope="module")
def exam():
    with fake_exam() as e:
        yield e


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_memory_bomb_is_out_of_memory(exam):
    r = exam.run("memory_bomb", limits=Limits(wall_seconds=180, memory_bytes=512 * 2**20))
    assert r.status == "out_of_memory", r
    assert "512.0 MiB" in r.message and "cell 3" in r.message


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_fork_bomb_is_too_many_processes(exam):
    r = exam.run("fork_bomb", limits=Limits(wall_seconds=180, max_processes=64))
    assert r.status == "too_many_processes", r


@pytest.mark.timeout(240)
def test_print_flood_is_output_too_large(exam):
    r = exam.run("print_flood", limits=Limits(wall_seconds=180, max_output_bytes=5 * 2**20))
    assert r.status == "output_too_large", r
    assert r.executed_notebook is not None
    assert r.executed_notebook.stat().st_size < 5 * 2**20 + 2**20 * 5
    assert "output stopped here" in printed_outputs(r.executed_notebook)


@pytest.mark.timeout(240)
def test_big_file_is_file_too_large(exam):
    r = exam.run("big_file", limits=Limits(wall_seconds=180, max_file_bytes=20 * 2**20))
    assert r.status == "file_too_large", r


@pytest.mark.timeout(240)
def test_hidden_labels_cannot_be_read(exam):
    attack = {
        "paths": [str(exam.labels), str(exam.folder / "data" / "hidden" / "test_labels.npy"),
                  str(exam.test_inputs.parent / "test_labels.npy"), "../hidden/test_labels.npy"],
        "marker_hex": exam.marker.hex(),
    }
    r = exam.run("steal_labels", attack=attack)
    assert r.status == "ok", r
    found = np.load(r.predictions, allow_pickle=True).tolist()
    assert found == ["none"], found
    text = printed_outputs(r.executed_notebook)
    assert exam.marker.decode() not in text and exam.marker.hex() not in text
    assert "blocked" in text and "searched" in text


@pytest.mark.timeout(240)
def test_no_network_to_the_host(exam):
    with loopback_server() as server:
        r = exam.run("network", attack={"hosts": ["127.0.0.1", "localhost"], "port": server["port"]})
    assert r.status == "ok", r
    assert server["accepted"] == 0
    text = printed_outputs(r.executed_notebook)
    assert "CONNECTED" not in text and "blocked 127.0.0.1" in text, text


@pytest.mark.timeout(240)
def test_writing_outside_scratch_fails(exam):
    other = exam.other_result
    before = other.read_text()
    attack = {"write": [str(other), str(exam.labels), str(exam.out / "new.txt"), "/etc/hacked"],
              "delete": [str(other), str(exam.folder)]}
    r = exam.run("write_outside", attack=attack)
    assert r.status == "ok", r
    assert other.read_text() == before
    assert exam.labels.is_file() and np.load(exam.labels).tolist() == [exam.marker]
    assert not (exam.out / "new.txt").exists()
    text = printed_outputs(r.executed_notebook)
    assert "WROTE" not in text and "DELETED" not in text


@pytest.mark.timeout(240)
def test_symlinked_outputs_are_not_followed(exam):
    r = exam.run("symlink_outputs", attack={"predictions_target": str(exam.labels),
                                            "model_target": "/etc/passwd"})
    assert r.status == "ok", r
    assert r.predictions is None and r.model_file is None
    assert any("not a regular file" in n or "symlink" in n for n in r.notes), r.notes


@pytest.mark.timeout(240)
def test_monkeypatching_numpy_stays_inside(exam):
    r = exam.run("monkeypatch_numpy")
    assert r.status == "ok", r
    assert "patched" in printed_outputs(r.executed_notebook)
    # the grader's own numpy is untouched
    assert np.load(r.predictions).tolist() == [0] * 6
    assert np.mean(np.array([1.0, 3.0])) == 2.0
    assert not np.array_equal(np.zeros(2), np.ones(2))
