"""The review page's server: standard library only, loopback only.

What keeps grades and student work private and the scores honest:
- it binds to 127.0.0.0/8 only (anything else is refused before a socket is opened);
- an access key, in the URL it prints, is traded for an HttpOnly cookie: other users of a shared
  machine can reach the port but not the page (as Jupyter does);
- the Host header must be the server's own (no DNS rebinding);
- a POST needs the CSRF token generated at start and embedded in the page, a JSON body, and an
  Origin (when the browser sends one) that is the server's own;
- the notebook, student content, is rendered by nbconvert and shown only in a sandboxed iframe,
  under a Content-Security-Policy, with every string of the page itself escaped (see page.py).
"""

from __future__ import annotations

import hashlib
import hmac
import http.cookies
import ipaddress
import json
import secrets
import threading
import urllib.parse
from collections import OrderedDict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from grader import review_store, safe_files
from grader.results import Record, ResultStore
from grader.review import page

MAX_BODY = 64 * 1024  # a score and a comment of at most 5,000 characters
MAX_NOTEBOOK_BYTES = 200 * 2**20
RENDERED_KEPT = 16  # rendered notebooks kept in memory (the current one, the next, a few to go back to)


def check_loopback(host: str) -> str:
    """The IPv4 loopback address to bind to; ValueError for anything else ('localhost' -> 127.0.0.1)."""
    if host == "localhost":
        host = "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"refusing to listen on {host!r}: the review page serves grades and student work, "
                         "it listens on a loopback address (127.0.0.1) only") from None
    if address.version != 4 or not address.is_loopback:
        raise ValueError(f"refusing to listen on {host}: the review page serves grades and student work, "
                         "it listens on a loopback address (127.0.0.1) only")
    return str(address)


class ReviewApp:
    """What the page shows and changes: the records of OUT, its manual review, rendered notebooks."""

    def __init__(self, out_dir: Path | str, default_max: float | None = None):
        self.out_dir = Path(out_dir)
        if not (self.out_dir / "results").is_dir():
            raise FileNotFoundError(f"{self.out_dir} is not a grader output folder (no results/): "
                                    "run grader grade first")
        self.title, self.metric_name, exam_max = self._exam_info()
        self.default_max = float(default_max) if default_max is not None else exam_max
        if not self.default_max > 0:
            raise ValueError(f"the maximum score must be positive, got {self.default_max:g}")
        review_store.load(self.out_dir)  # a damaged manual_review.json: say so now, not on the first save
        self._records: dict[str, Record] = {}
        self._render_lock = threading.Lock()
        self._rendered: OrderedDict[str, tuple[bytes, str]] = OrderedDict()  # student -> (file hash, html)
        self._exporter = None
        self.reload()

    def _exam_info(self) -> tuple[str, str, float]:
        try:
            from grader.exam import load_exam

            exam_dir = json.loads((self.out_dir / "exam.json").read_text(encoding="utf-8"))["exam_dir"]
            exam = load_exam(exam_dir)
            return exam.title, exam.metric_display, round(exam.grading.quality_weight * exam.grading.scale, 6)
        except Exception:  # no exam.json, or the exam folder moved: the page still works, out of 1
            return self.out_dir.name, "metric", 1.0

    def reload(self) -> None:
        self._records = {r.student: r for r in ResultStore(self.out_dir).all()}

    def knows(self, student: str) -> bool:
        return student in self._records

    def state(self) -> dict:
        manual = review_store.entries(self.out_dir)
        students = []
        for r in sorted(self._records.values(), key=lambda r: ((r.name or r.student).casefold(), r.student)):
            q = r.quality if isinstance(r.quality, dict) else {}
            estimate = q.get("estimate")
            items = [{"key": str(i.get("key", "")), "title": str(i.get("title", "")),
                      "points": _num(i.get("points")), "max_points": _num(i.get("max_points")),
                      "evidence": str(i.get("evidence", ""))[:2000]}
                     for i in q.get("items", []) if isinstance(i, dict)]
            students.append({"id": r.student, "name": r.name, "status": r.status, "failure": r.failure,
                             "message": (r.message or "")[:2000], "metric": _num(r.metric),
                             "estimate": _num(estimate), "items": items, "manual": manual.get(r.student)})
        return {"students": students, "default_max": self.default_max, "metric_name": self.metric_name}

    def notebook_html(self, student: str) -> tuple[int, str]:
        """(HTTP status, HTML) of the student's executed notebook, rendered once per version of the file."""
        folder = self.out_dir / "executed"
        file = folder / f"{student}.ipynb"
        try:
            data = safe_files.read_limited(file, MAX_NOTEBOOK_BYTES, root=folder)
        except safe_files.UnsafeFile as exc:
            record = self._records.get(student)
            if not file.exists() and not file.is_symlink():
                why = f" ({record.failure}: {record.message})" if record and record.failure else ""
                return 404, page.message_page("No executed notebook",
                                              f"There is no executed notebook for {student}{why}.")
            return 500, page.message_page("Cannot read the notebook", str(exc))
        except OSError as exc:
            return 500, page.message_page("Cannot read the notebook", str(exc))
        signature = hashlib.sha256(data).digest()
        with self._render_lock:
            cached = self._rendered.get(student)
            if cached and cached[0] == signature:
                self._rendered.move_to_end(student)
                return 200, cached[1]
            try:
                html = self._render(data)
            except Exception as exc:  # a notebook nbformat or nbconvert cannot read
                return 500, page.message_page("Cannot render the notebook", f"{type(exc).__name__}: {exc}")
            self._rendered[student] = (signature, html)
            while len(self._rendered) > RENDERED_KEPT:
                self._rendered.popitem(last=False)
        return 200, html

    def _render(self, data: bytes) -> str:
        import nbformat
        from nbconvert import HTMLExporter

        if self._exporter is None:
            self._exporter = HTMLExporter(template_name="lab")
        notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
        body, _ = self._exporter.from_notebook_node(notebook)
        return body


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if value == value and abs(value) != float("inf") else None


class ReviewServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, app: ReviewApp, host: str = "127.0.0.1", port: int = 0):
        host = check_loopback(host)
        self.app = app
        self.csrf_token = secrets.token_urlsafe(32)
        self.access_key = secrets.token_urlsafe(24)
        super().__init__((host, port), ReviewHandler)
        bound = ipaddress.ip_address(self.server_address[0])
        if not bound.is_loopback:  # cannot happen; never serve if it did
            self.server_close()
            raise RuntimeError(f"bound to {bound}, not a loopback address")
        self.port = self.server_address[1]
        self.origins = {f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}"}
        self.hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        self.cookie_name = f"grader_review_{self.port}"

    @property
    def url(self) -> str:
        """The address to open: it carries the access key."""
        return f"http://127.0.0.1:{self.port}/?key={self.access_key}"


def make_server(out_dir: Path | str, *, port: int = 0, host: str = "127.0.0.1",
                default_max: float | None = None) -> ReviewServer:
    """A review server for OUT, bound (not yet serving: call serve_forever, e.g. in a thread)."""
    check_loopback(host)  # before reading anything
    return ReviewServer(ReviewApp(out_dir, default_max), host, port)


class ReviewHandler(BaseHTTPRequestHandler):
    server: ReviewServer
    server_version = "grader-review"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # quiet: the terminal shows the URL, not a log
        pass

    # ---- responses ----
    def _send(self, status: int, body: str | bytes, content_type: str, headers: dict | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _json(self, status: int, value: dict) -> None:
        self._send(status, json.dumps(value), "application/json")

    def _refuse(self, status: int, message: str) -> None:
        self.close_connection = True  # an unread request body must not be taken for the next request
        if self.path.startswith("/api/"):
            self._json(status, {"error": message})
        else:
            self._send(status, page.message_page(HTTPStatus(status).phrase, message), "text/html; charset=utf-8",
                       {"Content-Security-Policy": page.NOTEBOOK_CSP.replace("frame-ancestors 'self'",
                                                                             "frame-ancestors 'none'")})

    # ---- checks ----
    def _host_ok(self) -> bool:
        return self.headers.get("Host", "") in self.server.hosts

    def _authorized(self) -> bool:
        cookies = http.cookies.SimpleCookie()
        try:
            cookies.load(self.headers.get("Cookie", ""))
        except http.cookies.CookieError:
            return False
        morsel = cookies.get(self.server.cookie_name)
        return morsel is not None and hmac.compare_digest(morsel.value, self.server.access_key)

    def _guarded(self, method) -> None:
        try:
            method()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as exc:  # e.g. a manual_review.json damaged by hand while the page runs
            try:
                self._refuse(500, f"{type(exc).__name__}: {exc}")
            except OSError:
                self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802
        self._guarded(self._get)

    def do_HEAD(self) -> None:  # noqa: N802
        self._guarded(self._get)

    def do_POST(self) -> None:  # noqa: N802
        self._guarded(self._post)

    # ---- GET ----
    def _get(self) -> None:
        if not self._host_ok():
            return self._refuse(403, "unexpected Host header: open the page at the URL grader review printed")
        url = urllib.parse.urlsplit(self.path)
        key = urllib.parse.parse_qs(url.query).get("key", [""])[0]
        if url.path == "/" and key:
            if not hmac.compare_digest(key, self.server.access_key):
                return self._refuse(403, "wrong access key: open the URL grader review printed")
            cookie = (f"{self.server.cookie_name}={self.server.access_key}; Path=/; HttpOnly; SameSite=Strict")
            return self._send(303, "", "text/plain", {"Location": "/", "Set-Cookie": cookie})
        if not self._authorized():
            return self._refuse(403, "open the page at the URL grader review printed (it carries the access key)")
        if url.path == "/":
            app = self.server.app
            app.reload()
            nonce = secrets.token_urlsafe(16)
            html = page.render_page(title=app.title, state=app.state(), csrf_token=self.server.csrf_token, nonce=nonce)
            return self._send(200, html, "text/html; charset=utf-8",
                              {"Content-Security-Policy": page.content_security_policy(nonce),
                               "X-Frame-Options": "DENY"})
        if url.path.startswith("/notebook/"):
            student = urllib.parse.unquote(url.path.removeprefix("/notebook/"))
            if not self.server.app.knows(student):
                return self._refuse(404, "no such student")
            status, html = self.server.app.notebook_html(student)
            return self._send(status, html, "text/html; charset=utf-8",
                              {"Content-Security-Policy": page.NOTEBOOK_CSP})
        if url.path == "/api/state":
            return self._json(200, self.server.app.state())
        return self._refuse(404, "not found")

    # ---- POST ----
    def _post(self) -> None:
        if not self._host_ok():
            return self._refuse(403, "unexpected Host header")
        origin = self.headers.get("Origin")
        if origin is not None and origin not in self.server.origins:
            return self._refuse(403, "request from another origin")
        if self.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            return self._refuse(403, "request from another site")
        if not self._authorized():
            return self._refuse(403, "no access key cookie: open the URL grader review printed")
        if not hmac.compare_digest(self.headers.get("X-CSRF-Token", ""), self.server.csrf_token):
            return self._refuse(403, "missing or wrong CSRF token: reload the page")
        if self.headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/json":
            return self._refuse(415, "expected a JSON body")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._refuse(411, "a Content-Length is required")
        if length < 0 or length > MAX_BODY:
            return self._refuse(413, f"body over {MAX_BODY} bytes")
        try:
            body = json.loads(self.rfile.read(length).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self._refuse(400, "the body is not valid JSON")
        if not isinstance(body, dict):
            return self._refuse(400, "expected a JSON object")
        path = urllib.parse.urlsplit(self.path).path
        if path not in ("/api/score", "/api/clear"):
            return self._refuse(404, "not found")
        student = body.get("student")
        if not isinstance(student, str) or not self.server.app.knows(student):
            return self._refuse(404, f"no such student: {student!r}")
        out_dir = self.server.app.out_dir
        try:
            if path == "/api/clear":
                return self._json(200, {"ok": True, "removed": review_store.clear(out_dir, student)})
            review_store.set_score(out_dir, student, body.get("score"), body.get("max"),
                                   body.get("comment", ""), source="review page")
            return self._json(200, {"ok": True, "manual": review_store.entries(out_dir).get(student)})
        except ValueError as exc:
            return self._refuse(400, str(exc))
