"""Exam rules checked on a submission: forbidden imports, pretrained weights, parameter budget.

Imports and pretrained weights are read statically from the notebook's code (the sandbox also
has no network, so a download would fail anyway; the static check says *why* to the student).
The parameter budget is measured on the model file by ``grader.count_params``, run inside the
sandbox, because loading a student's model file is loading untrusted data.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import nbformat

from grader.exam import Exam

MAGIC_LINE = re.compile(r"^\s*[%!].*$", re.M)
PRETRAINED_CALLS = {"get_file", "from_pretrained", "from_preset", "KerasLayer", "load_from_hub"}
PRETRAINED_MODULES = {"tensorflow_hub", "keras_hub", "keras_nlp", "transformers", "huggingface_hub",
                      "timm", "torchvision"}


def _code_trees(nb: nbformat.NotebookNode):
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            yield index, ast.parse(MAGIC_LINE.sub("", cell.source))
        except SyntaxError:
            continue  # the run reports syntax errors with the cell; nothing to check statically


def _imported_modules(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")):
            names.append(node.args[0].value)
    return names


def forbidden_imports(nb: nbformat.NotebookNode, forbidden: tuple[str, ...]) -> list[str]:
    """Violations such as "cell 4 imports requests (forbidden by the exam)"."""
    found = []
    for index, tree in _code_trees(nb):
        for module in _imported_modules(tree):
            top = module.split(".")[0]
            if top in forbidden or module in forbidden:
                found.append(f"cell {index + 1} imports {module} (forbidden by the exam)")
    return found


def pretrained_weights(nb: nbformat.NotebookNode) -> list[str]:
    """Violations: weights='imagenet' (or any named download), hub models, get_file downloads."""
    found = []
    for index, tree in _code_trees(nb):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                for kw in node.keywords:
                    if (kw.arg == "weights" and isinstance(kw.value, ast.Constant)
                            and isinstance(kw.value.value, str) and not kw.value.value.endswith((".h5", ".keras"))):
                        found.append(f"cell {index + 1} loads pretrained weights ({name}(weights="
                                     f"{kw.value.value!r}))")
                if name in PRETRAINED_CALLS:
                    found.append(f"cell {index + 1} calls {name}(...), which downloads pretrained files")
        found += [f"cell {index + 1} uses {m}, a hub of pretrained models" for m in _imported_modules(tree)
                  if m.split(".")[0] in PRETRAINED_MODULES]
    return found


def static_violations(nb: nbformat.NotebookNode, exam: Exam) -> list[str]:
    violations = forbidden_imports(nb, exam.limits.forbidden_imports)
    if exam.limits.forbid_pretrained:
        violations += pretrained_weights(nb)
    return violations


def parameter_budget(model_file: Path | None, exam: Exam, work_dir: Path) -> tuple[int | None, list[str]]:
    """(number of parameters, violations) of the model file, measured inside the sandbox."""
    budget = exam.limits.max_parameters
    if budget is None:
        return None, []
    if model_file is None or not model_file.is_file():
        return None, [f"no model file {exam.limits.model_file!r} to check the parameter budget "
                      f"({budget:,}): the notebook must save its model to MODEL_PATH"]
    from grader import sandbox  # imported late: the static checks need no sandbox

    scratch = work_dir / "count-params"
    scratch.mkdir(parents=True, exist_ok=True)
    staged = scratch / model_file.name
    staged.write_bytes(model_file.read_bytes())
    result = sandbox.run_sandboxed(
        [sys.executable, "-m", "grader.count_params", staged.name], scratch=scratch,  # relative: cwd is scratch
        hide=exam.hide, limits=sandbox.Limits(wall_seconds=180, memory_bytes=4 * 2**30))
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
    if result.failure or not lines:
        why = result.message if result.failure else (result.stderr.strip().splitlines() or ["?"])[-1]
        return None, [f"the model file {model_file.name} cannot be loaded safely to count its "
                      f"parameters ({why[:300]})"]
    info = json.loads(lines[-1])
    if "error" in info:
        return None, [f"the model file {model_file.name} cannot be loaded safely: {info['error'][:300]}"]
    n = int(info["parameters"])
    if n > budget:
        return n, [f"the model has {n:,} parameters, over the budget of {budget:,}"]
    return n, []
