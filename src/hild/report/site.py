"""The atlas as a static site: plain HTML and one CSS file, no script, opened from the file system.

    <out>/index.html              every claim: its paper (arXiv link), verdict, first check (measured against what
                                  the paper says) and time
    <out>/claims/<name>.html      one page per claim: statement, figure, every check, the extra numbers, the
                                  parameters, the hild version and the command that reproduces it
    <out>/style.css
"""
from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path

ARXIV = re.compile(r"\b(\d{4}\.\d{4,5})(v\d+)?\b")
VERDICT_CLASS = {"holds": "holds", "does not hold": "finding", "FAILS": "fails", "error": "fails"}
CSS = """\
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 1.6rem; }
table { border-collapse: collapse; width: 100%; margin: 0.6rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.number { font-family: ui-monospace, monospace; white-space: nowrap; }
.verdict { font-weight: 600; white-space: nowrap; }
.holds { color: #176b2c; } .finding { color: #8a5a00; } .fails { color: #b00020; }
img.figure { max-width: 100%; border: 1px solid #eee; }
code, pre { font-family: ui-monospace, monospace; background: #f6f6f6; padding: 0.1rem 0.3rem; }
pre { padding: 0.6rem; overflow-x: auto; }
nav { margin-bottom: 1rem; }
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def papers_html(papers) -> str:
    """The papers, arXiv ids linked to their abstract pages.

    **Arguments:** `papers`: texts naming papers (arXiv ids are linked). **Returns:** an HTML fragment."""
    def link(match):
        return f'<a href="https://arxiv.org/abs/{match.group(1)}">arXiv:{match.group(1)}</a>'
    return "; ".join(ARXIV.sub(link, _e(p)) for p in papers)


def _number(value) -> str:
    if isinstance(value, str):
        return _e(value)
    if isinstance(value, bool) or value is None:
        return _e(value)
    value = float(value)
    return f"{value:.6g}" if math.isfinite(value) else _e(value)


def _page(title: str, body: str, css: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{_e(title)}</title>\n'
            f'<link rel="stylesheet" href="{css}">\n</head>\n<body>\n{body}\n</body>\n</html>\n')


def _verdict(entry) -> str:
    return f'<span class="verdict {VERDICT_CLASS[entry.verdict]}">{_e(entry.verdict)}</span>'


def _key_check(entry) -> str:
    checks = entry.summary.get("checks") or []
    if not checks:
        return _e(entry.error or "no checks")
    c = checks[0]
    return f"{_e(c['what'])}: <b>{_number(c['measured'])}</b> (expected {_e(c['expected'])})"


def index_html(entries, size: str, version: str) -> str:
    """The index table of a report's entries.

    **Arguments:** `entries`: `Entry`s; `size`: the report's size; `version`: hild's version. **Returns:** the page's
    HTML."""
    counts = {v: sum(e.verdict == v for e in entries) for v in VERDICT_CLASS}
    tally = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    rows = "\n".join(
        f'<tr><td><a href="claims/{_e(e.name)}.html">{_e(e.name)}</a></td><td>{papers_html(e.papers)}</td>'
        f'<td>{_verdict(e)}</td><td>{_key_check(e)}</td>'
        f'<td class="number">{_number(e.summary.get("seconds", float("nan")))} s</td></tr>' for e in entries)
    body = (f"<h1>hild atlas: {len(entries)} claims at {_e(size)} size</h1>\n"
            f"<p>hild {_e(version)}. {tally}. A claim <em>holds</em> when every check passes; <em>does not hold</em> "
            f"marks hild's documented finding against the paper; <em>FAILS</em> a run whose verdict differs from "
            f"the one hild records; <em>error</em> a run that raised.</p>\n"
            "<table>\n<tr><th>claim</th><th>paper</th><th>verdict</th><th>first check: measured (expected)</th>"
            f"<th>time</th></tr>\n{rows}\n</table>")
    return _page("hild atlas", body, "style.css")


def claim_html(entry) -> str:
    """One claim's page.

    **Arguments:** `entry`: an `Entry`. **Returns:** the page's HTML."""
    s, run = entry.summary, entry.run
    checks = "\n".join(
        f'<tr><td>{_e(c["what"])}</td><td class="number">{_number(c["measured"])}</td><td>{_e(c["expected"])}</td>'
        f'<td class="verdict {"holds" if c["passed"] else "fails"}">{"passed" if c["passed"] else "failed"}</td></tr>'
        for c in s.get("checks", []))
    numbers = "\n".join(f'<tr><td>{_e(k)}</td><td class="number">{_number(v)}</td></tr>'
                        for k, v in (s.get("numbers") or {}).items())
    parameters = "\n".join(f"<tr><td>{_e(k)}</td><td><code>{_e(json.dumps(v))}</code></td></tr>"
                           for k, v in (run.get("parameters") or {}).items())
    parts = ['<nav><a href="../index.html">all claims</a></nav>', f"<h1>{_e(entry.name)}</h1>",
             f"<p>{_e(entry.statement)}</p>", f"<p>Papers: {papers_html(entry.papers)}</p>",
             f"<p>Verdict at {_e(run.get('size', ''))} size: {_verdict(entry)} "
             f"({_number(s.get('seconds', float('nan')))} s)</p>"]
    if entry.error:
        parts.append(f"<h2>Error</h2>\n<pre>{_e(run.get('traceback') or entry.error)}</pre>")
    else:
        parts.append(f'<img class="figure" src="{_e(entry.name)}/figure.png" alt="figure of {_e(entry.name)}">')
    parts.append("<h2>Checks</h2>\n<table>\n<tr><th>check</th><th>measured</th><th>expected</th><th></th></tr>\n"
                 f"{checks}\n</table>" if checks else "<h2>Checks</h2>\n<p>none ran</p>")
    if numbers:
        parts.append(f"<h2>Other numbers</h2>\n<table>\n<tr><th>what</th><th>measured</th></tr>\n{numbers}\n</table>")
    if parameters:
        parts.append("<h2>Parameters</h2>\n<table>\n<tr><th>dataset</th><th>parameters</th></tr>\n"
                     f"{parameters}\n</table>")
    parts.append(f"<h2>Reproduce</h2>\n<pre>{_e(run.get('command', ''))}</pre>\n"
                 f"<p>hild {_e(run.get('hild_version', ''))}</p>")
    return _page(f"hild: {entry.name}", "\n".join(parts), "../style.css")


def write_site(out: Path, entries, size: str, version: str) -> Path:
    """Write index.html, one page per claim and style.css into `out`.

    **Arguments:** `out`: the report folder; `entries`: `Entry`s; `size`, `version`: as in `index_html`.

    **Returns:** the Path of index.html."""
    out = Path(out)
    (out / "style.css").write_text(CSS)
    for e in entries:
        (out / "claims" / f"{e.name}.html").write_text(claim_html(e))
    index = out / "index.html"
    index.write_text(index_html(entries, size, version))
    return index
