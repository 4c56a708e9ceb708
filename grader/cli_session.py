"""`grader rescore` and `grader export`: the instructor's commands on a graded output folder."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape


def register(sub) -> None:
    rescore = sub.add_parser("rescore", help="recompute metrics from the kept predictions (no notebook runs)")
    rescore.add_argument("out_dir", type=Path)
    rescore.set_defaults(run=cmd_rescore)

    export = sub.add_parser("export", help="write the grades as an LMS imports them (moodle, canvas, csv)")
    export.add_argument("out_dir", type=Path)
    export.add_argument("--to", choices=("moodle", "canvas", "csv"), required=True)
    export.add_argument("--file", type=Path, help="the file to write (default OUT/grades-<to>.csv)")
    export.add_argument("--worksheet", type=Path,
                        help="the file downloaded from the LMS (Moodle grading worksheet / Canvas gradebook)")
    export.add_argument("--assignment", help="Canvas: the column 'Assignment Name (assignment_id)'")
    export.set_defaults(run=cmd_export)


def cmd_rescore(args) -> int:
    from grader import review_store, session
    from grader.cli import _print_summary, console
    from grader.report import write_reports
    from grader.rescore import rescore_class

    exam = session.exam_of(args.out_dir)
    changed = rescore_class(args.out_dir, exam)
    for record, before in changed:
        if record.metric != before:
            console.print(f"{escape(record.student)}: {exam.metric_display} {before} → {record.metric} "
                          f"({record.failure or 'ok'})")
    console.print(f"rescored {len(changed)} records from {args.out_dir / 'predictions'}")
    rows = write_reports(args.out_dir, [r for r, _ in changed], exam, review_store.load(args.out_dir))
    _print_summary(rows, exam, args.out_dir)
    return 0


def cmd_export(args) -> int:
    from grader import review_store, session
    from grader.cli import console
    from grader.lms import export
    from grader.report import add_finals, build_rows
    from grader.results import ResultStore

    exam = session.exam_of(args.out_dir)
    rows = build_rows(ResultStore(args.out_dir).all(), exam, review_store.load(args.out_dir))
    add_finals(rows, exam, args.out_dir)
    target = args.file or args.out_dir / f"grades-{args.to}.csv"
    warnings = export(rows, exam, target, args.to, lms_ids=session.lms_ids(args.out_dir),
                      finals={r.record.student: r.final for r in rows if r.final is not None},
                      worksheet=args.worksheet, assignment=args.assignment)
    for warning in warnings:
        console.print(f"[yellow]warning[/yellow]: {escape(warning)}")
    console.print(f"wrote {target} ({len(rows)} students) for {args.to}")
    return 0
