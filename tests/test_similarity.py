"""grader.similarity: copydetect finds copied code between hand-ins, the exam template never counts."""

from __future__ import annotations

import csv
import json
import os
import random
import time
from pathlib import Path

import nbformat
import pytest

from grader.similarity import code_of, register, similarity_report

v4 = nbformat.v4
HOSTILE = "<script>alert(1)</script>"

TEMPLATE_CELLS = [
    'GRADING = False\nDATA_DIR = "data/public"\nTEST_INPUTS = "data/public/val_inputs.npy"\n'
    'PREDICTIONS_PATH = "predictions.npy"\nMODEL_PATH = "model.keras"',
    "import os\nimport numpy as np\nimport keras\nfrom keras import layers\n\n"
    'x_train = np.load(os.path.join(DATA_DIR, "train_inputs.npy"))\n'
    'y_train = np.load(os.path.join(DATA_DIR, "train_labels.npy"))\n'
    'print("training data:", x_train.shape, y_train.shape, "classes:", np.unique(y_train))',
    "def evaluate_and_save(model, inputs_path, predictions_path):\n"
    "    x_test = np.load(inputs_path)\n"
    "    predictions = np.argmax(model.predict(x_test, verbose=0), axis=-1).astype('int64')\n"
    "    np.save(predictions_path, predictions)\n"
    "    return predictions",
]
TEMPLATE_END = "predictions = evaluate_and_save(model, TEST_INPUTS, PREDICTIONS_PATH)\nprint(predictions[:10])"

# Alice's own work, cell by cell; the copies below are made from it.
ALICE = [
    "def standardize(features, mean=None, std=None):\n"
    "    if mean is None:\n"
    "        mean, std = features.mean(axis=0), features.std(axis=0) + 1e-7\n"
    "    return (features - mean) / std, mean, std\n\n"
    "x_scaled, feature_mean, feature_std = standardize(x_train)\n"
    "rng = np.random.default_rng(seed=42)\n"
    "order = rng.permutation(len(x_scaled))\n"
    "split = int(0.8 * len(order))\n"
    "train_idx, val_idx = order[:split], order[split:]",
    "def build_model(hidden_units, dropout_rate, learning_rate):\n"
    "    inputs = keras.Input(shape=(x_scaled.shape[1],))\n"
    "    hidden = layers.Dense(hidden_units, activation='relu')(inputs)\n"
    "    hidden = layers.Dropout(dropout_rate)(hidden)\n"
    "    hidden = layers.Dense(hidden_units // 2, activation='relu')(hidden)\n"
    "    outputs = layers.Dense(3, activation='softmax')(hidden)\n"
    "    net = keras.Model(inputs, outputs)\n"
    "    net.compile(optimizer=keras.optimizers.Adam(learning_rate), loss='sparse_categorical_crossentropy',\n"
    "                metrics=['accuracy'])\n"
    "    return net",
    "results = {}\n"
    "for units in (16, 32):\n"
    "    for rate in (0.1, 0.3):\n"
    "        candidate = build_model(units, rate, 1e-3)\n"
    "        history = candidate.fit(x_scaled[train_idx], y_train[train_idx], epochs=30, batch_size=16,\n"
    "                                validation_data=(x_scaled[val_idx], y_train[val_idx]), verbose=0)\n"
    "        results[(units, rate)] = max(history.history['val_accuracy'])\n"
    "        print(units, rate, results[(units, rate)])\n"
    "best_units, best_rate = max(results, key=results.get)",
    "import matplotlib.pyplot as plt\n"
    "fig, ax = plt.subplots(figsize=(6, 4))\n"
    "labels = [f'{u} units, dropout {r}' for (u, r) in results]\n"
    "ax.barh(labels, list(results.values()), color='tab:blue')\n"
    "ax.set_xlabel('best validation accuracy')\n"
    "ax.set_title('Grid search over width and dropout')\n"
    "plt.tight_layout()\n"
    "plt.show()",
    "model = build_model(best_units, best_rate, 1e-3)\n"
    "early = keras.callbacks.EarlyStopping(monitor='loss', patience=5, restore_best_weights=True)\n"
    "model.fit(x_scaled, y_train, epochs=60, batch_size=16, callbacks=[early], verbose=0)\n"
    "model.save(MODEL_PATH)",
]

RENAMES = {"standardize": "normalise", "features": "data", "mean": "mu", "std": "sigma", "x_scaled": "xs",
           "feature_mean": "m0", "feature_std": "s0", "rng": "gen", "order": "perm", "split": "cut",
           "train_idx": "tr", "val_idx": "va", "build_model": "make_net", "hidden_units": "width",
           "dropout_rate": "drop", "learning_rate": "lr", "inputs": "inp", "hidden": "h", "outputs": "out",
           "net": "mdl", "results": "scores", "units": "w", "rate": "d", "candidate": "trial",
           "history": "hist", "best_units": "bw", "best_rate": "bd", "early": "stopper", "fig": "figure",
           "ax": "axes", "labels": "names"}


def renamed(code: str) -> str:
    import re

    return re.sub(r"\b(" + "|".join(RENAMES) + r")\b", lambda m: RENAMES[m.group(0)], code)


# Independent work: other approaches, written differently.
ERIN = [
    "from sklearn.model_selection import train_test_split\n"
    "xa, xb, ya, yb = train_test_split(x_train, y_train, test_size=0.25, stratify=y_train, random_state=1)\n"
    "norm = layers.Normalization()\nnorm.adapt(xa)",
    "model = keras.Sequential([norm, layers.Dense(8), layers.LeakyReLU(), layers.Dense(3)])\n"
    "model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),\n"
    "              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=['accuracy'])\n"
    "log = model.fit(xa, ya, validation_data=(xb, yb), epochs=80, verbose=0)\n"
    "print('final validation accuracy', log.history['val_accuracy'][-1])",
    "wrong = np.flatnonzero(np.argmax(model.predict(xb, verbose=0), 1) != yb)\n"
    "print(len(wrong), 'mistakes on', len(yb), 'held-out rows; first ones:', xb[wrong[:5]])\n"
    "model.save(MODEL_PATH)",
]
FRANK = [
    "class Classifier(keras.Model):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.body = [layers.Dense(24, activation='tanh') for _ in range(3)]\n"
    "        self.head = layers.Dense(3)\n\n"
    "    def call(self, batch):\n"
    "        for block in self.body:\n"
    "            batch = block(batch)\n"
    "        return self.head(batch)",
    "clf = Classifier()\n"
    "clf.compile('rmsprop', keras.losses.SparseCategoricalCrossentropy(from_logits=True), ['accuracy'])\n"
    "for epoch_block in range(4):\n"
    "    clf.fit(x_train / np.abs(x_train).max(), y_train, epochs=10, shuffle=True, verbose=0)\n"
    "    print('after', 10 * (epoch_block + 1), 'epochs:', clf.evaluate(x_train, y_train, verbose=0))\n"
    "model = clf\nmodel.save(MODEL_PATH)",
]


def notebook(*code_cells: str, template: bool = True):
    cells = [v4.new_markdown_cell("# Tiny exam\nPredict the class of each row.")]
    if template:
        cells.append(v4.new_code_cell(TEMPLATE_CELLS[0], metadata={"tags": ["parameters"]}))
        cells += [v4.new_code_cell(c) for c in TEMPLATE_CELLS[1:]]
    cells += [v4.new_code_cell(c) for c in code_cells]
    if template:
        cells.append(v4.new_code_cell(TEMPLATE_END))
    return v4.new_notebook(cells=cells)


def write_class(folder: Path) -> tuple[dict[str, Path], Path]:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook(), folder / "template.ipynb")
    copied = [c.replace("30", "35").replace("figsize=(6, 4)", "figsize=(7, 4)") for c in ALICE]  # tweaks
    reordered = [renamed(c) for c in ALICE]
    reordered = [reordered[0], reordered[3], reordered[1], reordered[2], reordered[4]]  # the plot moves up
    reordered.insert(2, "# my own notes\nprint('Data looks balanced enough')")
    students = {
        "alice": notebook(*ALICE),
        "bob": notebook(*copied),
        HOSTILE: notebook(*reordered),
        "dave": notebook(),  # the template alone
        "erin": notebook(*ERIN),
        "frank": notebook(*FRANK),
    }
    students["alice"].cells.insert(3, v4.new_code_cell("%matplotlib inline\n!pip install nothing"))
    paths = {}
    for n, (name, nb) in enumerate(students.items()):
        paths[name] = folder / f"s{n}.ipynb"
        nbformat.write(nb, paths[name])
    return paths, folder / "template.ipynb"


def by_pair(pairs):
    return {frozenset((p.a, p.b)): p for p in pairs}


def test_copies_are_flagged_and_the_template_never_counts(tmp_path):
    paths, template = write_class(tmp_path / "class")
    started = time.perf_counter()
    pairs = similarity_report(paths, template, tmp_path / "out", threshold=0.5)
    print(f"6 students: {time.perf_counter() - started:.2f} s")
    found = by_pair(pairs)
    copy = found[frozenset(("alice", "bob"))]
    assert min(copy.similarity_a, copy.similarity_b) > 0.8, copy
    sneaky = found[frozenset(("alice", HOSTILE))]  # renamed variables, reordered cells
    assert min(sneaky.similarity_a, sneaky.similarity_b) > 0.5, sneaky
    assert frozenset(("bob", HOSTILE)) in found
    assert len(found) == 3, [(p.a, p.b, p.similarity_a, p.similarity_b) for p in pairs]  # no one else
    assert pairs == sorted(pairs, key=lambda p: -max(p.similarity_a, p.similarity_b))
    for p in pairs:
        print(f"{p.a} ~ {p.b}: {p.similarity_a:.2f} / {p.similarity_b:.2f}, {len(p.matched_lines)} blocks")
    # the cells moved: some of alice's later lines match earlier lines of the copy
    ra, rb = zip(*sneaky.matched_lines) if sneaky.a == "alice" else zip(*[(b, a) for a, b in sneaky.matched_lines])
    assert any(a.start > b.start + 5 for a, b in zip(ra, rb)) and any(b.start > a.start + 5 for a, b in zip(ra, rb))

    # the template-only student: zero against everyone, even those who kept the template too
    everything = by_pair(similarity_report(paths, template, tmp_path / "all", threshold=0.0))
    assert not [k for k in everything if "dave" in k]
    independent = [everything.get(frozenset(k)) for k in (("alice", "erin"), ("erin", "frank"), ("alice", "frank"))]
    assert all(p is None or max(p.similarity_a, p.similarity_b) < 0.3 for p in independent), independent

    # without the template as boilerplate, everyone who kept it looks alike
    no_template = by_pair(similarity_report(paths, None, tmp_path / "raw", threshold=0.5))
    assert frozenset(("dave", "erin")) in no_template


def test_html_and_csv(tmp_path):
    paths, template = write_class(tmp_path / "class")
    out = tmp_path / "out"
    pairs = similarity_report(paths, template, out)
    page = (out / "similarity.html").read_text()
    assert "INSTRUCTOR ONLY" in page[:1000]
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page and "http" not in page and "src=" not in page  # self-contained, no scripts
    assert page.count("class='side'") == len(pairs)
    assert "<mark>" in page and "build_model" in page and "make_net" in page  # both sides of the renamed copy
    sneaky = by_pair(pairs)[frozenset(("alice", HOSTILE))]
    for lines in (r for pair in sneaky.matched_lines for r in pair):
        assert f"lines {lines.start}–{lines.stop - 1} (from cell " in page
    with open(out / "similarity.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["a"], r["b"]) for r in rows] == [(p.a, p.b) for p in pairs]
    assert 0.8 < float(rows[0]["similarity_a"]) <= 1


def test_same_scores_whatever_the_hash_seed(tmp_path):
    """copydetect hashes k-grams with Python's hash(), salted per process: the report must not change."""
    import subprocess
    import sys

    paths, template = write_class(tmp_path / "class")
    script = ("import json, sys; from pathlib import Path; from grader.similarity import similarity_report; "
              "paths = {k: Path(v) for k, v in json.loads(sys.argv[1]).items()}; "
              "similarity_report(paths, Path(sys.argv[2]), Path(sys.argv[3]), threshold=0.0)")
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out{seed}"
        subprocess.run([sys.executable, "-c", script, json.dumps({k: str(v) for k, v in paths.items()}),
                        str(template), str(out)], check=True, cwd=Path(__file__).resolve().parents[1],
                       env={**os.environ, "PYTHONHASHSEED": seed})
        outputs.append((out / "similarity.csv").read_text())
    assert outputs[0] == outputs[1] and outputs[0].count("\n") > 3


def test_csv_cells_cannot_be_formulas(tmp_path):
    paths, template = write_class(tmp_path / "class")
    paths["=HYPERLINK(\"http://x\")"] = paths.pop("bob")
    similarity_report(paths, template, tmp_path / "out")
    text = (tmp_path / "out" / "similarity.csv").read_text()
    assert "'=HYPERLINK" in text and '"=HYPERLINK' not in text


def test_code_of_drops_magics_outputs_and_injected_parameters(tmp_path):
    nb = v4.new_notebook(cells=[
        v4.new_code_cell('# Parameters\nGRADING = True\nDATA_DIR = "/x"\n', metadata={"tags": ["injected-parameters"]}),
        v4.new_markdown_cell("words"),
        v4.new_code_cell("%time x = 1\n!ls\ny = 2"),
        v4.new_code_cell("   "),
        v4.new_code_cell("z = copied(1)", metadata={"tags": ["injected-parameters"]}),  # hiding code: no
    ])
    nb.cells[2].outputs = [v4.new_output("stream", name="stdout", text="OUTPUT TEXT")]
    nbformat.write(nb, tmp_path / "n.ipynb")
    code = code_of(tmp_path / "n.ipynb", 10_000)
    assert code == "# cell 3\ny = 2\n\n# cell 5\nz = copied(1)\n"
    with pytest.raises(Exception, match="limit"):
        code_of(tmp_path / "n.ipynb", 100)


def test_bad_notebooks_are_skipped_with_a_reason(tmp_path):
    paths, template = write_class(tmp_path / "class")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "corrupt.ipynb").write_text('{"cells": [ {"cell_type": "code", "sou')
    (bad / "empty.ipynb").write_bytes(b"")
    (bad / "link.ipynb").symlink_to(paths["alice"])  # a copy by symlink is never followed
    nbformat.write(v4.new_notebook(cells=[v4.new_markdown_cell("no code at all")]), bad / "words.ipynb")
    lone = json.loads(nbformat.writes(v4.new_notebook(cells=[v4.new_code_cell("x = 'S' * 3")])))
    lone["cells"][0]["source"] = "x = '\ud800' * 3"  # a lone surrogate: valid JSON, not encodable UTF-8
    (bad / "surrogate.ipynb").write_text(json.dumps(lone))
    for name in ("corrupt", "empty", "link", "words", "surrogate"):
        paths[name] = bad / f"{name}.ipynb"
    skipped = []
    pairs = similarity_report(paths, template, tmp_path / "out", threshold=0.0, skipped=skipped)
    reasons = {s.entry: s.reason for s in skipped}
    assert set(reasons) == {"corrupt", "empty", "link"}, reasons
    assert "JSON" in reasons["corrupt"] and "empty" in reasons["empty"] and "symlink" in reasons["link"]
    assert not [p for p in pairs if {"words", "surrogate"} & {p.a, p.b}]
    page = (tmp_path / "out" / "similarity.html").read_text()
    assert "Not compared" in page and "corrupt" in page


def test_repeated_code_keeps_its_fingerprints(tmp_path):
    """copydetect's boilerplate= argument would drop the first copy of every repeated fingerprint."""
    from grader.similarity import _fingerprint

    code = "layer = layers.Dense(units, activation=activation, kernel_initializer=init)(layer)\n" * 4
    (tmp_path / "t.py").write_text("")
    plain = _fingerprint(code, tmp_path / "a.py", 25, 25)
    unrelated = _fingerprint("import os\nprint(os.path.join(first, second, third), os.getcwd())\n",
                             tmp_path / "b.py", 25, 25).hashes
    with_boilerplate = _fingerprint(code, tmp_path / "c.py", 25, 25, frozenset(unrelated))
    assert with_boilerplate.token_coverage == plain.token_coverage == len(plain.filtered_code)


def synthetic_student(rng: random.Random, n: int) -> list[str]:
    """Small code from common Keras idioms. Names and strings are erased before matching, so many of
    these students look alike (only numbers differ): a worst case for the number of pairs to detail."""
    width, depth, epochs = rng.choice([8, 16, 32, 64]), rng.randint(1, 4), rng.randint(5, 50)
    act = rng.choice(["relu", "tanh", "gelu", "elu"])
    layers_code = "\n".join(f"    layers.Dense({width // (i + 1)}, activation='{act}')," for i in range(depth))
    cells = [f"model_{n} = keras.Sequential([\n{layers_code}\n    layers.Dense(3),\n])",
             f"model_{n}.compile(optimizer='{rng.choice(['adam', 'sgd', 'rmsprop'])}', "
             "loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=['accuracy'])",
             f"hist_{n} = model_{n}.fit(x_train, y_train, epochs={epochs}, batch_size={rng.choice([8, 16, 32])}, "
             f"validation_split=0.{rng.randint(1, 3)}, verbose=0)\nmodel = model_{n}"]
    extras = [f"print(max(hist_{n}.history['val_accuracy']), {rng.random():.3f})",
              f"for i in range({rng.randint(2, 9)}):\n    print(i, x_train[i], y_train[i] * {rng.randint(2, 5)})",
              f"counts = np.bincount(y_train, minlength=3)\nprint(counts / counts.sum() > {rng.random():.2f})",
              f"model.summary()\nprint('parameters:', model.count_params() - {rng.randint(1, 99)})"]
    return cells + rng.sample(extras, rng.randint(1, 3))


@pytest.mark.slow
def test_a_class_of_200_runs_in_bounded_time(tmp_path):
    rng = random.Random(7)
    folder = tmp_path / "class"
    folder.mkdir()
    nbformat.write(notebook(), folder / "template.ipynb")
    paths = {}
    for n in range(200):
        paths[f"student_{n:03d}"] = folder / f"{n}.ipynb"
        nbformat.write(notebook(*synthetic_student(rng, n)), paths[f"student_{n:03d}"])
    paths["copycat"] = folder / "copycat.ipynb"  # one copy hidden in the crowd
    nbformat.write(nbformat.read(paths["student_123"], as_version=4), paths["copycat"])
    started = time.perf_counter()
    pairs = similarity_report(paths, folder / "template.ipynb", tmp_path / "out", threshold=0.9)
    seconds = time.perf_counter() - started
    print(f"201 students, {201 * 200 // 2} pairs: {seconds:.1f} s, {len(pairs)} flagged")
    assert seconds < 60
    assert frozenset(("copycat", "student_123")) in by_pair(pairs)


def test_cli(tmp_path, capsys):
    import argparse

    from tests.exam_factory import make_exam

    paths, template = write_class(tmp_path / "class")
    exam = make_exam(tmp_path / "exam", extra="")
    toml = (exam / "exam.toml").read_text().replace('mode = "retrain"', f'mode = "retrain"\ntemplate = "{template}"')
    (exam / "exam.toml").write_text(toml)
    hand_ins = tmp_path / "handins"
    hand_ins.mkdir()
    for name, path in paths.items():
        if name != HOSTILE:
            (hand_ins / f"{name}.ipynb").write_bytes(path.read_bytes())
    (hand_ins / "broken.ipynb").write_text("not json")
    out = tmp_path / "out"
    out.mkdir()
    (out / "exam.json").write_text(json.dumps({"exam_dir": str(exam)}))
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["similarity", str(out), "--submissions", str(hand_ins), "--threshold", "0.4"])
    assert args.run(args) == 0
    printed = capsys.readouterr().out
    assert "similar: alice ~ bob:" in printed and "skipped broken" in printed
    assert "dave" not in printed and (out / "similarity.html").is_file()
    # without --submissions: the executed copies (papermill's injected cell is ignored)
    executed = out / "executed"
    executed.mkdir()
    for name in ("alice", "bob", "dave"):
        nb = nbformat.read(paths[name], as_version=4)
        nb.cells.insert(1, v4.new_code_cell("GRADING = True\nDATA_DIR = '/x/y/z/public/data/folder'\n"
                                            "TEST_INPUTS = '/x/y/z/hidden/test_inputs.npy'",
                                            metadata={"tags": ["injected-parameters"]}))
        nbformat.write(nb, executed / f"{name}.ipynb")
    args = parser.parse_args(["similarity", str(out)])
    assert args.run(args) == 0
    printed = capsys.readouterr().out
    assert "alice ~ bob" in printed and "dave" not in printed.split("pair(s)")[0]
    args = parser.parse_args(["similarity", str(out), "--threshold", "2"])
    with pytest.raises(ValueError, match="threshold"):
        args.run(args)


def test_report_is_not_linked_from_public_pages():
    root = Path(__file__).resolve().parents[1] / "grader"
    for public in ("leaderboard.py", "report.py"):
        assert "similarity.html" not in (root / public).read_text()
