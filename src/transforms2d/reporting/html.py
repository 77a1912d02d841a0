"""``t2d report OUT --html``: the report as one self-contained HTML page.

Figures are embedded (base64 PNG), tables sort by a click on a column header (a few lines of
inline JavaScript, no server, nothing fetched), claims carry colour-coded verdicts. The page
records in ``<body data-figures-loaded="N">`` how many figures decoded, and with ``#selftest``
in its URL sorts its first table by the second column and records the order in
``data-selftest`` — what the tests check in a real headless browser.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .verdicts import COLOURS, NOT_RUN, precondition_rows

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#1f2328;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;cursor:pointer;user-select:none}
th:after{content:" \\2195";color:#8c959f}
.verdict{color:#fff;border-radius:4px;padding:1px 6px;font-weight:600;white-space:nowrap}
img{max-width:100%;border:1px solid #d0d7de}
code{background:#f6f8fa;padding:0 3px;border-radius:3px}
"""

SCRIPT = """
function cellValue(td){const t=td.getAttribute('data-v')??td.textContent.trim();
 const n=parseFloat(t);return (t!==''&&!isNaN(n)&&isFinite(t))?n:t.toLowerCase();}
function sortTable(table,col){const body=table.tBodies[0];const rows=[...body.rows];
 const asc=table.getAttribute('data-sort')!==col+':asc';
 rows.sort((a,b)=>{const x=cellValue(a.cells[col]),y=cellValue(b.cells[col]);
  return (x<y?-1:x>y?1:0)*(asc?1:-1);});
 rows.forEach(r=>body.appendChild(r));table.setAttribute('data-sort',col+(asc?':asc':':desc'));}
document.querySelectorAll('table.sortable').forEach(t=>{
 [...t.tHead.rows[0].cells].forEach((th,i)=>th.addEventListener('click',()=>sortTable(t,i)));});
function countFigures(){const imgs=[...document.images];
 document.body.setAttribute('data-figures-loaded',
  String(imgs.filter(i=>i.complete&&i.naturalWidth>0).length));}
Promise.all([...document.images].map(i=>i.decode().catch(()=>null))).then(countFigures);
if(location.hash==='#selftest'){const t=document.querySelector('table.sortable');
 if(t){sortTable(t,1);document.body.setAttribute('data-selftest',
  [...t.tBodies[0].rows].map(r=>r.cells[1].textContent.trim()).join('|'));}}
"""


def inline_markdown(text: str) -> str:
    """Escaped text with ``code``, **bold**, *italic* and [links](url) rendered."""
    out = html.escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"<em>\1</em>", out)
    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'<a href="\2">\1</a>', out)


def markdown_blocks(text: str) -> str:
    """Paragraphs, ``- `` lists and ``#`` headings of the aggregates' Markdown (tables in it
    are kept as preformatted text)."""
    parts = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        if all(line.lstrip().startswith(("- ", "* ")) for line in lines if line.strip()):
            items = "".join(f"<li>{inline_markdown(line.lstrip()[2:])}</li>" for line in lines
                            if line.strip())
            parts.append(f"<ul>{items}</ul>")
        elif lines and lines[0].startswith("#"):
            level = min(6, len(lines[0]) - len(lines[0].lstrip("#")) + 1)
            parts.append(f"<h{level}>{inline_markdown(lines[0].lstrip('#').strip())}</h{level}>")
        elif lines and lines[0].startswith("|"):
            parts.append(f"<pre>{html.escape(block)}</pre>")
        elif block.strip():
            parts.append(f"<p>{inline_markdown(' '.join(lines))}</p>")
    return "\n".join(parts)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f'<td data-v="{v!r}">{"-" if v != v else f"{v:.4g}"}</td>'
    return f"<td>{html.escape(str(v))}</td>"


def table_html(columns: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(v) for v in r) + "</tr>" for r in rows)
    return f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def verdict_html(verdict: str) -> str:
    colour = COLOURS.get(verdict, COLOURS[NOT_RUN])
    return f'<span class="verdict" style="background:{colour}">{html.escape(verdict)}</span>'


def claims_html(claims: list[Mapping[str, Any]]) -> str:
    head = "".join(f"<th>{c}</th>" for c in ("id", "claim", "criterion", "verdict", "ours",
                                               "authors'"))
    rows = []
    for c in claims:
        note = f"<br><small>{inline_markdown(str(c['note']))}</small>" if c.get("note") else ""
        robust = f" <small>({html.escape(c['robust'])})</small>" if c.get("robust") else ""
        cells = [html.escape(str(c.get(k, ""))) for k in ("id", "claim", "criterion")]
        rows.append("<tr>" + "".join(f"<td>{x}</td>" for x in cells)
                    + f'<td data-v="{html.escape(str(c["verdict"]))}">'
                    + f"{verdict_html(str(c['verdict']))}{robust}{note}</td>"
                    + f"<td>{html.escape(str(c.get('ours', '')))}</td>"
                    + f"<td>{html.escape(str(c.get('authors', '')))}</td></tr>")
    return (f'<table class="sortable claims"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def figure_html(name: str, png: Path) -> str:
    data = base64.b64encode(png.read_bytes()).decode() if png.is_file() else ""
    return (f"<h3>{html.escape(name)}</h3>"
            f'<img alt="{html.escape(name)}" src="data:image/png;base64,{data}">')


def render_html(title: str, header: str, out: Mapping[str, Any], root: Path) -> str:
    """The page: header, the aggregate's text, claims, tables, figures (read from
    ``root/figures/<name>.png``, written before)."""
    parts = [f"<h1>{html.escape(title)}</h1>", markdown_blocks(header),
             markdown_blocks(out.get("markdown", ""))]
    if out.get("claims"):
        parts += claims_section(out["claims"])
    for name, df in (out.get("tables") or {}).items():
        parts += [f"<h3>{html.escape(name)}</h3>",
                  table_html([str(c) for c in df.columns], df.values.tolist())]
    for name in out.get("figures") or {}:
        parts.append(figure_html(name, root / "figures" / f"{name}.png"))
    return page(title, parts)


def page(title: str, parts: list[str]) -> str:
    """A self-contained page of HTML ``parts``, with the sorting script."""
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
            + "\n".join(parts) + f"<script>{SCRIPT}</script></body></html>\n")


def claims_section(claims: list[Mapping[str, Any]]) -> list[str]:
    """The claims (colour-coded verdicts), then what they stand on: one row per precondition
    with the claims it covers."""
    parts = ["<h2>Claims</h2>", claims_html(claims)]
    pre = [[r["precondition"], ", ".join(r["claims"]), r["requirement"], r["observed"],
            "met" if r["met"] else "not met"] for r in precondition_rows(claims)]
    if pre:
        parts += ["<h2>Preconditions</h2>", "<p>A claim's verdict counts only where every "
                  "precondition of its test is met, or where only per-model preconditions are "
                  "unmet and the criterion gives the same verdict without those models' seeds "
                  "(<em>robust</em>); otherwise it reads <em>not a fair test</em>.</p>",
                  table_html(["precondition", "claims", "requirement", "observed", "met"], pre)]
    return parts
