"""Grade one submission end to end, and a whole class on any concurrent.futures Executor.

discover -> normalize -> sandbox+execute -> collect -> score -> (rank and report: grader.report)

``grade_submission`` never raises: whatever happens becomes a failure class on the record, and
the record is saved atomically before the next submission is looked at.
"""

from __future__ import annotations

import shutil
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

from grader import freshness, rules, safe_files
from grader.budget import BudgetExceeded, time_budget
from grader.exam import Exam, ExamError, load_exam
from grader.notebook import NotebookProblem, normalize_notebook
from grader.quality import assess_quality, reference_texts
from grader.rescore import apply_score, rescore_record
from grader.results import Record, ResultStore
from grader.score import PredictionError, load_labels, score_predictions
from grader.submissions import Skipped, Submission, discover


@dataclass(frozen=True)
class Options:
    require_sandbox: bool = False
    force: bool = False
    gpu: bool = False  # bind the GPU device nodes into the sandbox (see README, "GPU machines")
    keep_work: bool = False  # keep OUT/work/<student> (scratch copies, sandbox log) for debugging


@dataclass(frozen=True)
class Split:
    """What the notebook is run against: the hidden test split, or the public validation split."""

    inputs: Path
    labels: Path
    rounds: Path | None = None  # the round id of each row (exams with rounds)


# seconds of the trusted process's own work on one hand-in's text (see grader/budget.py)
READ_BUDGET_SECONDS = 60
RUBRIC_BUDGET_SECONDS = 60


def grade_submission(sub: Submission, exam_dir: Path, out_dir: Path, options: Options,
                     split: str = "test") -> Record:
    """Run, score and assess one submission; save and return its record. Never raises: every step,
    fingerprinting included, runs inside this one error boundary."""
    exam = load_exam(exam_dir)
    store = ResultStore(out_dir)
    record = Record(sub.student, sub.name, str(sub.notebook.name) if sub.notebook else None, "")
    started = time.perf_counter()
    work = out_dir / "work" / sub.student
    try:
        _check_hidden_once(exam, out_dir, sub.source.parent)  # on a cluster, every worker checks its own sandbox
        with _stage(record, "fingerprint"):
            record.fingerprint_parts = _fingerprint_parts(sub, exam)
            record.fingerprint = freshness.combined(record.fingerprint_parts)
        record.notes += sub.rejected
        _grade(sub, exam, out_dir, work, options, record, _split(exam, split))
    except ExamError as exc:  # this machine's sandbox would show hidden files: grade nothing here
        record.fail("sandbox_error", f"not graded on this machine: {exc}")
    except BudgetExceeded as exc:
        record.fail("grader_error", f"{exc}: the notebook's text is too large or too unusual to read")
    except Exception as exc:  # a grader bug must cost one submission, never the batch
        record.fail("grader_error", f"{type(exc).__name__}: {exc}")
        record.notes.append(traceback.format_exc(limit=5))
    finally:
        if not options.keep_work:
            safe_files.remove_tree(work)
    record.seconds = round(time.perf_counter() - started, 1)
    store.save(record)
    return record


@contextmanager
def _stage(record: Record, name: str) -> Iterator[None]:
    """Add the wall time of the block to ``record.timings[name]`` (grader grade --profile shows them)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        record.timings[name] = round(record.timings.get(name, 0.0) + time.perf_counter() - started, 3)


def _fingerprint_parts(sub: Submission, exam: Exam) -> dict[str, str]:
    """What decides this submission's grade (grader/freshness.py). Files the exam does not list are
    never used, so they are not read either."""
    declared = declared_files(exam)
    files = ([sub.notebook] if sub.notebook else []) + [f for f in sub.files if f.name in declared]
    return freshness.parts(files, exam)


def _safe_parts(sub: Submission, exam: Exam) -> dict[str, str] | None:
    try:
        return _fingerprint_parts(sub, exam)
    except Exception:  # noqa: BLE001 - graded again, where the error gets its record
        return None


def _split(exam: Exam, split: str) -> Split:
    if split == "test":
        return Split(exam.test_inputs, exam.test_labels, exam.test_rounds)
    if exam.validation_inputs is None or exam.validation_labels is None:
        raise ValueError("the exam declares no public validation split (data.validation_inputs/labels)")
    return Split(exam.validation_inputs, exam.validation_labels)


def declared_files(exam: Exam) -> dict[str, int]:
    """File name -> size cap in bytes, of every file a hand-in may contain beside its notebook."""
    declared = {exam.limits.model_file: int(exam.limits.max_model_mb * 2**20)}
    declared.update({f.name: int(f.max_mb * 2**20) for f in exam.limits.extra_files})
    return declared


def stage_handin(sub: Submission, exam: Exam, handin: Path) -> tuple[Path, list[Path], list[str]]:
    """Copy the notebook and the declared files into ``handin`` (trusted copies: no symlink followed,
    sizes capped). Returns (notebook copy, file copies, notes on what was left out and why)."""
    handin.mkdir(parents=True, exist_ok=True)
    notebook = handin / "submission.ipynb"
    max_nb = int(exam.limits.max_notebook_mb * 2**20)
    try:
        safe_files.copy_limited(sub.notebook, notebook, max_nb)
    except safe_files.UnsafeFile as exc:
        raise NotebookProblem(f"the notebook cannot be used: {exc} (limit {exam.limits.max_notebook_mb:g} MB: "
                              "clear the outputs before handing in)") from exc
    declared = declared_files(exam)
    copies, notes, undeclared = [], [], []
    for f in sub.files:
        if f.name not in declared:
            undeclared.append(f.name)
            continue
        try:
            copies.append(safe_files.copy_limited(f, handin / "files" / f.name, declared[f.name]))
        except safe_files.UnsafeFile as exc:
            notes.append(f"{f.name} not used: {exc}")
    if undeclared:
        shown = ", ".join(undeclared[:10]) + (f" and {len(undeclared) - 10} more" if len(undeclared) > 10 else "")
        notes.append(f"not given to the notebook (the exam does not list them): {shown}; the exam accepts "
                     f"{', '.join(declared)}")
    return notebook, copies, notes


def _grade(sub: Submission, exam: Exam, out_dir: Path, work: Path, options: Options, record: Record,
           split: Split) -> None:
    from grader.execute import execute_submission
    from grader.sandbox import Limits

    if sub.problem:
        record.fail("invalid_submission", sub.problem)
        return
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        with _stage(record, "copy the hand-in"):
            notebook, files, notes = stage_handin(sub, exam, work / "handin")
        record.notes += notes
        with _stage(record, "read the notebook"), time_budget(READ_BUDGET_SECONDS, "reading the notebook"):
            prepared = normalize_notebook(notebook, int(exam.limits.max_notebook_mb * 2**20))
    except NotebookProblem as exc:
        record.fail("invalid_notebook", str(exc))
        return
    record.notes += prepared.notes
    backend = prepared.backend or exam.backends[0]
    if backend not in exam.backends:
        record.fail("invalid_submission", f"the notebook declares the Keras backend {backend!r}; this exam "
                                          f"allows {', '.join(exam.backends)}")
        return
    record.backend = backend

    def assess(ran_ok: bool) -> None:
        with _stage(record, "quality rubric"), time_budget(RUBRIC_BUDGET_SECONDS, "the quality rubric"):
            record.quality = asdict(assess_quality(prepared.original, ran_ok=ran_ok, template=exam.template,
                                                   references=reference_texts(exam), kind=exam.predictions.kind))

    model_name = exam.limits.model_file
    handed = {p.name: p for p in files}
    if exam.mode == "weights" and model_name not in handed:
        record.fail("invalid_submission", f"this exam grades handed-in weights: put {model_name} next "
                                          "to the notebook (one folder per student)")
        assess(False)
        return
    # weights mode: the budget is counted on the file handed in, before anything runs
    with _stage(record, "rules and parameter count"):
        violations = rules.static_violations(prepared.original, exam)
        if exam.mode == "weights":
            record.parameters, budget = rules.parameter_budget(handed[model_name], exam)
            violations += budget

    runnable = work / "submission.ipynb"
    nbformat.write(prepared.notebook, runnable)
    limits = exam.limits
    box_limits = Limits(wall_seconds=limits.time_seconds, memory_bytes=limits.memory_mb * 2**20,
                        max_processes=limits.max_processes, max_output_bytes=limits.max_output_mb * 2**20,
                        max_file_bytes=limits.max_files_mb * 2**20)
    with _stage(record, "sandboxed run"):
        result = execute_submission(
            runnable, student_files=files, public_data=exam.public_data, test_inputs=split.inputs,
            work_dir=work, cell_timeout=limits.cell_seconds, model_file=model_name,
            model_handed_in=exam.mode == "weights", hide=list(exam.hide), backend=backend,
            require_isolation=options.require_sandbox, gpu=options.gpu, limits=box_limits,
        )
    record.isolated = result.isolated
    record.notes += result.notes
    if result.runner_seconds is not None:  # the part of the sandboxed run that is papermill itself
        record.timings["papermill inside the sandbox"] = round(result.runner_seconds, 3)
    if result.executed_notebook and result.executed_notebook.exists():
        executed = out_dir / "executed" / f"{sub.student}.ipynb"
        executed.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(result.executed_notebook, executed)
    ran_ok = result.status == "ok"
    assess(ran_ok)
    if not ran_ok:
        record.fail(result.status, result.message)
        return

    rejected = [n for n in result.notes if n.startswith("predictions file rejected")]
    predictions = result.predictions
    if exam.predict == "model":
        from grader.predict import predict_with_model

        try:
            with _stage(record, "grader's prediction"):
                predictions, loaded = predict_with_model(
                    handed[model_name], exam, split.inputs, work / "grader-predictions.npy", box_limits,
                    require_isolation=options.require_sandbox, gpu=options.gpu, backend=backend)
        except PredictionError as exc:
            record.fail(exc.failure, str(exc))
            return
        budget = exam.limits.max_parameters
        if record.parameters is not None and loaded > record.parameters:  # shapes in the file were doctored
            record.notes.append(f"the weight shapes in {model_name} add up to {record.parameters:,} parameters, "
                                f"the model Keras loads has {loaded:,}: the larger count applies")
            record.parameters = loaded
            if budget is not None and loaded > budget and not any("over the budget" in v for v in violations):
                violations.append(f"the model has {loaded:,} parameters, over the budget of {budget:,}")
    elif predictions is None and rejected:  # e.g. a symlink planted at PREDICTIONS_PATH
        record.fail("malformed_predictions", f"{rejected[0]}: save the array itself with "
                                             "np.save(PREDICTIONS_PATH, predictions)")
        return
    if split.labels == exam.test_labels and predictions is not None:  # kept for rescoring without a run
        kept = out_dir / "predictions" / f"{sub.student}.npy"
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(predictions, kept)
    try:
        with _stage(record, "score"):
            score = score_predictions(predictions, exam, load_labels(split.labels),
                                      load_labels(split.rounds) if split.rounds else None)
    except PredictionError as exc:
        record.fail(exc.failure, str(exc))
        return
    if exam.mode == "retrain":
        record.parameters, budget = rules.parameter_budget(result.model_file, exam)
        violations += budget
    record.violations = violations
    apply_score(record, score, exam)


def hidden_paths(exam: Exam, out_dir: Path, submissions_dir: Path) -> list[Path]:
    """Everything a submission must not see: the exam folder (labels included), the output folder,
    the submissions, and the exam's `hide` list (copies of its source data)."""
    hidden = [exam.folder, exam.test_labels, out_dir.resolve(), Path(submissions_dir).resolve()]
    return list(dict.fromkeys([*hidden, *exam.hide]))


_CHECKED: set[tuple[str, str, str]] = set()  # (exam, out, submissions) checked in this process


def _check_hidden_once(exam: Exam, out_dir: Path, submissions_dir: Path) -> None:
    key = (str(exam.folder), str(Path(out_dir).resolve()), str(Path(submissions_dir).resolve()))
    if key not in _CHECKED:
        check_hidden(exam, out_dir, submissions_dir)
        _CHECKED.add(key)


def check_hidden(exam: Exam, out_dir: Path, submissions_dir: Path) -> None:
    """Refuse to grade (ExamError) when anything that must be hidden is readable inside the sandbox."""
    from grader.sandbox import SANDBOX_HOME, isolation_available, verify_hidden

    if not isolation_available()[0]:
        return  # no sandbox at all: the CLI has warned (or refused, with --require-sandbox)
    visible = verify_hidden(hidden_paths(exam, out_dir, submissions_dir), hide=list(exam.hide),
                            readonly=[(exam.public_data, f"{SANDBOX_HOME}/data")])
    if visible:
        raise ExamError(f"data.hide: {', '.join(visible)} would be readable by the notebooks inside the "
                        "sandbox; add it to data.hide (or move it) and grade again")


def grade_class(exam_dir: Path, submissions_dir: Path, out_dir: Path, *, options: Options = Options(),
                executor: Executor | None = None, jobs: int = 1,
                on_start: Callable[[list[Submission], list[Record]], None] | None = None,
                on_done: Callable[[Record, bool], None] | None = None,
                skipped: list[Skipped] | None = None, only: set[str] | None = None,
                stale: list[tuple[str, list[str], str]] | None = None) -> list[Record]:
    """Grade every submission not already graded; return all records (old and new).

    ``on_start(todo, done)`` and ``on_done(record, resumed)`` drive progress displays; entries of the
    submissions folder that are not submissions are appended to ``skipped`` with the reason.
    ``only``: grade these students again (others are kept as they are). ``stale`` collects
    (student, the parts that changed, what was done: "run again" or "rescored").
    Raises ExamError when the sandbox would show something that must stay hidden.
    """
    exam = load_exam(exam_dir)
    exam.build_data()
    check_hidden(exam, out_dir, submissions_dir)
    store = ResultStore(out_dir)
    subs = discover(submissions_dir, skipped)
    if only:
        unknown = sorted(only - {s.student for s in subs})
        if unknown:
            raise ValueError(f"--only: unknown student id(s) {', '.join(unknown)}; the ids of this class are "
                             f"{', '.join(s.student for s in subs)}")
    stale = stale if stale is not None else []
    todo, done = [], []
    for sub in subs:
        old = store.load(sub.student)
        if only is not None and sub.student not in only:
            done.extend([old] if old else [])
            continue
        if old is None or options.force or only is not None:
            todo.append(sub)
            continue
        current = _safe_parts(sub, exam)
        changed = freshness.stale(old.fingerprint_parts, current) if current else list(freshness.RUN_PARTS)
        if any(part in freshness.RUN_PARTS for part in changed):
            stale.append((sub.student, changed, "run again"))
            todo.append(sub)
        elif changed:
            stale.append((sub.student, changed, "rescored"))
            done.append(rescore_record(old, exam, out_dir))
        else:
            done.append(old)
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
