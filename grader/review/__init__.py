"""``grader review OUT``: a local page to review the descriptive quality, one student after another.

    grader review OUT [--port 0] [--no-browser] [--max POINTS]

It lists the students of OUT (status, current score), shows each executed notebook beside the rubric
estimate, and stores the instructor's score and comment in ``OUT/manual_review.json`` (see
``grader.review_store``), which ``grader grade`` and ``grader report`` read. Keyboard-driven: ``j``/``k``
(or the arrows) move, a digit starts the score, Enter saves, ``c`` goes to the comment, Ctrl+Enter saves
from there; saving moves on to the next student. The server listens on 127.0.0.1 only.

Wiring, in cli.py: ``from grader import review`` then ``review.register(sub)``.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Adds the ``review`` subcommand; its ``run`` returns the exit code."""
    parser = subparsers.add_parser("review", help="review and score the descriptive quality in a local web page",
                                   description="Serve a review page for OUT on 127.0.0.1 (only).")
    parser.add_argument("out_dir", type=Path, metavar="OUT", help="an output folder of grader grade")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: a free one)")
    parser.add_argument("--no-browser", action="store_true", help="print the URL, do not open a browser")
    parser.add_argument("--max", type=float, default=None, dest="max_score",
                        help="what a full score is worth (default: the exam's quality points, "
                             "quality_weight x scale; a score already saved keeps its own)")
    parser.set_defaults(run=cmd_review)
    return parser


def cmd_review(args: argparse.Namespace) -> int:
    from grader.review.server import make_server

    server = make_server(args.out_dir, port=args.port, default_max=args.max_score)
    url = server.url
    print(f"Review page for {args.out_dir}: {url}", flush=True)
    print("Scores are saved to " + str(args.out_dir / "manual_review.json") + ". Stop with Ctrl+C.", flush=True)
    if not args.no_browser:
        import threading
        import webbrowser

        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        print("\nstopped", flush=True)
    finally:
        server.server_close()
    return 0
