"""Load and validate an exam folder's ``exam.toml`` (see grader/CONTRACTS.md for every key).

Invalid specs fail fast with an ``ExamError`` naming the key and what is wrong, before any
submission runs.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader import metrics
from grader.exam_toml import _MISSING, ExamError, _Spec
from grader.kinds import KINDS

if TYPE_CHECKING:
    from grader.deadlines import DeadlineRule
    from grader.final_grade import FinalRule

MODES = ("weights", "retrain")
PREDICT = ("notebook", "model")  # who computes the predictions: the student's notebook, or the grader
SCHEMES = ("linear", "rank", "target")
PREDICTION_KINDS = tuple(KINDS)
BACKENDS = ("tensorflow", "jax", "torch")


@dataclass(frozen=True)
class ExtraFile:
    """A file the exam allows beside the notebook and the model (e.g. a tokenizer's vocabulary)."""

    name: str
    max_mb: float = 10


@dataclass(frozen=True)
class Limits:
    time_seconds: float = 900
    cell_seconds: float = 600
    memory_mb: int = 4096
    max_processes: int = 256
    max_output_mb: int = 50
    max_files_mb: int = 500
    max_parameters: int | None = None
    forbidden_imports: tuple[str, ...] = ()
    forbid_pretrained: bool = False
    model_file: str = "model.keras"
    max_model_mb: float = 200
    max_notebook_mb: float = 50
    extra_files: tuple[ExtraFile, ...] = ()  # other files a hand-in may contain; anything else is not used


@dataclass(frozen=True)
class ParameterBonus:
    """A secondary criterion: bonus points for fewer parameters (valid results only)."""

    points: float
    scheme: str = "linear"  # "linear": full_at -> all points, zero_at -> none; "rank": by rank of the count
    full_at: int = 0
    zero_at: int = 0


@dataclass(frozen=True)
class Grading:
    objective_weight: float = 0.8
    quality_weight: float = 0.2
    scheme: str = "linear"
    baseline: float = 0.0
    target: float | None = None
    bonus: float = 0.0
    scale: float = 30
    tie_tolerance: float = 0.0  # results closer than this share a rank and are shown as ties
    parameter_bonus: ParameterBonus | None = None


@dataclass(frozen=True)
class Predictions:
    kind: str = "class_labels"
    num_classes: int | None = None
    shape: tuple[int, ...] = ()


@dataclass(frozen=True)
class Exam:
    folder: Path
    title: str
    task: str
    mode: str
    metric: str
    metric_display: str  # the metric's name for people, e.g. "MSE" or "LCS ratio"
    higher_is_better: bool
    public_data: Path
    test_inputs: Path
    test_labels: Path
    rounds: int  # 0: one test set; N: N generated test sets, concatenated, scored separately, averaged
    test_rounds: Path | None  # with rounds: the round id (0..N-1) of each test row
    validation_inputs: Path | None
    validation_labels: Path | None
    template: Path | None  # the notebook students start from: text copied from it earns no quality points
    predict: str  # "notebook": the notebook saves predictions; "model": the grader predicts with the model
    preprocess: str | None  # predict = "model": "file.py:function" in the exam folder, applied to the inputs
    backends: tuple[str, ...]  # Keras backends a notebook may declare (KERAS_BACKEND); the first is the default
    recipe: Path | None
    hide: tuple[Path, ...]
    predictions: Predictions
    limits: Limits
    grading: Grading
    raw: dict = field(repr=False, default_factory=dict)
    final: FinalRule | None = None  # [final]: project + oral, rounding, honours, pass mark (final_grade.py)
    deadline: DeadlineRule | None = None  # [deadline]: due time and late policy (deadlines.py)

    @property
    def direction(self) -> str:
        return "higher" if self.higher_is_better else "lower"

    def missing_data(self) -> list[Path]:
        paths = [self.public_data, self.test_inputs, self.test_labels, *([self.test_rounds] if self.rounds else [])]
        return [p for p in paths if not p.exists()]

    def build_data(self) -> None:
        """Run the exam's data recipe when its files are missing (offline, deterministic)."""
        if not self.missing_data():
            return
        if self.recipe is None:
            missing = ", ".join(str(p) for p in self.missing_data())
            raise ExamError(f"data.*: files missing ({missing}) and the exam has no data.recipe")
        proc = subprocess.run([os.path.abspath(sys.executable), str(self.recipe)], cwd=self.folder,
                              capture_output=True, text=True)
        if proc.returncode != 0 or self.missing_data():
            raise ExamError(f"data.recipe: {self.recipe.name} failed to build the exam data:\n"
                            f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def load_exam(folder: Path | str) -> Exam:
    """Read and validate EXAM_DIR/exam.toml."""
    folder = Path(folder).resolve()
    spec_path = folder / "exam.toml"
    if not spec_path.is_file():
        raise ExamError(f"{folder}: no exam.toml in this folder (is it an exam folder?)")
    try:
        raw = tomllib.loads(spec_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ExamError(f"{spec_path}: not valid TOML ({exc})") from exc
    spec = _Spec(raw, spec_path)

    metric_name = spec.get("metric.name", str)
    try:
        metric = metrics.get_metric(metric_name, folder)
    except KeyError as exc:
        raise ExamError(f"metric.name: {exc.args[0]}") from exc
    direction = spec.get("metric.direction", str, metric.direction)
    spec.choice("metric.direction", direction, ("higher", "lower"))

    rounds = spec.get("data.rounds", int, 0)
    if rounds < 0 or rounds == 1:
        raise ExamError(f"data.rounds: 0 (one test set) or at least 2, got {rounds}")
    backends = tuple(spec.get("exam.backends", list, ["tensorflow"]))
    for b in backends:
        spec.choice("exam.backends", b, BACKENDS)
    if not backends:
        raise ExamError("exam.backends: list at least one of " + ", ".join(BACKENDS))

    mode = spec.get("exam.mode", str, "weights")
    spec.choice("exam.mode", mode, MODES)

    def path(key, required=True):
        value = spec.get(key, str, _MISSING if required else None)
        return None if value is None else (folder / os.path.expanduser(value)).resolve()

    predictions = Predictions(
        kind=spec.choice("predictions.kind", spec.get("predictions.kind", str, "class_labels"),
                         PREDICTION_KINDS),
        num_classes=spec.get("predictions.num_classes", int, None),
        shape=tuple(spec.get("predictions.shape", list, [])),
    )
    if predictions.kind == "class_labels" and not predictions.num_classes:
        raise ExamError("predictions.num_classes: required (a positive integer) for class_labels")
    if predictions.kind == "text" and predictions.shape:
        raise ExamError("predictions.shape: text predictions are one string per test input: shape = []")
    if metric.kinds and predictions.kind not in metric.kinds:
        raise ExamError(f"metric.name: {metric_name} is for {' or '.join(metric.kinds)} predictions, not "
                        f"{predictions.kind} (predictions.kind)")
    if not all(isinstance(d, int) and d > 0 for d in predictions.shape):
        raise ExamError(f"predictions.shape: must list positive integers, got {predictions.shape!r}")

    extra_files = []
    for i, item in enumerate(spec.get("limits.extra_files", list, [])):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or set(item) - {"name", "max_mb"}:
            raise ExamError(f"limits.extra_files[{i}]: expected {{ name = \"file\", max_mb = 10 }}, got {item!r}")
        name, max_mb = item["name"], item.get("max_mb", 10)
        if Path(name).name != name or name.startswith("."):
            raise ExamError(f"limits.extra_files[{i}].name: a plain file name, not a path ({name!r})")
        if isinstance(max_mb, bool) or not isinstance(max_mb, int | float) or max_mb <= 0:
            raise ExamError(f"limits.extra_files[{i}].max_mb: a positive number, got {max_mb!r}")
        extra_files.append(ExtraFile(name, float(max_mb)))
    limits = Limits(
        time_seconds=spec.positive("limits.time_seconds", 900),
        cell_seconds=spec.positive("limits.cell_seconds", 600),
        memory_mb=int(spec.positive("limits.memory_mb", 4096)),
        max_processes=int(spec.positive("limits.max_processes", 256)),
        max_output_mb=int(spec.positive("limits.max_output_mb", 50)),
        max_files_mb=int(spec.positive("limits.max_files_mb", 500)),
        max_parameters=spec.get("limits.max_parameters", int, None),
        forbidden_imports=tuple(spec.get("limits.forbidden_imports", list, [])),
        forbid_pretrained=spec.get("limits.forbid_pretrained", bool, False),
        model_file=spec.get("limits.model_file", str, "model.keras"),
        max_model_mb=spec.positive("limits.max_model_mb", 200),
        max_notebook_mb=spec.positive("limits.max_notebook_mb", 50),
        extra_files=tuple(extra_files),
    )
    if limits.max_parameters is not None and limits.max_parameters <= 0:
        raise ExamError("limits.max_parameters: must be a positive integer")
    if Path(limits.model_file).name != limits.model_file:
        raise ExamError(f"limits.model_file: a file name, not a path ({limits.model_file!r})")

    bonus_table = spec.get("grading.parameter_bonus", dict, None)
    parameter_bonus = None
    if bonus_table is not None:
        parameter_bonus = _parameter_bonus(bonus_table)
    grading = Grading(
        objective_weight=spec.get("grading.objective_weight", (int, float), 0.8),
        quality_weight=spec.get("grading.quality_weight", (int, float), 0.2),
        scheme=spec.choice("grading.scheme", spec.get("grading.scheme", str, "linear"), SCHEMES),
        baseline=spec.get("grading.baseline", (int, float)),
        target=spec.get("grading.target", (int, float), None),
        bonus=spec.get("grading.bonus", (int, float), 0.0),
        scale=spec.positive("grading.scale", 30),
        tie_tolerance=spec.get("grading.tie_tolerance", (int, float), 0.0),
        parameter_bonus=parameter_bonus,
    )
    if grading.tie_tolerance < 0:
        raise ExamError("grading.tie_tolerance: must be >= 0")
    weights = grading.objective_weight + grading.quality_weight
    if grading.objective_weight < 0 or grading.quality_weight < 0 or abs(weights - 1) > 1e-9:
        raise ExamError("grading.objective_weight + grading.quality_weight: must be >= 0 and add up "
                        f"to 1 (got {grading.objective_weight} + {grading.quality_weight})")
    if grading.bonus < 0:
        raise ExamError("grading.bonus: must be >= 0")
    if grading.scheme == "target":
        if grading.target is None:
            raise ExamError("grading.target: required when grading.scheme = 'target'")
        better = grading.target > grading.baseline if direction == "higher" else (
            grading.target < grading.baseline)
        if not better:
            raise ExamError(f"grading.target: must be better than grading.baseline for a "
                            f"{direction}-is-better metric ({grading.target} vs {grading.baseline})")

    exam = Exam(
        folder=folder,
        title=spec.get("exam.title", str),
        task=spec.get("exam.task", str, ""),
        mode=mode,
        metric=metric_name,
        metric_display=spec.get("metric.display", str, metric.display),
        higher_is_better=direction == "higher",
        public_data=path("data.public"),
        test_inputs=path("data.test_inputs"),
        test_labels=path("data.test_labels"),
        rounds=rounds,
        test_rounds=path("data.test_rounds") if rounds else None,
        validation_inputs=path("data.validation_inputs", required=False),
        validation_labels=path("data.validation_labels", required=False),
        template=path("exam.template", required=False),
        predict=spec.choice("exam.predict", spec.get("exam.predict", str, "notebook"), PREDICT),
        preprocess=spec.get("exam.preprocess", str, None),
        backends=backends,
        recipe=path("data.recipe", required=False),
        hide=tuple(_hide_path(p) for p in spec.get("data.hide", list, [])),
        predictions=predictions,
        limits=limits,
        grading=grading,
        raw=raw,
    )
    if exam.test_labels.parent == exam.public_data or exam.public_data in exam.test_labels.parents:
        raise ExamError("data.test_labels: must not lie inside data.public (students would see them)")
    if exam.preprocess is not None:
        if exam.predict != "model":
            raise ExamError("exam.preprocess: only used with exam.predict = \"model\"")
        file, _, function = exam.preprocess.partition(":")
        if not file.endswith(".py") or not function.isidentifier() or not (folder / file).is_file():
            raise ExamError(f"exam.preprocess: expected \"file.py:function\" with file.py in the exam folder, "
                            f"got {exam.preprocess!r}")
    if exam.predict == "model" and exam.mode != "weights":
        raise ExamError("exam.predict: \"model\" needs exam.mode = \"weights\" (the grader predicts with the "
                        "handed-in model)")
    if exam.template is not None and not exam.template.is_file():
        raise ExamError(f"exam.template: {exam.template} does not exist")
    if exam.recipe is not None and not exam.recipe.is_file():
        raise ExamError(f"data.recipe: {exam.recipe} does not exist")
    from grader.deadlines import parse_deadline  # these modules import ExamError from here
    from grader.final_grade import parse_final

    exam = dataclasses.replace(exam, final=parse_final(raw), deadline=parse_deadline(raw))
    unknown = spec.unknown_keys()
    if unknown:
        raise ExamError(f"unknown key(s) {', '.join(unknown)}: check the spelling (see CONTRACTS.md)")
    return exam


def _hide_path(value: str) -> Path:
    """A data.hide entry: a path (~ and $VARS expanded), or "pkg:PACKAGE/inside/it" for a file that a
    package ships (e.g. "pkg:sklearn/datasets/data/digits.csv.gz"), found without importing it."""
    if not isinstance(value, str):
        raise ExamError(f"data.hide: entries are strings, got {value!r}")
    if value.startswith("pkg:"):
        import importlib.util

        package, _, inside = value[4:].partition("/")
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            spec = None
        locations = list(spec.submodule_search_locations or []) if spec else []
        if not locations:
            raise ExamError(f"data.hide: {value!r}: no installed package {package!r}")
        return Path(locations[0]) / inside
    return Path(os.path.expandvars(os.path.expanduser(value)))


def _parameter_bonus(table: dict) -> ParameterBonus:
    unknown = set(table) - {"points", "scheme", "full_at", "zero_at"}
    if unknown:
        raise ExamError(f"grading.parameter_bonus: unknown key(s) {', '.join(sorted(unknown))}")
    points, scheme = table.get("points"), table.get("scheme", "linear")
    if isinstance(points, bool) or not isinstance(points, int | float) or points <= 0:
        raise ExamError(f"grading.parameter_bonus.points: a positive number, got {points!r}")
    if scheme not in ("linear", "rank"):
        raise ExamError(f"grading.parameter_bonus.scheme: 'linear' or 'rank', got {scheme!r}")
    full_at, zero_at = table.get("full_at", 0), table.get("zero_at", 0)
    if scheme == "linear" and not (isinstance(full_at, int) and isinstance(zero_at, int) and 0 <= full_at < zero_at):
        raise ExamError("grading.parameter_bonus: linear needs integers full_at < zero_at (parameter counts: "
                        f"full bonus at or below full_at, none at or above zero_at), got {full_at!r}, {zero_at!r}")
    return ParameterBonus(float(points), scheme, full_at, zero_at)
