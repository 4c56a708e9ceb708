"""Grading on a Dask cluster: a distributed.LocalCluster with two worker processes gives the same
grades.csv as the local process pool, and a worker killed mid-batch loses nothing."""

from __future__ import annotations

import importlib.util
import threading
import time

import nbformat
import pytest

from grader.cli import main
from tests.exam_factory import RULE, make_exam, student_notebook

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("distributed") is None,
                       reason="the dask extra is not installed (pip install -e .[dask])"),
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.xdist_group("dask"),
]

CLASS = {
    "amy": [RULE, "np.save(PREDICTIONS_PATH, pred)"],
    "ben": [RULE, "pred[::3] = 0\nnp.save(PREDICTIONS_PATH, pred)"],
    "cat": [RULE, "raise RuntimeError('oops')"],
    "dan": [RULE, "pred[::2] = 2\nnp.save(PREDICTIONS_PATH, pred)"],
    "eve": [RULE, "import time\ntime.sleep(4)\nnp.save(PREDICTIONS_PATH, pred)"],
}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("dask")
    exam = make_exam(root / "exam", max_parameters=None)
    subs = root / "subs"
    subs.mkdir()
    for name, code in CLASS.items():
        nbformat.write(student_notebook(*code, prose=True), subs / f"{name}.ipynb")
    local = root / "local"
    assert main(["grade", str(exam), str(subs), "--out", str(local), "--jobs", "2"]) == 0
    return root, exam, subs, local


def test_local_cluster_gives_the_same_grades_as_the_local_pool(graded_class):
    from distributed import LocalCluster

    root, exam, subs, local = graded_class
    out = root / "cluster"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert main(["grade", str(exam), str(subs), "--out", str(out), "--dask", cluster.scheduler_address]) == 0
    assert (out / "grades.csv").read_text() == (local / "grades.csv").read_text()


def test_a_worker_killed_mid_batch_loses_nothing(graded_class):
    from distributed import Client, LocalCluster

    root, exam, subs, local = graded_class
    out = root / "killed"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        client = Client(cluster)
        killed: list[str] = []

        def kill_one_worker_when_busy():
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                busy = [w for w, tasks in client.processing().items() if tasks]
                if busy:
                    killed.append(busy[0])
                    try:
                        client.run(lambda: __import__("os")._exit(1), workers=[busy[0]])
                    except Exception:  # noqa: BLE001 - the worker dies while answering
                        pass
                    return
                time.sleep(0.2)

        killer = threading.Thread(target=kill_one_worker_when_busy, daemon=True)
        killer.start()
        status = main(["grade", str(exam), str(subs), "--out", str(out), "--dask", cluster.scheduler_address])
        killer.join(timeout=5)
        client.close()
    assert killed, "no worker was busy: the kill was never tried"
    # distributed reschedules the lost task on the surviving worker; a rerun resumes whatever is left
    if status != 0 or len(list((out / "results").glob("*.json"))) < len(CLASS):
        assert main(["grade", str(exam), str(subs), "--out", str(out), "--jobs", "1"]) == 0
    assert (out / "grades.csv").read_text() == (local / "grades.csv").read_text()
