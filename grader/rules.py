"""Exam rules checked on a submission: forbidden imports, pretrained weights, parameter budget.

Imports and pretrained weights are read statically from the notebook's code (the sandbox also
has no network, so a download would fail anyway; the static check says *why* to the student).
Every violation quotes the line it is about. Code is never executed here, and a cell too large to
check (hostile input for ``ast.parse``) is reported instead of being parsed.

The parameter budget is measured on the model file by ``grader.model_params``, which reads the
shapes of the saved weight tensors with h5py: nothing in the file is executed or deserialized,
and neither TensorFlow nor Keras is started. It runs in a sandboxed child with time and memory
limits (``grader.model_count``): libhdf5 parsing hostile bytes must not hang the grader.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

import nbformat

from grader.exam import Exam
from grader.model_count import count_parameters_isolated
from grader.model_params import ModelFileError

MAX_CELL_CHARS = 1_000_000  # a code cell longer than this is not parsed (nor honest)
MAX_CODE_CHARS = 4_000_000  # code parsed per notebook
QUOTE_CHARS = 100
PRETRAINED_CALLS = {"get_file", "from_pretrained", "from_preset", "KerasLayer", "load_from_hub"}
PRETRAINED_MODULES = {"tensorflow_hub", "keras_hub", "keras_nlp", "transformers", "huggingface_hub",
                      "timm", "torchvision"}
# The model constructors of keras.applications (Keras 3.12, plus the RegNet and ResNetRS families of
# tf.keras 2), listed here so that no check imports Keras.
APPLICATIONS = frozenset({
    "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge",
    "DenseNet121", "DenseNet169", "DenseNet201",
    "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3", "EfficientNetB4",
    "EfficientNetB5", "EfficientNetB6", "EfficientNetB7",
    "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
    "EfficientNetV2L", "EfficientNetV2M", "EfficientNetV2S",
    "InceptionResNetV2", "InceptionV3", "MobileNet", "MobileNetV2", "MobileNetV3Large",
    "MobileNetV3Small", "NASNetLarge", "NASNetMobile",
    "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2",
    "VGG16", "VGG19", "Xception",
    *(f"RegNet{kind}{size}" for kind in "XY"
      for size in ("002", "004", "006", "008", "016", "032", "040", "064", "080", "120", "160", "320")),
    *(f"ResNetRS{depth}" for depth in (50, 101, 152, 200, 270, 350, 420)),
})
KNOWN_DOWNLOADS = {"imagenet", "imagenet21k", "imagenet21k-ft1k", "noisy-student"}  # weights=<name>
LOCAL_WEIGHTS_SUFFIXES = (".h5", ".hdf5", ".keras", ".npz", ".ckpt", ".index", ".pb", ".pt", ".pth")
FORBIDS = "which this exam forbids"


# --- reading the code --------------------------------------------------------------------------------

class _Cell:
    def __init__(self, index: int, lines: list[str], tree: ast.AST | None):
        self.index, self.lines, self.tree = index, lines, tree

    def where(self, node: ast.AST) -> str:
        """'cell 4, line 2: <the line, quoted>' for a node of this cell."""
        lineno = getattr(node, "lineno", 1)
        text = self.lines[lineno - 1].strip() if 0 < lineno <= len(self.lines) else ""
        if len(text) > QUOTE_CHARS:
            text = text[:QUOTE_CHARS - 1] + "…"
        return f"cell {self.index + 1}, line {lineno}: {text}"


def _source(cell) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(map(str, source))


def _without_magics(source: str) -> list[str]:
    """The cell's lines with IPython magics and shell escapes (% and !) blanked: line numbers hold."""
    return ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]


def _cells(nb: nbformat.NotebookNode) -> Iterator[_Cell]:
    """Every code cell, parsed; tree is None for a cell that is not Python (or too large to check)."""
    budget = MAX_CODE_CHARS
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        source = _source(cell)
        if len(source) > MAX_CELL_CHARS or len(source) > budget:
            yield _Cell(index, [], None)
            continue
        budget -= len(source)
        lines = _without_magics(source)
        try:
            tree = ast.parse("\n".join(lines))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            tree = None  # the run reports syntax errors with the cell; nothing to check statically
        yield _Cell(index, lines, tree)


def unchecked_cells(nb: nbformat.NotebookNode) -> list[str]:
    """Violations for the code cells too large to check (see _cells): the rules cannot vouch for them."""
    found, budget = [], MAX_CODE_CHARS
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        size = len(_source(cell))
        if size > MAX_CELL_CHARS:
            found.append(f"cell {index + 1} holds {size:,} characters of code, more than the "
                         f"{MAX_CELL_CHARS:,} the exam rules check in a cell: keep data in files, not in code")
        elif size > budget:
            found.append(f"cell {index + 1} brings the notebook over the {MAX_CODE_CHARS:,} characters of code "
                         "the exam rules check: keep data in files, not in code")
        else:
            budget -= size
    return found


def _imports(tree: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """(module, node) for every import: import x, from x import y, import_module('x'), __import__('x')."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module, node
            for alias in node.names:  # `from sklearn import datasets` imports sklearn.datasets
                if alias.name != "*":
                    yield f"{node.module}.{alias.name}", node
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")):
            yield node.args[0].value, node


def _dotted(node: ast.AST) -> str | None:
    """'keras.applications.ResNet50' for the callee of keras.applications.ResNet50(...), else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


class _Applications:
    """Which callees of a notebook are keras.applications models: names reached through
    ``applications.``, imported from it (under any alias), or a constructor name not defined locally."""

    def __init__(self, trees: list[ast.AST]):
        self.modules: set[str] = set()  # local names bound to keras.applications or one of its modules
        self.constructors: dict[str, str] = {}  # local name -> constructor name
        self.local: set[str] = set()  # names the notebook defines itself
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.asname and "applications" in alias.name.split("."):
                            self.modules.add(alias.asname)
                elif isinstance(node, ast.ImportFrom) and node.module:
                    from_apps = "applications" in node.module.split(".")
                    for alias in node.names:
                        bound = alias.asname or alias.name
                        if alias.name == "*" and from_apps:
                            self.constructors.update({name: name for name in APPLICATIONS})
                        elif from_apps and alias.name in APPLICATIONS:
                            self.constructors[bound] = alias.name
                        elif from_apps or alias.name == "applications":
                            self.modules.add(bound)
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    self.local.add(node.name)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    self.local.add(node.id)
        for tree in trees:  # Net = keras.applications.ResNet50: Net(...) builds a ResNet50
            for node in ast.walk(tree):
                if (isinstance(node, ast.Assign) and len(node.targets) == 1
                        and isinstance(node.targets[0], ast.Name)
                        and isinstance(node.value, (ast.Name, ast.Attribute))):
                    constructor = self.callee(node.value)[1]
                    if constructor:
                        self.constructors[node.targets[0].id] = constructor

    def callee(self, func: ast.AST) -> tuple[bool, str | None]:
        """(is a keras.applications callee, its constructor name if it builds a model)."""
        dotted = _dotted(func)
        if dotted is None:
            return False, None
        parts = dotted.split(".")
        last = parts[-1]
        if len(parts) == 1:
            if last in self.constructors:
                return True, self.constructors[last]
            if last in APPLICATIONS and last not in self.local:
                return True, last
            return False, None
        if "applications" in parts[:-1] or parts[0] in self.modules:
            return True, last if last in APPLICATIONS else None
        if last in APPLICATIONS:
            return True, last
        return False, None


def _weights_violation(call: ast.Call, apps: _Applications) -> str | None:
    """Why this call loads pretrained weights, or None."""
    is_app, constructor = apps.callee(call.func)
    keyword = next((kw for kw in call.keywords if kw.arg == "weights"), None)
    if keyword is not None:
        value = keyword.value
        if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
            return None  # weights=None, or an array / variable: nothing downloaded by name
        name = value.value.strip()
        if name.lower() in KNOWN_DOWNLOADS:
            label = {"imagenet": "ImageNet", "imagenet21k": "ImageNet-21k",
                     "imagenet21k-ft1k": "ImageNet-21k"}.get(name.lower(), repr(name))
            return f"loads pretrained {label} weights"
        if is_app and not name.lower().endswith(LOCAL_WEIGHTS_SUFFIXES):
            return f"loads the pretrained weights {name!r}"
        return None
    if constructor is None or any(kw.arg is None for kw in call.keywords):
        return None  # not a model constructor, or **kwargs may hold weights=
    named = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if any(n.strip().lower() in KNOWN_DOWNLOADS for n in named):
        return "loads pretrained ImageNet weights"
    if not call.args:
        return f"loads pretrained ImageNet weights (the default of {constructor}: pass weights=None)"
    return None  # positional arguments: whether one of them is weights= is not known statically


# --- the rules ---------------------------------------------------------------------------------------

def forbidden_imports(nb: nbformat.NotebookNode, forbidden: tuple[str, ...]) -> list[str]:
    """Violations such as "cell 4, line 1: import requests — imports requests, which this exam forbids"."""
    found = []
    for cell in _cells(nb):
        if cell.tree is None:
            continue
        flagged: set[int] = set()  # one violation per import statement
        for module, node in _imports(cell.tree):
            if (module.split(".")[0] in forbidden or module in forbidden) and id(node) not in flagged:
                flagged.add(id(node))
                found.append(f"{cell.where(node)} — imports {module}, {FORBIDS}")
        if forbidden:  # an import by a computed name could be any module: the rule cannot be checked
            for node in _computed_imports(cell.tree):
                found.append(f"{cell.where(node)} — imports a module whose name is computed at run time, so "
                             f"the exam's forbidden imports ({', '.join(forbidden)}) cannot be checked; "
                             "write the import literally")
    return found


def _computed_imports(tree: ast.AST) -> Iterator[ast.AST]:
    """__import__(expr), importlib.import_module(expr) and the like whose name is not a literal string."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and node.args
                and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")
                and not (isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str))):
            yield node


def pretrained_weights(nb: nbformat.NotebookNode) -> list[str]:
    """Violations: weights='imagenet' (or a keras.applications model's default or named download),
    hub models, get_file downloads; each quotes its line and says why."""
    cells = [cell for cell in _cells(nb) if cell.tree is not None]
    apps = _Applications([cell.tree for cell in cells])
    found = []
    for cell in cells:
        for node in ast.walk(cell.tree):
            if not isinstance(node, ast.Call):
                continue
            why = _weights_violation(node, apps)
            if why:
                found.append(f"{cell.where(node)} — {why}, {FORBIDS}")
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in PRETRAINED_CALLS:
                found.append(f"{cell.where(node)} — {name}(...) downloads pretrained files, {FORBIDS}")
        hubs = {id(node): (module, node) for module, node in reversed(list(_imports(cell.tree)))
                if module.split(".")[0] in PRETRAINED_MODULES}  # one per statement, its first module
        found += [f"{cell.where(node)} — uses {module}, a hub of pretrained models, {FORBIDS}"
                  for module, node in hubs.values()]
    return found


def static_violations(nb: nbformat.NotebookNode, exam: Exam) -> list[str]:
    violations = []
    if exam.limits.forbidden_imports or exam.limits.forbid_pretrained:
        violations += unchecked_cells(nb)
    violations += forbidden_imports(nb, exam.limits.forbidden_imports)
    if exam.limits.forbid_pretrained:
        violations += pretrained_weights(nb)
    return violations


def parameter_budget(model_file: Path | None, exam: Exam) -> tuple[int | None, list[str]]:
    """(number of parameters, violations) of the model file, counted from its weight shapes.

    Counted when the exam has a budget or a bonus for fewer parameters; only a budget makes violations."""
    budget = exam.limits.max_parameters
    if budget is None and exam.grading.parameter_bonus is None:
        return None, []
    if model_file is None or not os.path.lexists(model_file):
        if budget is None:
            return None, []
        return None, [f"no model file {exam.limits.model_file!r} to check the parameter budget "
                      f"({budget:,}): the notebook must save its model to MODEL_PATH"]
    try:
        n = count_parameters_isolated(Path(model_file))
    except ModelFileError as exc:
        why = (f"the model file {Path(model_file).name} cannot be read to count its parameters: "
               f"{str(exc)[:400]}")
        return None, [why] if budget is not None else []  # bonus only: no bonus, no violation
    if budget is not None and n > budget:
        return n, [f"the model has {n:,} parameters, over the budget of {budget:,}"]
    return n, []
