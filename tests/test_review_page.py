"""The review page (grader review OUT), driven in a real browser with the keyboard only.

Needs the ``playwright`` package and Debian's ``chromium`` (no browser is downloaded: the test
starts /usr/bin/chromium); the browser test is skipped, saying why, when either is missing. The
tests without a browser (escaping, CSRF, Host, loopback) always run.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from grader import review_store
from grader.results import Record, ResultStore
from grader.review import server as review_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SCREENSHOT = Path(__file__).resolve().parents[1] / "build" / "review-page.png"

HOSTILE_NAME = 'Bobby <img src=x onerror="window.pwned=1"><script>window.pwned=1</script>'
HOSTILE_MARKDOWN = ("## Bobby's notes\n\nMy model is great.\n\n<script>window.pwned=1; parent.pwned=1</script>\n\n"
                    '<img src=x onerror="window.pwned=1; parent.pwned=1">\n\n'
                    "![tracker](http://tracker.invalid/pixel.png)")
PNG_1PX = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _items(points: list[float], evidence: str = "") -> list[dict]:
    titles = [("plots", "Plots of the data and of the training"), ("errors", "A look at the errors"),
              ("discussion", "Discussion of the results")]
    return [{"key": k, "title": t, "points": p, "max_points": 2.0, "evidence": evidence or f"{t.lower()}: found"}
            for (k, t), p in zip(titles, points)]


def _notebook(markdown: str, code: str, outputs: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell(code, execution_count=1)
    cell.outputs = outputs
    nb.cells = [nbformat.v4.new_markdown_cell(markdown), cell]
    return nb


def build_out(out: Path) -> Path:
    """An output folder of grader grade with three students, one of them hostile."""
    store = ResultStore(out)
    store.save(Record(student="s001", name="Ada Lovelace", notebook="ada.ipynb", fingerprint="a", metric=0.912,
                      quality={"items": _items([2, 1.5, 1]), "estimate": 0.75}))
    store.save(Record(student="s002", name=HOSTILE_NAME, notebook="bobby.ipynb", fingerprint="b", metric=0.84,
                      quality={"items": _items([1, 0, 0.5], evidence="<script>window.pwned=1</script>"),
                               "estimate": 0.25}))
    store.save(Record(student="s003", name="Grace Hopper", notebook="grace.ipynb", fingerprint="c", status="failed",
                      failure="exception", message="ValueError: shapes (None, 10) and (None, 5) are incompatible",
                      quality={"items": _items([2, 2, 1]), "estimate": 0.8333}))
    executed = out / "executed"
    executed.mkdir()
    stream = nbformat.v4.new_output("stream", name="stdout", text="accuracy 0.912\n")
    plot = nbformat.v4.new_output("display_data", data={"image/png": PNG_1PX, "text/plain": "<Figure>"})
    nbformat.write(_notebook("# Ada's analysis\n\nThe **confusion matrix** shows shirts and T-shirts mixed up.",
                             "model.fit(x, y)\nprint('accuracy', 0.912)", [stream, plot]), executed / "s001.ipynb")
    hostile_html = nbformat.v4.new_output("display_data", data={
        "text/html": "<b>output</b><script>window.pwned=1; parent.pwned=1</script>", "text/plain": "x"})
    nbformat.write(_notebook(HOSTILE_MARKDOWN, "display(HTML(...))", [hostile_html]), executed / "s002.ipynb")
    error = nbformat.v4.new_output("error", ename="ValueError", evalue="shapes are incompatible",
                                   traceback=["ValueError: shapes are incompatible"])
    nbformat.write(_notebook("# Grace's notebook\n\nA dense network.", "model.fit(x, y)", [error]),
                   executed / "s003.ipynb")
    return out


@pytest.fixture
def served(tmp_path):
    out = build_out(tmp_path / "out")
    server = review_server.make_server(out, port=0, default_max=6)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server, out
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _request(server, path: str, *, method: str = "GET", body: dict | None = None, headers: dict | None = None,
             cookie: bool = True) -> tuple[int, dict, str]:
    """(status, headers, text) of one request to the server, by default with its access cookie."""
    all_headers = {"Cookie": f"{server.cookie_name}={server.access_key}"} if cookie else {}
    all_headers.update(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", data=data, method=method,
                                     headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


# ---------------------------------------------------------------- without a browser


def test_refuses_to_listen_beyond_loopback(tmp_path):
    out = build_out(tmp_path / "out")
    for host in ("0.0.0.0", "192.168.1.10", "::", "example.org", ""):
        with pytest.raises(ValueError, match="loopback"):
            review_server.make_server(out, host=host)
    server = review_server.make_server(out, host="localhost")
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_page_escapes_student_content_and_sets_a_policy(served):
    server, _ = served
    assert server.server_address[0] == "127.0.0.1"
    status, headers, html = _request(server, "/")
    assert status == 200
    assert "<img src=x" not in html and "<script>window.pwned" not in html
    assert "\\u003cimg src=x onerror" in html  # the name is there, as data
    policy = headers["Content-Security-Policy"]
    assert "script-src 'nonce-" in policy and "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert f'name="csrf-token" content="{server.csrf_token}"' in html
    assert '<iframe id="notebook" title="executed notebook" sandbox=""' in html

    status, headers, notebook = _request(server, "/notebook/s002")
    assert status == 200 and "Bobby" in notebook
    assert headers["Content-Security-Policy"].startswith("sandbox;")
    assert _request(server, "/notebook/..%2Fresults%2Fs001")[0] == 404
    assert _request(server, "/notebook/nobody")[0] == 404


def test_requests_without_the_key_token_host_or_origin_are_refused(served):
    server, out = served
    good = {"X-CSRF-Token": server.csrf_token, "Origin": f"http://127.0.0.1:{server.port}"}
    body = {"student": "s001", "score": 4, "max": 6, "comment": "ok"}
    assert _request(server, "/", cookie=False)[0] == 403
    assert _request(server, "/notebook/s001", cookie=False)[0] == 403
    assert _request(server, "/?key=wrong", cookie=False)[0] == 403
    assert _request(server, "/", headers={"Host": f"attacker.example:{server.port}"})[0] == 403  # DNS rebinding
    assert _request(server, "/api/score", method="POST", body=body)[0] == 403  # no CSRF token
    assert _request(server, "/api/score", method="POST", body=body,
                    headers={**good, "X-CSRF-Token": "guess"})[0] == 403
    assert _request(server, "/api/score", method="POST", body=body,
                    headers={**good, "Origin": "http://attacker.example"})[0] == 403
    assert _request(server, "/api/score", method="POST", body=body, headers=good, cookie=False)[0] == 403
    assert _request(server, "/api/score", method="POST", body=body,
                    headers={**good, "Content-Type": "text/plain"})[0] == 415
    assert not review_store.path(out).exists()

    status, _, text = _request(server, "/api/score", method="POST", body={**body, "score": 7}, headers=good)
    assert status == 400 and "outside" in text
    assert _request(server, "/api/score", method="POST", body={**body, "student": "nobody"}, headers=good)[0] == 404
    status, _, text = _request(server, "/api/score", method="POST", body=body, headers=good)
    assert status == 200 and json.loads(text)["manual"]["score"] == 4
    assert review_store.load(out)["s001"].comment == "ok"
    assert _request(server, "/api/clear", method="POST", body={"student": "s001"}, headers=good)[0] == 200
    assert review_store.load(out) == {}


def test_a_damaged_review_file_is_reported_not_ignored(served):
    server, out = served
    review_store.path(out).write_text("{not json", encoding="utf-8")
    status, _, html = _request(server, "/")
    assert status == 500 and "not valid JSON" in html
    good = {"X-CSRF-Token": server.csrf_token}
    status, _, text = _request(server, "/api/score", method="POST", headers=good,
                               body={"student": "s001", "score": 1, "max": 6})
    assert status == 400 and "not valid JSON" in text  # and the file is left for the instructor to fix
    assert review_store.path(out).read_text(encoding="utf-8") == "{not json"


# ---------------------------------------------------------------- in a real browser


def _browser_or_skip():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed "
                                   "(pip install -r requirements-dev.txt)")
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (the test never downloads a browser)")
    return sync_api


def test_review_with_the_keyboard_in_chromium(served):
    sync_api = _browser_or_skip()
    expect = sync_api.expect
    server, out = served
    assert server.server_address[0] == "127.0.0.1"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(20_000)
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.on("dialog", lambda dialog: (problems.append("dialog: " + dialog.message), dialog.dismiss()))
            _drive(page, expect, server, out)
            assert problems == []
        finally:
            browser.close()


def _drive(page, expect, server, out: Path) -> None:
    page.goto(server.url)
    assert "key=" not in page.url  # traded for a cookie
    items = page.locator("li.student")
    expect(items).to_have_count(3)
    # sorted by name: Ada (s001), Bobby (s002, hostile), Grace (s003)
    assert [items.nth(i).get_attribute("data-student") for i in range(3)] == ["s001", "s002", "s003"]
    notebook = page.frame_locator("#notebook")
    expect(notebook.locator("h1", has_text="Ada's analysis")).to_be_visible()
    expect(page.locator("#name")).to_have_text("Ada Lovelace")
    expect(page.locator("#rubric tr")).to_have_count(3)
    expect(page.locator("li.student.current")).to_have_attribute("data-student", "s001")

    # j / k and the arrows move; the hostile notebook and name stay inert
    page.keyboard.press("j")
    expect(page.locator("li.student.current")).to_have_attribute("data-student", "s002")
    expect(notebook.locator("h2", has_text="Bobby's notes")).to_be_visible()
    expect(page.locator("#name")).to_have_text(HOSTILE_NAME)  # shown as text
    expect(items.nth(1).locator(".name")).to_have_text(HOSTILE_NAME)
    assert page.locator("nav img, aside img, aside script, nav script").count() == 0
    expect(page.locator("#rubric .evidence").first).to_have_text("<script>window.pwned=1</script>")
    frame = next(f for f in page.frames if f != page.main_frame)
    assert frame.locator("img[onerror]").count() == 1  # the hostile markup is there, and inert:
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.evaluate("typeof window.parent.pwned") == "undefined"
    assert frame.evaluate("typeof window.pwned") == "undefined"
    page.keyboard.press("ArrowDown")
    expect(page.locator("li.student.current")).to_have_attribute("data-student", "s003")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("k")
    expect(page.locator("li.student.current")).to_have_attribute("data-student", "s001")

    # a digit starts the score, Enter saves and moves on
    page.keyboard.press("5")
    expect(page.locator("#score")).to_be_focused()
    page.keyboard.type(".5")
    page.keyboard.press("Enter")
    expect(page.locator("li.student.current")).to_have_attribute("data-student", "s002")
    expect(items.nth(0).locator(".score.manual")).to_have_text("5.5 / 6")
    assert _stored(out)["s001"] == {"score": 5.5, "max": 6.0, "comment": "", "source": "review page"}

    # a score, then c for the comment, Ctrl+Enter saves from there
    page.keyboard.press("3")
    page.keyboard.press("Escape")
    page.keyboard.press("c")
    expect(page.locator("#comment")).to_be_focused()
    page.keyboard.type("Plots fine <b>but</b> no look at the errors.")
    page.keyboard.press("Enter")  # a new line, not a save
    page.keyboard.type("Second line.")
    page.keyboard.press("Control+Enter")
    expect(page.locator("li.student.current")).to_have_attribute("data-student", "s003")
    expect(items.nth(1).locator(".score.manual")).to_have_text("3 / 6")
    assert _stored(out)["s002"]["comment"] == "Plots fine <b>but</b> no look at the errors.\nSecond line."

    # out of range: refused in the page, nothing stored; then corrected
    page.keyboard.press("9")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("between 0 and 6")
    assert "s003" not in _stored(out)
    page.keyboard.press("Backspace")
    page.keyboard.type("4")
    page.keyboard.press("Enter")
    expect(items.nth(2).locator(".score.manual")).to_have_text("4 / 6")
    expect(page.locator("#progress")).to_have_text("3 of 3 reviewed")
    assert _stored(out)["s003"]["score"] == 4.0

    # going back shows what was saved; a reload keeps it
    page.keyboard.press("k")
    expect(page.locator("#comment")).to_have_value("Plots fine <b>but</b> no look at the errors.\nSecond line.")
    expect(page.locator("#score")).to_have_value("3")
    page.reload()
    expect(page.locator("li.student .score.manual")).to_have_count(3)
    expect(page.locator("li.student.current")).to_have_attribute("data-student", "s002")  # from the URL's #

    # from the page's own origin and cookie, a POST still needs the token
    response = page.request.post(f"http://127.0.0.1:{server.port}/api/score",
                                 data=json.dumps({"student": "s001", "score": 0, "max": 6}),
                                 headers={"Content-Type": "application/json"})
    assert response.status == 403
    assert page.evaluate("""async () => (await fetch("api/score", {method: "POST",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({student: "s001", score: 0, max: 6})})).status""") == 403  # same page, no token
    assert _stored(out)["s001"]["score"] == 5.5
    assert page.evaluate("typeof window.pwned") == "undefined"

    page.keyboard.press("k")
    expect(notebook.locator("h1", has_text="Ada's analysis")).to_be_visible()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))


def _stored(out: Path) -> dict:
    return {student: {k: v for k, v in entry.items() if k != "updated"}
            for student, entry in review_store.entries(out).items()}


def test_record_fields_used_by_the_page_exist():
    names = {f.name for f in dataclasses.fields(Record)}
    assert {"student", "name", "status", "failure", "message", "metric", "quality"} <= names
