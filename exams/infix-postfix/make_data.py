#!/usr/bin/env python3
"""Build the data of the infix-postfix exam, offline and deterministically.

The task: translate a formula written in the usual (infix) notation over the variables ``a``-``e``,
the operators ``+ - * /`` and parentheses, e.g. ``"(a+b)*c"``, into its postfix (reverse Polish)
notation with the tokens separated by one space, ``"a b + c *"``.

Formulas are random expression trees of depth 1 to ``MAX_DEPTH`` (the root is always an operator;
below it, a node is a variable with probability ``P_LEAF`` and always at ``MAX_DEPTH``), operators
and variables drawn uniformly. The infix string has no spaces and only the parentheses the tree
needs: ``*`` and ``/`` bind tighter than ``+`` and ``-``, and operators of one level associate to
the left, so a child is parenthesized when its operator binds less tightly than its parent's, or
as tightly when it is the right operand (``a-(b-c)``, ``a/(b*c)``, ``a+(b+c)``: the tree is kept,
not simplified). Every infix string therefore has exactly one postfix translation.

- PUBLIC (``<out>/public``, zipped for the students; the notebook's ``DATA_DIR``): ``train_inputs.npy``
  / ``train_labels.npy`` (20,000 formulas, seed ``SEED``) and ``val_inputs.npy`` / ``val_labels.npy``
  (2,000, seed ``SEED + 1``), NumPy arrays of Python strings (dtype ``<U``), plus a ``README.txt``.
- HIDDEN (``<out>/hidden``, never given out): ``ROUNDS`` = 10 test sets of 200 formulas each, made
  with the seeds ``HIDDEN_SEED + r`` (r = 0..9), concatenated into ``test_inputs.npy`` and
  ``test_labels.npy`` (2,000 strings), with the round of each row in ``test_rounds.npy`` (int64).
  The grader scores each round separately and reports the mean and standard deviation.

The hidden formulas follow the public distribution exactly; short formulas (there are only 100
with one operator) occur in both, longer ones rarely (the share is printed by the build).

Files are written atomically (temporary name, then rename). A build whose files are all present and
whose stamp matches this recipe is skipped; ``--force`` rebuilds. ``--zip`` also writes
``<out>/infix-postfix-public.zip`` (the public files at its root) for the students.

Usage: python make_data.py [--out DIR] [--force] [--zip]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "data"

# The recipe: change any of these (or RECIPE_VERSION) and the next run rebuilds.
RECIPE_VERSION = 1
SEED = 20241105  # public training formulas; validation: SEED + 1
HIDDEN_SEED = 7_000_000  # hidden round r: HIDDEN_SEED + r
N_TRAIN = 20_000
N_VAL = 2_000
ROUNDS = 10
N_PER_ROUND = 200
MAX_DEPTH = 3
P_LEAF = 0.3
VARIABLES = "abcde"
OPERATORS = "+-*/"
PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}

PUBLIC_FILES = ("train_inputs.npy", "train_labels.npy", "val_inputs.npy", "val_labels.npy", "README.txt")
HIDDEN_FILES = ("test_inputs.npy", "test_labels.npy", "test_rounds.npy")
STAMP = ".recipe.json"

PUBLIC_README = """\
Infix -> postfix -- public data
===============================

Each input is a formula in infix notation over the variables a-e, the operators + - * / and
parentheses, without spaces; its label is the same formula in postfix (reverse Polish) notation,
the tokens separated by one space:

    "(a+b)*c"    ->  "a b + c *"
    "a-(b-c)/d"  ->  "a b c - d / -"

* and / bind tighter than + and -; operators of one level associate to the left; the infix
strings only have the parentheses the expression tree needs. Formulas have 1 to {max_ops}
operators (expression trees of depth 1 to {max_depth}). Every file is a NumPy array of Python
strings (np.load, dtype <U):

  train_inputs.npy  ({n_train},)  infix formulas, training split
  train_labels.npy  ({n_train},)  their postfix translations
  val_inputs.npy    ({n_val},)   infix formulas, validation split (another seed)
  val_labels.npy    ({n_val},)   their postfix translations

Your model is graded on {rounds} HIDDEN test sets of {per_round} formulas each, drawn from the same
distribution with other seeds and passed to your notebook together as TEST_INPUTS (a 1-D array of
{n_test} strings). Save one postfix string per input, in order, as a 1-D array of str:
np.save(PREDICTIONS_PATH, np.array(list_of_strings)). The metric is the share of formulas
translated exactly (whitespace normalized), averaged over the {rounds} test sets.
"""


# ----------------------------------------------------------------------------- formulas

def random_tree(rng: np.random.Generator, depth: int = 0):
    """A variable (str) or a tuple (operator, left, right); the root (depth 0) is an operator."""
    if depth >= MAX_DEPTH or (depth > 0 and rng.random() < P_LEAF):
        return VARIABLES[rng.integers(len(VARIABLES))]
    op = OPERATORS[rng.integers(len(OPERATORS))]
    return (op, random_tree(rng, depth + 1), random_tree(rng, depth + 1))


def infix(tree, parent: str | None = None, right: bool = False) -> str:
    """The formula with only the parentheses the tree needs (no spaces)."""
    if isinstance(tree, str):
        return tree
    op, left, right_child = tree
    text = infix(left, op, False) + op + infix(right_child, op, True)
    if parent is not None and (PRECEDENCE[op] < PRECEDENCE[parent]
                               or (right and PRECEDENCE[op] == PRECEDENCE[parent])):
        return f"({text})"
    return text


def postfix(tree) -> str:
    """The formula in postfix notation, tokens separated by one space."""
    if isinstance(tree, str):
        return tree
    op, left, right = tree
    return f"{postfix(left)} {postfix(right)} {op}"


def shunting_yard(formula: str) -> str:
    """Postfix of an infix formula by Dijkstra's algorithm: an independent check of the generator."""
    out, stack = [], []
    for ch in formula:
        if ch in VARIABLES:
            out.append(ch)
        elif ch in PRECEDENCE:
            while stack and stack[-1] in PRECEDENCE and PRECEDENCE[stack[-1]] >= PRECEDENCE[ch]:
                out.append(stack.pop())
            stack.append(ch)
        elif ch == "(":
            stack.append(ch)
        elif ch == ")":
            while stack[-1] != "(":
                out.append(stack.pop())
            stack.pop()
        else:
            raise ValueError(f"unexpected character {ch!r} in {formula!r}")
    return " ".join(out + stack[::-1])


def make_pairs(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n (infix, postfix) pairs from one seed, as two arrays of str."""
    rng = np.random.default_rng(seed)
    trees = [random_tree(rng) for _ in range(n)]
    inputs, labels = [infix(t) for t in trees], [postfix(t) for t in trees]
    for x, y in zip(inputs, labels):
        if shunting_yard(x) != y:  # the infix string must determine the postfix one
            raise AssertionError(f"generator bug: {x!r} -> {y!r} but shunting-yard gives {shunting_yard(x)!r}")
    return np.array(inputs, dtype=str), np.array(labels, dtype=str)


def build_splits() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    x_train, y_train = make_pairs(SEED, N_TRAIN)
    x_val, y_val = make_pairs(SEED + 1, N_VAL)
    rounds = [make_pairs(HIDDEN_SEED + r, N_PER_ROUND) for r in range(ROUNDS)]
    public = {"train_inputs": x_train, "train_labels": y_train, "val_inputs": x_val, "val_labels": y_val}
    width = max(len(s) for x, _ in rounds for s in x)
    label_width = max(len(s) for _, y in rounds for s in y)
    hidden = {
        "test_inputs": np.concatenate([x for x, _ in rounds]).astype(f"<U{width}"),
        "test_labels": np.concatenate([y for _, y in rounds]).astype(f"<U{label_width}"),
        "test_rounds": np.repeat(np.arange(ROUNDS, dtype=np.int64), N_PER_ROUND),
    }
    return public, hidden


# ----------------------------------------------------------------------------- files

def recipe() -> dict:
    """What the build depends on; stored in the stamp file to know when a rebuild is due."""
    return {"version": RECIPE_VERSION, "seed": SEED, "hidden_seed": HIDDEN_SEED, "n_train": N_TRAIN,
            "n_val": N_VAL, "rounds": ROUNDS, "n_per_round": N_PER_ROUND, "max_depth": MAX_DEPTH,
            "p_leaf": P_LEAF}


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, then rename: no half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; data files are readable like any other
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_array(path: Path, array: np.ndarray) -> None:
    _atomic_write(path, lambda f: np.save(f, array, allow_pickle=False))


def save_text(path: Path, text: str) -> None:
    _atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def up_to_date(out: Path) -> bool:
    try:
        if json.loads((out / STAMP).read_text()) != recipe():
            return False
    except (OSError, ValueError):
        return False
    return (all((out / "public" / n).is_file() for n in PUBLIC_FILES)
            and all((out / "hidden" / n).is_file() for n in HIDDEN_FILES))


def build(out: Path = DEFAULT_OUT, force: bool = False) -> bool:
    """Build the splits into ``out``; return False when they were already up to date."""
    out = Path(out)
    if not force and up_to_date(out):
        return False
    (out / STAMP).unlink(missing_ok=True)  # a build cut short is never taken for up to date
    public, hidden = build_splits()
    for name, array in public.items():
        save_array(out / "public" / f"{name}.npy", array)
    save_text(out / "public" / "README.txt", PUBLIC_README.format(
        n_train=N_TRAIN, n_val=N_VAL, rounds=ROUNDS, per_round=N_PER_ROUND, n_test=ROUNDS * N_PER_ROUND,
        max_depth=MAX_DEPTH, max_ops=2 ** MAX_DEPTH - 1))
    for name, array in hidden.items():
        save_array(out / "hidden" / f"{name}.npy", array)
    save_text(out / STAMP, json.dumps(recipe(), indent=2) + "\n")
    return True


def make_zip(out: Path = DEFAULT_OUT) -> Path:
    """Zip the public folder for the students (files at the archive's root); return the zip."""
    out = Path(out)
    target = out / "infix-postfix-public.zip"

    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in PUBLIC_FILES:
                archive.write(out / "public" / name, arcname=name)

    _atomic_write(target, write)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder ({DEFAULT_OUT})")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    parser.add_argument("--zip", action="store_true", help="also zip the public folder for the students")
    args = parser.parse_args(argv)
    built = build(args.out, force=args.force)
    test = np.load(args.out / "hidden" / "test_inputs.npy")
    public = set(np.load(args.out / "public" / "train_inputs.npy")) | set(np.load(args.out / "public" / "val_inputs.npy"))
    seen = np.mean([s in public for s in test])
    print(f"{'built' if built else 'up to date'}: {args.out}/public ({N_TRAIN} train + {N_VAL} val formulas), "
          f"{args.out}/hidden ({ROUNDS} rounds x {N_PER_ROUND}); {seen:.1%} of the hidden formulas also "
          "occur in the public data")
    if args.zip:
        print(f"students' archive: {make_zip(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
