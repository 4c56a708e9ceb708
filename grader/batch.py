"""Grade one submission end to end, and a whole class on any concurrent.futures Executor.

discover -> normalize -> sandbox+execute -> collect -> score -> (rank and report: grader.report)

``grade_submission`` never raises: whatever happens becomes a failure class on the record, and
the record is saved atomically before the next submission is looked at.
"""

from __future__ import annotations

import shutil
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

from grader import rules
from grader.exam import Exam, load_exam
from grader.notebook import NotebookProblem, normalize_notebook
from grader.results import Record, ResultStore, fingerprint
from grader.score import PredictionError, load_labels, score_predictions
from grader.submissions import Submission, discover


@dataclass(frozen=True)
class Options:
    require_sandbox: bool = False
    force: bool = False
    gpu: bool = False  # bind the GPU device nodes into the sandbox (see README, "GPU machines")


@dataclass(frozen=True)
class Split:
    """What the notebook is run against: the hidden test split, or the public validation split."""

    inputs: Path
    labels: Path


def grade_submission(sub: Submission, exam_dir: Path, out_dir: Path, options: Options,
                     split: str = "test") -> Record:
    """Run, score and assess one submission; save and return its record."""
    exam = load_exam(exam_dir)
    store = ResultStore(out_dir)
    record = Record(sub.student, sub.name, str(sub.notebook.name) if sub.notebook else None,
                    _fingerprint(sub, exam))
    started = time.perf_counter()
    try:
        _grade(sub, exam, out_dir, options, record, _split(exam, split))
    except Exception as exc:  # a grader bug must cost one submission, never the batch
        record.fail("grader_error", f"{type(exc).__name__}: {exc}")
        record.notes.append(traceback.format_exc(limit=5))
    record.seconds = round(time.perf_counter() - started, 1)
    store.save(record)
    return record


def _fingerprint(sub: Submission, exam: Exam) -> str:
    """What decides this submission's grade: its files and the exam spec (see results.fingerprint)."""
    files = ([sub.notebook] if sub.notebook else []) + sub.files
    return fingerprint([p for p in files if p.is_file()], exam.folder / "exam.toml")


def _split(exam: Exam, split: str) -> Split:
    if split == "test":
        return Split(exam.test_inputs, exam.test_labels)
    if exam.validation_inputs is None or exam.validation_labels is None:
        raise ValueError("the exam declares no public validation split (data.validation_inputs/labels)")
    return Split(exam.validation_inputs, exam.validation_labels)


def _grade(sub: Submission, exam: Exam, out_dir: Path, options: Options, record: Record,
           split: Split) -> None:
    from grader.execute import execute_submission
    from grader.quality import assess_quality
    from grader.sandbox import Limits

    if sub.problem:
        record.fail("invalid_submission", sub.problem)
        return
    try:
        prepared = normalize_notebook(sub.notebook)
    except NotebookProblem as exc:
        record.fail("invalid_notebook", str(exc))
        return
    record.notes += prepared.notes

    model_name = exam.limits.model_file
    handed = {p.name: p for p in sub.files}
    if exam.mode == "weights" and model_name not in handed:
        record.fail("invalid_submission", f"this exam grades handed-in weights: put {model_name} next "
                                          "to the notebook (one folder per student)")
        record.quality = asdict(assess_quality(prepared.original, ran_ok=False, template=exam.template))
        return

    work = out_dir / "work" / sub.student
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    runnable = work / "submission.ipynb"
    nbformat.write(prepared.notebook, runnable)
    limits = exam.limits
    result = execute_submission(
        runnable, student_files=sub.files, public_data=exam.public_data, test_inputs=split.inputs,
        work_dir=work, cell_timeout=limits.cell_seconds, model_file=model_name,
        hide=_hidden_paths(exam, out_dir, sub), require_isolation=options.require_sandbox, gpu=options.gpu,
        limits=Limits(wall_seconds=limits.time_seconds, memory_bytes=limits.memory_mb * 2**20,
                      max_processes=limits.max_processes, max_output_bytes=limits.max_output_mb * 2**20,
                      max_file_bytes=limits.max_files_mb * 2**20),
    )
    record.isolated = result.isolated
    record.notes += result.notes
    if result.executed_notebook and result.executed_notebook.exists():
        executed = out_dir / "executed" / f"{sub.student}.ipynb"
        executed.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(result.executed_notebook, executed)
    ran_ok = result.status == "ok"
    record.quality = asdict(assess_quality(prepared.original, ran_ok=ran_ok, template=exam.template))
    if not ran_ok:
        record.fail(result.status, result.message)
        return

    rejected = [n for n in result.notes if n.startswith("predictions file rejected")]
    if result.predictions is None and rejected:  # e.g. a symlink planted at PREDICTIONS_PATH
        record.fail("malformed_predictions", f"{rejected[0]}: save the array itself with "
                                             "np.save(PREDICTIONS_PATH, predictions)")
        return
    try:
        score = score_predictions(result.predictions, exam, load_labels(split.labels))
    except PredictionError as exc:
        record.fail(exc.failure, str(exc))
        return
    violations = rules.static_violations(prepared.original, exam)
    model = result.model_file or handed.get(model_name)
    record.parameters, budget = rules.parameter_budget(model, exam, work)
    record.violations = violations + budget
    if record.violations:
        record.fail("rule_broken", "; ".join(record.violations)
                    + f" (the {exam.metric} of {score.value:.4f} does not count)")
        return
    record.metric = score.value
    record.message = f"{exam.metric} = {score.value:.4f} on {score.n} test inputs"


def _hidden_paths(exam: Exam, out_dir: Path, sub: Submission) -> list[Path]:
    """Everything a submission must not see: the exam folder (labels included), the output
    folder, the other submissions, and the public copies of the exam's source data."""
    hidden = [exam.folder, exam.test_labels.parent, out_dir.resolve(), sub.source.resolve().parent]
    return [p for p in dict.fromkeys([*hidden, *exam.hide])]


def grade_class(exam_dir: Path, submissions_dir: Path, out_dir: Path, *, options: Options = Options(),
                executor: Executor | None = None, jobs: int = 1,
                on_start: Callable[[list[Submission], list[Record]], None] | None = None,
                on_done: Callable[[Record, bool], None] | None = None) -> list[Record]:
    """Grade every submission not already graded; return all records (old and new).

    ``on_start(todo, skipped)`` and ``on_done(record, resumed)`` drive progress displays.
    """
    exam = load_exam(exam_dir)
    exam.build_data()
    store = ResultStore(out_dir)
    subs = discover(submissions_dir)
    todo, done = [], []
    for sub in subs:
        old = store.load(sub.student)
        if old and not options.force and old.fingerprint == _fingerprint(sub, exam):
            done.append(old)
        else:
            todo.append(sub)
    if on_start:
        on_start(todo, done)
    for record in done:
        if on_done:
            on_done(record, True)
    own = executor is None
    executor = executor or ProcessPoolExecutor(max_workers=max(1, jobs))
    try:
        futures = {executor.submit(grade_submission, sub, exam.folder, out_dir, options): sub for sub in todo}
        for future in as_completed(futures):
            record = future.result()  # grade_submission never raises
            done.append(record)
            if on_done:
                on_done(record, False)
    finally:
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
    return sorted(done, key=lambda r: r.student)
