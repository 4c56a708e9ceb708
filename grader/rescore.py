"""Recompute metrics from the kept predictions, without running any notebook again.

`grader rescore OUT` (and a rerun of `grader grade` that finds only the metric or the labels stale)
scores OUT/predictions/<student>.npy again with the exam's current metric and hidden labels: a fixed
metric, rebuilt labels or a corrected round file cost seconds for the whole class, not hours.
Submissions that failed before producing predictions keep their verdict.
"""

from __future__ import annotations

from pathlib import Path

from grader import freshness
from grader.exam import Exam
from grader.results import Record, ResultStore
from grader.score import PredictionError, score_predictions

# failures decided before or without the predictions: rescoring cannot change them
_BEFORE_SCORING = {"invalid_submission", "invalid_notebook", "timeout", "cell_timeout", "exception", "dead_kernel",
                   "out_of_memory", "too_many_processes", "output_too_large", "file_too_large", "sandbox_error",
                   "grader_error", "missing_predictions"}


def kept_predictions(out_dir: Path, student: str) -> Path:
    return Path(out_dir) / "predictions" / f"{student}.npy"


def rescore_record(record: Record, exam: Exam, out_dir: Path) -> Record:
    """The record with its metric computed again from its kept predictions (saved)."""
    predictions = kept_predictions(out_dir, record.student)
    if record.failure in _BEFORE_SCORING or not predictions.is_file():
        return record
    record.status, record.failure, record.metric, record.metric_std, record.metric_rounds = "ok", None, None, None, None
    try:
        score = score_predictions(predictions, exam)
    except PredictionError as exc:
        record.fail(exc.failure, str(exc))
    else:
        apply_score(record, score, exam)
    parts = dict(record.fingerprint_parts)
    current = freshness.parts([], exam)
    parts.update({name: current[name] for name in freshness.SCORE_PARTS})
    record.fingerprint_parts = parts
    record.fingerprint = freshness.combined(parts)
    ResultStore(out_dir).save(record)
    return record


def apply_score(record: Record, score, exam: Exam) -> None:
    """Put a score on a record: the metric, or rule_broken when the record broke a rule."""
    if record.violations:
        record.fail("rule_broken", "; ".join(record.violations)
                    + f" (the {exam.metric_display} of {score.value:.6g} does not count)")
        return
    record.metric, record.metric_std, record.metric_rounds = score.value, score.std, score.rounds
    if score.rounds:
        record.message = (f"{exam.metric_display} = {score.value:.6g} ± {score.std:.2g} (mean ± std over "
                          f"{len(score.rounds)} rounds of generated test data, {score.n} test inputs)")
    else:
        record.message = f"{exam.metric_display} = {score.value:.6g} on {score.n} test inputs"


def rescore_class(out_dir: Path, exam: Exam) -> list[tuple[Record, float | None]]:
    """Every record rescored: (record, its metric before)."""
    changed = []
    for record in ResultStore(out_dir).all():
        before = record.metric
        changed.append((rescore_record(record, exam, out_dir), before))
    return changed
