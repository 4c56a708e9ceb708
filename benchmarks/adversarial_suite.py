"""The adversarial suite runs in bounded time: each attack's duration beside the bound it must stay under.

    python -m benchmarks.adversarial_suite [--jobs 2]

Runs every hostile-input test (tests/test_adversarial.py, tests/test_sandbox.py, tests/adversarial/)
with pytest and prints, per test, the seconds it took, its timeout (the `timeout` mark: the bound the
test enforces on itself) and the share of the bound used, then the suite's wall time. A test near its
bound is an attack that almost escaped a limit.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
TARGETS = ["tests/test_adversarial.py", "tests/test_sandbox.py", "tests/adversarial/"]


def _bounds() -> dict[str, float]:
    """test node id -> its timeout mark, read with pytest's own collection."""
    code = (
        "import json, sys, pytest\n"
        "class P:\n"
        "    out = {}\n"
        "    def pytest_collection_modifyitems(self, items):\n"
        "        for it in items:\n"
        "            m = it.get_closest_marker('timeout')\n"
        "            self.out[it.nodeid] = float(m.args[0]) if m and m.args else None\n"
        "p = P()\n"
        f"pytest.main(['-q', '--collect-only', '-p', 'no:cacheprovider', *{TARGETS!r}], plugins=[p])\n"
        "print('BOUNDS', json.dumps(p.out))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True).stdout
    import json

    line = next(ln for ln in out.splitlines() if ln.startswith("BOUNDS "))
    return json.loads(line[len("BOUNDS "):])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    bounds = _bounds()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", str(args.jobs), "--dist", "loadgroup",
                               f"--junitxml={report}", *TARGETS], cwd=REPO, capture_output=True, text=True)
        wall = time.perf_counter() - started
        cases = ET.parse(report).getroot().iter("testcase")
        rows = []
        for case in cases:
            nodeid = case.get("classname", "").replace(".", "/") + ".py::" + case.get("name", "")
            outcome = "failed" if case.find("failure") is not None or case.find("error") is not None else (
                "skipped" if case.find("skipped") is not None else "passed")
            bound = next((b for n, b in bounds.items() if n.endswith(nodeid.split("/", 1)[-1])), None)
            rows.append((nodeid, float(case.get("time", 0)), bound, outcome))
    table = Table(title=f"adversarial suite: {len(rows)} tests, wall time {wall:.0f} s with -n {args.jobs}")
    for col in ("test", "seconds", "bound (s)", "share of bound", "outcome"):
        table.add_column(col)
    for nodeid, seconds, bound, outcome in sorted(rows, key=lambda r: -r[1]):
        share = f"{seconds / bound:.0%}" if bound else "-"
        table.add_row(nodeid.split("/")[-1], f"{seconds:.1f}", f"{bound:g}" if bound else "-", share, outcome)
    Console(width=170).print(table)
    print(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-500:])
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
