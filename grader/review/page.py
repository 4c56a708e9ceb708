"""The review page: one HTML document, its CSS and its JavaScript; no framework, nothing fetched
from elsewhere.

Student content never reaches this document as markup: names, ids, messages, rubric evidence and
comments travel as JSON in a data block (``<`` ``>`` ``&`` escaped, so nothing in it can close the
block) and the script puts them in the page as text nodes (``textContent``), never ``innerHTML``.
The executed notebook is shown in ``<iframe sandbox srcdoc>``: no script of it runs, it cannot reach
this page, and the page's Content-Security-Policy (inherited by srcdoc) stops it loading anything.
"""

from __future__ import annotations

import json
import re

from grader.escaping import esc


def json_for_script(value: object) -> str:
    """JSON that is safe inside <script type="application/json">: no '<', '>' or '&' left."""
    text = json.dumps(value, ensure_ascii=True, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def content_security_policy(nonce: str) -> str:
    return ("default-src 'none'; "
            f"script-src 'nonce-{nonce}'; "
            "style-src 'self' 'unsafe-inline'; "  # the notebook's own stylesheet, in srcdoc, has no nonce
            "img-src data:; font-src data:; connect-src 'self'; frame-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


# The notebook endpoint, if opened on its own: no script, no origin, nothing loaded from outside.
NOTEBOOK_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
                "frame-ancestors 'self'")


def render_page(*, title: str, state: dict, csrf_token: str, nonce: str) -> str:
    values = {"TITLE": esc(title), "TOKEN": esc(csrf_token), "NONCE": esc(nonce), "STATE": json_for_script(state)}
    return re.sub(r"%(TITLE|TOKEN|NONCE|STATE)%", lambda m: values[m.group(1)], _PAGE)  # one pass


def message_page(title: str, text: str) -> str:
    """A small page (an error, a missing notebook) with the text escaped."""
    return ("<!doctype html><html><head><meta charset='utf-8'><title>" + esc(title) + "</title></head>"
            "<body style='font:15px system-ui,sans-serif;color:#444;margin:2em'>"
            f"<h2>{esc(title)}</h2><p>{esc(text)}</p></body></html>")


_CSS = """
:root { --line:#d9dde3; --muted:#68707c; --accent:#2563eb; --ok:#15803d; --bad:#b91c1c; --bg:#f6f7f9; }
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #1f2328;
       display: grid; grid-template-rows: auto 1fr; grid-template-columns: 270px 1fr 390px;
       grid-template-areas: "top top top" "list nb side"; background: var(--bg); }
header { grid-area: top; display: flex; align-items: baseline; gap: 1.2em; padding: .45em 1em;
         background: #111827; color: #f3f4f6; }
header h1 { font-size: 15px; margin: 0; font-weight: 600; min-width: 8em; overflow: hidden;
            white-space: nowrap; text-overflow: ellipsis; }
header .progress { color: #cbd5e1; white-space: nowrap; }
header .keys { margin-left: auto; color: #cbd5e1; font-size: 12.5px; white-space: nowrap; }
kbd { font: 11.5px ui-monospace, "DejaVu Sans Mono", monospace; border: 1px solid #9ca3af; border-radius: 3px;
      padding: 0 .3em; background: #374151; color: #fff; }
nav { grid-area: list; overflow-y: auto; border-right: 1px solid var(--line); background: #fff; }
nav ol { list-style: none; margin: 0; padding: 0; }
li.student { padding: .45em .8em; border-bottom: 1px solid #eef0f3; cursor: pointer;
             border-left: 4px solid transparent; }
li.student:hover { background: #f1f5fe; }
li.student.current { background: #e0eaff; border-left-color: var(--accent); }
li.student .row { display: flex; justify-content: space-between; gap: .5em; }
li.student .name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
li.student .sub { color: var(--muted); font-size: 12.5px; }
li.student .sid { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
li.student .score { white-space: nowrap; font-variant-numeric: tabular-nums; }
li.student .score.manual { color: var(--ok); font-weight: 600; }
li.student .score.manual::before { content: "\\2713  "; }
.badge { font-size: 11px; border-radius: 9px; padding: 0 .55em; color: #fff; background: var(--ok);
         align-self: center; white-space: nowrap; }
.badge.failed { background: var(--bad); }
main { grid-area: nb; min-width: 0; display: flex; }
main iframe { flex: 1; border: 0; background: #fff; width: 100%; height: 100%; }
aside { grid-area: side; overflow-y: auto; border-left: 1px solid var(--line); background: #fff; padding: .8em 1em; }
aside h2 { font-size: 17px; margin: 0 0 .1em; word-break: break-word; }
aside h3 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted);
           margin: 1.1em 0 .4em; }
.meta { color: var(--muted); font-size: 12.5px; word-break: break-word; }
.failure { color: var(--bad); white-space: pre-wrap; word-break: break-word; font-size: 12.5px;
           max-height: 8em; overflow: auto; }
table.rubric { width: 100%; border-collapse: collapse; font-size: 12.5px; }
table.rubric td { border-top: 1px solid #eef0f3; padding: .3em .2em; vertical-align: top; }
table.rubric td.pts { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.rubric .evidence { color: var(--muted); word-break: break-word; }
.estimate { font-weight: 600; }
form { display: grid; gap: .45em; }
form .line { display: flex; align-items: center; gap: .4em; }
input, textarea { font: inherit; border: 1px solid #b8bfc9; border-radius: 4px; padding: .35em .5em; }
input:focus, textarea:focus { outline: 2px solid var(--accent); border-color: var(--accent); }
input#score { width: 6em; font-size: 18px; font-weight: 600; }
input#max { width: 4.5em; }
textarea { width: 100%; min-height: 8em; resize: vertical; }
button { font: inherit; padding: .35em .9em; border-radius: 4px; border: 1px solid #b8bfc9; background: #f3f4f6;
         cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
.hint { color: var(--muted); font-size: 12px; }
#status { min-height: 1.4em; font-size: 13px; }
#status.error { color: var(--bad); font-weight: 600; }
#status.saved { color: var(--ok); }
.empty { padding: 2em; color: var(--muted); }
"""

_JS = r"""
"use strict";
const state = JSON.parse(document.getElementById("state").textContent);
const token = document.querySelector('meta[name="csrf-token"]').content;
const students = state.students;
const $ = (id) => document.getElementById(id);
let current = 0;
let loadSeq = 0;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function fmt(x) { return String(Math.round(Number(x) * 100) / 100); }
function defaultMax(s) { return s.manual ? s.manual.max : state.default_max; }
function scoreText(s) {
  if (s.manual) return fmt(s.manual.score) + " / " + fmt(s.manual.max);
  if (s.estimate !== null && s.estimate !== undefined)
    return "est. " + fmt(s.estimate * state.default_max) + " / " + fmt(state.default_max);
  return "\u2013";
}
function setStatus(text, kind) { const st = $("status"); st.textContent = text; st.className = kind || ""; }

function listItem(s, i) {
  const li = el("li", "student");
  li.id = "student-" + i;
  li.dataset.student = s.id;
  li.setAttribute("role", "option");
  const top = el("div", "row");
  const badge = el("span", "badge " + (s.status === "ok" ? "ok" : "failed"), s.status);
  top.append(el("span", "name", s.name || s.id), badge);
  const sub = el("div", "row sub");
  sub.append(el("span", "sid", s.id), el("span", "score" + (s.manual ? " manual" : ""), scoreText(s)));
  li.append(top, sub);
  li.addEventListener("click", () => select(i));
  return li;
}
function renderList() {
  $("list").replaceChildren(...students.map(listItem));
  markCurrent();
  updateProgress();
}
function updateItem(i) {
  const old = $("student-" + i);
  const li = listItem(students[i], i);
  old.replaceWith(li);
  markCurrent();
  updateProgress();
}
function markCurrent() {
  for (const li of document.querySelectorAll("li.student")) {
    const on = li.id === "student-" + current;
    li.classList.toggle("current", on);
    li.setAttribute("aria-selected", on ? "true" : "false");
  }
}
function updateProgress() {
  const done = students.filter((s) => s.manual).length;
  $("progress").textContent = done + " of " + students.length + " reviewed";
}

function renderDetail() {
  const s = students[current];
  $("name").textContent = s.name || s.id;
  const meta = [s.id, s.status];
  if (s.metric !== null && s.metric !== undefined) meta.push(state.metric_name + " " + fmt(s.metric));
  $("meta").textContent = meta.join(" \u00b7 ");
  $("failure").textContent = s.status === "ok" ? "" : ((s.failure || "") + (s.message ? ": " + s.message : ""));
  const rows = (s.items || []).map((item) => {
    const tr = el("tr");
    const what = el("td");
    what.append(el("div", "", item.title || item.key), el("div", "evidence", item.evidence || ""));
    tr.append(what, el("td", "pts", fmt(item.points) + " / " + fmt(item.max_points)));
    return tr;
  });
  $("rubric").replaceChildren(...rows);
  $("estimate").textContent = (s.estimate === null || s.estimate === undefined) ? "no estimate" :
    fmt(s.estimate * 100) + " % \u2248 " + fmt(s.estimate * state.default_max) + " / " + fmt(state.default_max);
  $("score").value = s.manual ? fmt(s.manual.score) : "";
  $("score").placeholder = (s.estimate === null || s.estimate === undefined) ? "" : fmt(s.estimate * defaultMax(s));
  $("max").value = fmt(defaultMax(s));
  $("comment").value = s.manual ? s.manual.comment : "";
  $("saved-info").textContent = s.manual
    ? "manual score from " + (s.manual.source || "?") + ", " + (s.manual.updated || "")
    : "no manual score yet: the rubric estimate counts";
  $("clear").hidden = !s.manual;
}

async function loadNotebook() {
  const s = students[current];
  const mine = ++loadSeq;
  const frame = $("notebook");
  frame.srcdoc = "<p style='font:14px sans-serif;color:#888;margin:2em'>loading the notebook\u2026</p>";
  try {
    const response = await fetch("notebook/" + encodeURIComponent(s.id), {credentials: "same-origin"});
    const html = await response.text();
    if (mine === loadSeq) frame.srcdoc = html;
  } catch (err) {
    if (mine === loadSeq) frame.srcdoc = "<p style='font:14px sans-serif;margin:2em'>could not load the notebook</p>";
  }
  const next = students[current + 1];
  if (mine === loadSeq && next) {  // warm the server's cache for the next student
    fetch("notebook/" + encodeURIComponent(next.id), {credentials: "same-origin"}).catch(() => {});
  }
}

function select(i) {
  if (i < 0 || i >= students.length) return;
  current = i;
  markCurrent();
  $("student-" + i).scrollIntoView({block: "nearest"});
  renderDetail();
  loadNotebook();
  history.replaceState(null, "", "#" + encodeURIComponent(students[i].id));
}

function number(text) { return Number(String(text).trim().replace(",", ".")); }

async function post(path, body) {
  const response = await fetch(path, {method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": token}, body: JSON.stringify(body)});
  let data = {};
  try { data = await response.json(); } catch (err) { data = {}; }
  if (!response.ok) throw new Error(data.error || ("the server answered " + response.status));
  return data;
}

let saving = false;
async function save() {
  if (saving) return;
  const i = current, s = students[i];
  const typed = $("score").value.trim(), score = number(typed), max = number($("max").value);
  const refuse = (text, field) => { setStatus(text, "error"); $(field).focus(); };
  if (typed === "" || !Number.isFinite(score)) return refuse("Type a score first (a number).", "score");
  if (!Number.isFinite(max) || max <= 0) return refuse("The maximum must be a positive number.", "max");
  if (score < 0 || score > max) return refuse("The score must be between 0 and " + fmt(max) + ".", "score");
  saving = true;
  try {
    const data = await post("api/score", {student: s.id, score: score, max: max, comment: $("comment").value});
    s.manual = data.manual;
    updateItem(i);
    setStatus("Saved " + (s.name || s.id) + ": " + fmt(score) + " / " + fmt(max), "saved");
    if (document.activeElement) document.activeElement.blur();
    if (i + 1 < students.length) select(i + 1); else renderDetail();
  } catch (err) {
    setStatus("Not saved: " + err.message, "error");
  } finally {
    saving = false;
  }
}

async function clearScore() {
  const i = current, s = students[i];
  try {
    await post("api/clear", {student: s.id});
    s.manual = null;
    updateItem(i);
    renderDetail();
    setStatus("Removed the manual score of " + (s.name || s.id) + ": the estimate counts again.", "saved");
  } catch (err) {
    setStatus("Not removed: " + err.message, "error");
  }
}

document.addEventListener("keydown", (ev) => {
  if (ev.isComposing) return;
  const id = ev.target && ev.target.id;
  if (id === "score" || id === "max") {
    if (ev.key === "Enter") { ev.preventDefault(); save(); }
    else if (ev.key === "Escape") { ev.preventDefault(); ev.target.blur(); }
    return;
  }
  if (id === "comment") {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); save(); }
    else if (ev.key === "Escape") { ev.preventDefault(); ev.target.blur(); }
    return;
  }
  if (ev.target && ev.target.matches && ev.target.matches("input, textarea, select")) return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === "j" || ev.key === "ArrowDown") { ev.preventDefault(); select(current + 1); }
  else if (ev.key === "k" || ev.key === "ArrowUp") { ev.preventDefault(); select(current - 1); }
  else if (/^[0-9]$/.test(ev.key)) { ev.preventDefault(); const f = $("score"); f.focus(); f.value = ev.key; }
  else if (ev.key === "c") { ev.preventDefault(); $("comment").focus(); }
});
$("form").addEventListener("submit", (ev) => ev.preventDefault());
$("save").addEventListener("click", save);
$("clear").addEventListener("click", clearScore);

if (students.length === 0) {
  $("name").textContent = "No graded submissions in this folder.";
} else {
  renderList();
  const wanted = decodeURIComponent(location.hash.slice(1));
  const start = students.findIndex((s) => s.id === wanted);
  select(start >= 0 ? start : 0);
}
"""

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="%TOKEN%">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Review \u2013 %TITLE%</title>
<style nonce="%NONCE%">""" + _CSS + """</style>
</head>
<body>
<header>
  <h1>Descriptive quality review \u2013 %TITLE%</h1>
  <span class="progress" id="progress"></span>
  <span class="keys"><kbd>j</kbd>/<kbd>k</kbd> next/previous \u00b7 <kbd>0</kbd>\u2013<kbd>9</kbd> score \u00b7
    <kbd>Enter</kbd> save \u00b7 <kbd>c</kbd> comment \u00b7 <kbd>Ctrl</kbd>+<kbd>Enter</kbd> save comment \u00b7
    <kbd>Esc</kbd> leave a field</span>
</header>
<nav aria-label="students"><ol id="list" role="listbox"></ol></nav>
<main><iframe id="notebook" title="executed notebook" sandbox="" referrerpolicy="no-referrer"></iframe></main>
<aside>
  <h2 id="name"></h2>
  <div class="meta" id="meta"></div>
  <div class="failure" id="failure"></div>
  <h3>Rubric estimate</h3>
  <div class="estimate" id="estimate"></div>
  <table class="rubric"><tbody id="rubric"></tbody></table>
  <h3>Your score</h3>
  <form id="form" autocomplete="off">
    <div class="line">
      <input id="score" name="score" inputmode="decimal" aria-label="score">
      <span>/</span>
      <input id="max" name="max" inputmode="decimal" aria-label="maximum">
      <button type="button" class="primary" id="save">Save</button>
      <button type="button" id="clear" hidden>Remove</button>
    </div>
    <textarea id="comment" name="comment" maxlength="5000" placeholder="comment for the student (optional)"
      aria-label="comment"></textarea>
    <div class="hint" id="saved-info"></div>
    <div id="status" role="status"></div>
    <div class="hint">Keys go to the notebook once you click in it: click the list or this panel to come back.</div>
  </form>
</aside>
<script type="application/json" id="state">%STATE%</script>
<script nonce="%NONCE%">""" + _JS + """</script>
</body>
</html>
"""
