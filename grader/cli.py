"""The ``grader`` command.

    grader grade EXAM_DIR SUBMISSIONS_DIR --out OUT_DIR [--jobs N] [--force] [--manual-scores CSV]
                 [--require-sandbox] [--gpu] [--dask SCHEDULER]
    grader check NOTEBOOK --exam EXAM_DIR          # a student's pre-hand-in check (validation split)
    grader report OUT_DIR [--manual-scores CSV]    # rebuild grades.csv, feedback, leaderboard
    grader new-exam DIR --kind KIND                # a complete, runnable exam folder to start from
    grader student-kit EXAM_DIR --out KIT.zip      # what students get: task, rules, public data, template
    grader template EXAM_DIR                       # (re)generate the exam's student template

Exit codes: 0 when the batch completed (even if submissions failed); 2 for an invalid exam or
arguments; for ``check``, 1 when the notebook would not be scored.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from grader.exam import ExamError, load_exam

console = Console(stderr=False, highlight=False)
STATUS_STYLE = {"ok": "green", "failed": "red"}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ExamError as exc:
        console.print(f"[red]invalid exam:[/red] {exc}")
        return 2
    except (FileNotFoundError, NotADirectoryError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description="Grade Keras exam notebooks (80/20 rule).")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    grade = sub.add_parser("grade", help="grade a folder of submissions")
    grade.add_argument("exam_dir", type=Path)
    grade.add_argument("submissions_dir", type=Path)
    grade.add_argument("--out", type=Path, required=True, help="output folder (created; reruns resume)")
    grade.add_argument("--jobs", default="1",
                       help="submissions run in parallel: a number, or 'auto' (from the cores and the exam's "
                            "memory limit); default 1")
    grade.add_argument("--force", action="store_true", help="grade again even finished submissions")
    grade.add_argument("--require-sandbox", action="store_true",
                       help="refuse to grade when bubblewrap isolation is unavailable")
    grade.add_argument("--gpu", action="store_true", help="make the GPU devices visible in the sandbox")
    grade.add_argument("--manual-scores", type=Path,
                       help="CSV student,quality[,max][,comment]: imported once into OUT, kept for every rerun")
    grade.add_argument("--only", nargs="+", metavar="STUDENT", help="grade these students again, keep the others")
    grade.add_argument("--nbgrader-gradebook", metavar="DB_URL",
                       help="import manual quality scores from nbgrader's gradebook (e.g. sqlite:///gradebook.db)")
    grade.add_argument("--nbgrader-assignment", metavar="NAME", help="the assignment's name in the gradebook")
    grade.add_argument("--oral", type=Path, help="CSV student,oral: oral grades, imported once into OUT")
    grade.add_argument("--times", type=Path, help="CSV student,submitted_at (ISO 8601): hand-in times")
    grade.add_argument("--moodle-worksheet", type=Path,
                       help="Moodle's grading worksheet (CSV): hand-in times and participant ids")
    grade.add_argument("--dask", metavar="SCHEDULER", help="run on a Dask cluster (distributed) instead")
    grade.add_argument("--profile", action="store_true",
                       help="print where the time went, per stage (median over the submissions graded now)")
    grade.add_argument("--keep-work", action="store_true",
                       help="keep OUT/work/<student> (copies handed to the sandbox, its log) for debugging")
    grade.set_defaults(run=cmd_grade)

    check = sub.add_parser("check", help="check a notebook before handing it in")
    check.add_argument("notebook", type=Path)
    check.add_argument("--exam", type=Path, required=True, dest="exam_dir")
    check.add_argument("--out", type=Path, help="keep the executed notebook here")
    check.set_defaults(run=cmd_check)

    report = sub.add_parser("report", help="rebuild the reports of an output folder")
    report.add_argument("out_dir", type=Path)
    report.add_argument("--manual-scores", type=Path, help="CSV student,quality[,max][,comment] to import")
    report.add_argument("--oral", type=Path, help="CSV student,oral to import")
    report.add_argument("--nbgrader-gradebook", metavar="DB_URL", help="import manual scores from nbgrader")
    report.add_argument("--nbgrader-assignment", metavar="NAME", help="the assignment's name in the gradebook")
    report.set_defaults(run=cmd_report)

    new = sub.add_parser("new-exam", help="create a complete, runnable exam folder to start from")
    new.add_argument("folder", type=Path)
    new.add_argument("--kind", default="classification",
                     help="classification | regression | images | text (default classification)")
    new.add_argument("--title", help="the exam's title")
    new.set_defaults(run=cmd_new_exam)

    kit = sub.add_parser("student-kit", help="zip what students get: task, rules, public data, template, check")
    kit.add_argument("exam_dir", type=Path)
    kit.add_argument("--out", type=Path, required=True, help="the zip file to write")
    kit.set_defaults(run=cmd_student_kit)

    template = sub.add_parser("template", help="(re)generate the student template of an exam")
    template.add_argument("exam_dir", type=Path)
    template.add_argument("--out", type=Path, help="default: the exam's template path, or EXAM/template.ipynb")
    template.set_defaults(run=cmd_template)

    from grader import cli_session, review, similarity

    cli_session.register(sub)
    review.register(sub)
    similarity.register(sub)
    return parser


def _session_inputs(out: Path, records: list, exam, args, submissions_dir: Path | None = None) -> dict:
    """Import what the instructor entered (manual scores, oral grades, LMS ids, hand-in times) into OUT,
    where it stays for every later run; return the manual scores to use."""
    from grader import review_store, session

    if getattr(args, "manual_scores", None):
        imported = session.import_manual_scores(out, args.manual_scores, records)
        console.print(f"manual quality scores: {len(imported)} imported into {review_store.path(out)}")
    if getattr(args, "nbgrader_gradebook", None):
        if not args.nbgrader_assignment:
            raise ValueError("--nbgrader-gradebook needs --nbgrader-assignment NAME")
        from grader.quality import load_nbgrader_manual_scores

        scores = load_nbgrader_manual_scores(args.nbgrader_gradebook, args.nbgrader_assignment)
        imported = review_store.import_scores(out, scores, {r.student for r in records},
                                              names={r.student: r.name for r in records})
        console.print(f"manual quality scores from nbgrader: {len(imported)} imported")
    if getattr(args, "oral", None):
        n = session.import_oral_grades(out, args.oral, records, exam)
        console.print(f"oral grades: {n} imported")
    if submissions_dir is not None:
        for problem in session.record_lms_and_times(out, submissions_dir, moodle_worksheet=args.moodle_worksheet,
                                                    times_csv=args.times):
            console.print(f"[yellow]hand-in time[/yellow]: {escape(problem)}")
    return review_store.load(out)


def _sandbox_banner(require: bool) -> None:
    from grader.sandbox import SandboxUnavailable, isolation_available

    ok, why = isolation_available()
    if ok:
        console.print(f"sandbox: {why}")
        return
    if require:
        raise SandboxUnavailable(f"--require-sandbox: isolation unavailable ({why})")
    console.print(f"[bold red]WARNING: no sandbox ({why}).[/bold red] Submissions run with limits only: "
                  "they can read your files and reach the network. Install bubblewrap or grade in a "
                  "disposable VM; see README 'Security model'.")


def cmd_grade(args) -> int:
    from grader.batch import Options, grade_class
    from grader.report import write_reports
    from grader.sandbox import SandboxUnavailable

    exam = load_exam(args.exam_dir)
    if not args.submissions_dir.is_dir():
        raise NotADirectoryError(f"submissions folder {args.submissions_dir} does not exist")
    args.jobs = auto_jobs(exam) if args.jobs == "auto" else _positive_int(args.jobs, "--jobs")
    if args.gpu:
        from grader.sandbox import gpu_devices

        if not gpu_devices():
            raise ValueError("--gpu: no GPU device on this machine (no /dev/nvidia* or /dev/dri); grade "
                             "without --gpu to run the notebooks on the CPU")
    try:
        _sandbox_banner(args.require_sandbox)
    except SandboxUnavailable as exc:
        console.print(f"[red]{exc}[/red]")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "exam.json").write_text(json.dumps({"exam_dir": str(exam.folder)}))
    console.print(f"[bold]{exam.title}[/bold]: {exam.metric} ({exam.direction} is better), mode {exam.mode}")
    executor = client = None
    if args.dask:
        try:
            from distributed import Client
        except ImportError as exc:
            raise ValueError("--dask needs the dask extra: pip install -e '.[dask]'") from exc
        client = Client(args.dask)
        executor = client.get_executor()
    options = Options(require_sandbox=args.require_sandbox, force=args.force, gpu=args.gpu,
                      keep_work=args.keep_work)
    skipped: list = []
    stale: list = []
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as progress:
            task = progress.add_task("grading", total=None)

            def on_start(todo, done):
                progress.update(task, total=len(todo) + len(done))
                if done:
                    progress.console.print(f"resuming: {len(done)} already graded, {len(todo)} to go")

            graded_now: set[str] = set()

            def on_done(record, resumed):
                if not resumed:
                    graded_now.add(record.student)
                style = STATUS_STYLE.get(record.status, "")
                what = record.message if record.status == "ok" else f"{record.failure}: {record.message}"
                tag = " (already graded)" if resumed else f" ({record.seconds:.0f} s)"
                progress.console.print(f"[{style}]{record.status:6}[/{style}] {escape(record.student)}: "
                                       f"{escape(what[:150])}{tag}")
                progress.advance(task)

            records = grade_class(exam.folder, args.submissions_dir, args.out, options=options,
                                  executor=executor, jobs=args.jobs, on_start=on_start, on_done=on_done,
                                  skipped=skipped, only=set(args.only) if args.only else None, stale=stale)
    finally:
        if client is not None:
            client.close()
    _write_skipped(args.out, skipped)
    for student, parts, action in stale:
        console.print(f"[yellow]stale[/yellow] {escape(student)}: {', '.join(parts)} changed → {action}")
    manual = _session_inputs(args.out, records, exam, args, args.submissions_dir)
    if args.profile:
        _print_profile([r for r in records if r.student in graded_now])
    rows = write_reports(args.out, records, exam, manual)  # the submissions in the folder now
    _print_summary(rows, exam, args.out)
    return 0


def _print_profile(records: list) -> None:
    """Median seconds per stage over the submissions graded in this run."""
    from statistics import median

    if not records:
        console.print("profile: no submission was graded in this run")
        return
    stages = list(dict.fromkeys(name for r in records for name in r.timings))
    table = Table(title=f"where the time went (median of {len(records)} submissions, seconds)")
    for col in ("stage", "median", "max"):
        table.add_column(col)
    for name in stages:
        values = [r.timings.get(name, 0.0) for r in records]
        table.add_row(name, f"{median(values):.2f}", f"{max(values):.2f}")
    table.add_row("whole submission", f"{median(r.seconds for r in records):.2f}",
                  f"{max(r.seconds for r in records):.2f}")
    console.print(table)


def _write_skipped(out: Path, skipped: list) -> None:
    """Entries of the submissions folder that are not submissions: listed, with the reason, never lost."""
    import csv
    import io

    from grader.escaping import csv_text
    from grader.results import atomic_write_text

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["entry", "reason"])
    for item in skipped:
        writer.writerow([csv_text(item.entry), csv_text(item.reason)])
        console.print(f"[yellow]skipped[/yellow] {escape(item.entry)}: {escape(item.reason)}")
    atomic_write_text(out / "skipped.csv", buffer.getvalue())


def _positive_int(text: str, flag: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{flag} must be a positive integer or 'auto', got {text!r}")
    return int(text)


def auto_jobs(exam) -> int:
    """Parallel submissions this machine can hold: one per core, and no more than the memory available
    divided by the exam's memory limit (each sandbox may use all of it), at least one."""
    import os

    import psutil

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    by_memory = psutil.virtual_memory().available // (exam.limits.memory_mb * 2**20)
    jobs = max(1, min(cores, int(by_memory)))
    console.print(f"--jobs auto: {jobs} (cores {cores}, memory for {by_memory} sandboxes of "
                  f"{exam.limits.memory_mb:,} MB)")
    return jobs


def cmd_report(args) -> int:
    from grader.report import write_reports
    from grader.results import ResultStore
    from grader.session import exam_of

    exam = exam_of(args.out_dir)
    records = ResultStore(args.out_dir).all()
    rows = write_reports(args.out_dir, records, exam, _session_inputs(args.out_dir, records, exam, args))
    _print_summary(rows, exam, args.out_dir)
    return 0


def cmd_check(args) -> int:
    from grader.batch import Options, grade_submission
    from grader.submissions import Submission, student_id

    exam = load_exam(args.exam_dir)
    needed = [exam.public_data, exam.validation_inputs, exam.validation_labels]
    if any(p is None or not p.exists() for p in needed):
        exam.build_data()  # the instructor's folder; a student kit ships the public files already
    nb = args.notebook
    if not nb.is_file():
        raise FileNotFoundError(f"notebook {nb} not found")
    from grader.batch import declared_files

    declared = declared_files(exam)
    siblings = [p for p in nb.parent.iterdir() if p.name in declared and p.is_file() and not p.is_symlink()]
    sub = Submission(student_id(nb.stem), nb.stem, nb.resolve(), notebook=nb.resolve(),
                     files=[p.resolve() for p in siblings])
    out = args.out or Path(tempfile.mkdtemp(prefix="grader-check-"))
    console.print(f"checking {nb} against the public validation split of [bold]{exam.title}[/bold] ...")
    record = grade_submission(sub, exam.folder, out, Options(), split="validation")
    for note in record.notes:
        console.print(f"note: {escape((note.splitlines() or [''])[0])}")
    if record.status == "ok":
        console.print(f"[green]OK[/green]: {record.message} (validation split; the hidden test set decides)")
    else:
        console.print(f"[red]NOT SCORABLE[/red] ({record.failure}): {escape(record.message)}")
    for item in record.quality.get("items", []):
        console.print(f"  quality · {escape(item['title'])}: {item['points']:g}/{item['max_points']:g} — "
                      f"{escape(item['evidence'])}")
    console.print(f"executed notebook: {out / 'executed'}")
    return 0 if record.status == "ok" else 1


def cmd_new_exam(args) -> int:
    from grader.authoring.scaffold import new_exam

    written = new_exam(args.folder, args.kind, args.title)
    for path in written:
        console.print(f"wrote {path}")
    console.print(f"next: edit the task and make_data.py, then `grader check {args.folder / 'template.ipynb'} "
                  f"--exam {args.folder}`")
    return 0


def cmd_student_kit(args) -> int:
    from grader.authoring.kit import student_kit

    exam = load_exam(args.exam_dir)
    if exam.public_data.exists() is False or (exam.validation_inputs and not exam.validation_inputs.exists()):
        exam.build_data()
    out = student_kit(exam, args.out)
    console.print(f"wrote {out}: README.md (task and rules), data, template.ipynb, exam.toml, grader/")
    return 0


def cmd_template(args) -> int:
    import nbformat

    from grader.authoring.template import student_template

    exam = load_exam(args.exam_dir)
    out = args.out or exam.template or exam.folder / "template.ipynb"
    nbformat.write(student_template(exam), out)
    console.print(f"wrote {out}")
    return 0


def _print_summary(rows, exam, out_dir: Path) -> None:
    table = Table(title=f"{exam.title}: grades / {exam.grading.scale:g}")
    for col in ("rank", "student", exam.metric, "status", "objective", "quality", "total"):
        table.add_column(col)
    for row in rows:
        r, g = row.record, row.grade
        table.add_row(str(g.rank or ""), r.student, "" if r.metric is None else f"{r.metric:.4f}",
                      r.status if r.status == "ok" else r.failure, f"{g.objective_points:g}",
                      f"{g.quality_points:g}", f"{g.total:g}")
    console.print(table)
    console.print(f"wrote {out_dir / 'grades.csv'}, {out_dir / 'leaderboard.html'}, {out_dir / 'feedback'}/")


if __name__ == "__main__":
    sys.exit(main())
