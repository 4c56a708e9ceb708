"""`grader student-kit EXAM --out KIT.zip`: everything a student gets, and nothing hidden.

The zip holds README.md (the task, the rules and limits read from exam.toml, how it is graded, how to
check a notebook), the public data, the generated template, the grader package itself and a public
exam.toml without the recipe or the hidden paths' contents, so that on the student's own machine

    pip install -r requirements.txt
    python -m grader check my_notebook.ipynb --exam .

runs the notebook exactly as the grader will (on the public validation split) without any hidden file.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import nbformat

from grader.authoring.template import student_template
from grader.kinds import KINDS

MAX_PUBLIC_BYTES = 500 * 2**20


def rules_text(exam) -> str:
    """The exam's rules in words, from exam.toml (the same text the students' README shows)."""
    spec, lim, g = exam.predictions, exam.limits, exam.grading
    direction = "higher" if exam.higher_is_better else "lower"
    files = [lim.model_file, *(f.name for f in lim.extra_files)] if exam.mode == "weights" else [
        f.name for f in lim.extra_files]
    lines = [
        f"- **Metric**: {exam.metric_display} ({direction} is better) on a hidden test set"
        + (f", mean over {exam.rounds} generated rounds (ties within {g.tie_tolerance:g})" if exam.rounds else "")
        + ".",
        f"- **Predictions**: {KINDS[spec.kind].describe} per test input"
        + (f" of shape {tuple(spec.shape)}" if spec.shape else "")
        + f", saved with `np.save(PREDICTIONS_PATH, predictions)` (kind `{spec.kind}`).",
        f"- **Grade**: {g.objective_weight:.0%} comparative result (scheme `{g.scheme}`, baseline {g.baseline:g}), "
        f"{g.quality_weight:.0%} descriptive quality of the notebook, on a scale of {g.scale:g}"
        + (f"; a bonus of {g.bonus:g} for the best result" if g.bonus else "") + ".",
        "- **Hand in**: one notebook" + (f" and {', '.join(files)}" if files else "")
        + f"; other files are not used. Notebook at most {lim.max_notebook_mb:g} MB"
        + (f", model file at most {lim.max_model_mb:g} MB" if exam.mode == "weights" else "") + ".",
        f"- **Run time when graded**: at most {lim.time_seconds:g} s for the whole notebook, {lim.cell_seconds:g} s "
        f"per cell, {lim.memory_mb:,} MB of memory, no network.",
        f"- **Keras backend(s)**: {', '.join(exam.backends)}.",
    ]
    if lim.max_parameters:
        lines.append(f"- **Parameter budget**: at most {lim.max_parameters:,} parameters (trainable and not).")
    if g.parameter_bonus:
        pb = g.parameter_bonus
        lines.append(f"- **Bonus for fewer parameters**: up to {pb.points:g} points"
                     + (f" (all at ≤ {pb.full_at:,}, none at ≥ {pb.zero_at:,})" if pb.scheme == "linear" else
                        " by rank of the parameter count") + ".")
    if lim.forbid_pretrained:
        lines.append("- **No pretrained models** (no `weights=\"imagenet\"`, hubs or downloads).")
    if lim.forbidden_imports:
        lines.append(f"- **Forbidden imports**: {', '.join(lim.forbidden_imports)}.")
    return "\n".join(lines)


def _public_toml(exam) -> str:
    """exam.toml as students may see it: no recipe (it would rebuild the hidden set), no hide list."""
    text = (exam.folder / "exam.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^[ \t]*(recipe|hide)[ \t]*=.*$", "", text)
    return text.replace('template = "', 'template = "template.ipynb"  # was: "', 1) if exam.template else text


def student_kit(exam, out: Path) -> Path:
    """Write the student kit of ``exam`` to the zip file ``out``."""
    public = exam.public_data
    files = [p for p in sorted(public.rglob("*")) if p.is_file() and not p.is_symlink()]
    if sum(p.stat().st_size for p in files) > MAX_PUBLIC_BYTES:
        raise ValueError(f"the public data is over {MAX_PUBLIC_BYTES // 2**20} MB: share it separately")
    for hidden in (exam.test_labels, exam.test_inputs, exam.test_rounds):
        if hidden is not None and any(p.resolve() == hidden.resolve() for p in files):
            raise ValueError(f"{hidden} is inside the public data folder: it would be given to students")
    readme = (f"# {exam.title}\n\n{exam.task}\n\n## Rules\n\n{rules_text(exam)}\n\n## Getting started\n\n"
              "1. Open `template.ipynb` (Colab or Jupyter) and make it yours; the data is in `data/public/`.\n"
              "2. Before handing in, check that the grader can run it, on the public validation split:\n\n"
              "       pip install -r requirements.txt\n"
              "       python -m grader check my_notebook.ipynb --exam .\n\n"
              "   It runs the notebook with GRADING = True exactly as the grader does and prints the "
              "metric it would compute on the validation split (the hidden test set decides the grade).\n")
    package = Path(__file__).resolve().parent.parent
    repo_requirements = package.parent / "requirements.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("README.md", readme)
        z.writestr("exam.toml", _public_toml(exam))
        z.writestr("template.ipynb", nbformat.writes(student_template(exam)))
        for p in files:
            z.write(p, f"{exam.public_data.relative_to(exam.folder)}/{p.relative_to(public)}")
        for p in sorted(package.rglob("*.py")) + sorted(package.rglob("*.md")):
            if "__pycache__" not in p.parts:
                z.write(p, f"grader/{p.relative_to(package)}")
        if repo_requirements.is_file():
            z.write(repo_requirements, "requirements.txt")
        for spec in (exam.metric, exam.preprocess or ""):  # the exam's own code the check needs
            file = spec.partition(":")[0]
            if file.endswith(".py") and (exam.folder / file).is_file():
                z.write(exam.folder / file, file)
    return out
