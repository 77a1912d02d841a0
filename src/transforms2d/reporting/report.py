"""Reports: an experiment's aggregation of its stored runs, written as files (computes nothing).

``Experiment.aggregate(records, sizes)`` returns a dict with any of these entries:

``"markdown"``  text placed at the top of ``report.md``;
``"tables"``    ``{name: pandas.DataFrame}`` -> ``tables/<name>.parquet`` and ``tables/<name>.md``;
``"figures"``   ``{name: matplotlib Figure}`` -> ``figures/<name>.png``;
``"claims"``    a list of ``{"id", "claim", "criterion", "verdict", "ours", "authors"}`` dicts
                (``verdict`` one of ``pass``, ``fail``, ``not a fair test``, ``not run``; an
                optional ``"note"`` says why; optional ``"preconditions"``: a list of
                ``{"name", "requirement", "observed", "met"}``, the checks that make the
                criterion a fair test) -> ``claims.json``, and in ``report.md`` a table of the
                preconditions followed by the claims table.

``report.md`` is written last and embeds the claims, tables and figures. Every file is written
atomically, and only if its bytes change (a no-op rerun touches nothing); tables and figures
that a previous report wrote and this one does not are removed.
"""

from __future__ import annotations

import io
import json
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..engine.rehearse import BANNER, rehearsal_line, rehearsing
from ..engine.store import read_json
from ..io import atomic_write
from .html import render_html
from .verdicts import NOT_RUN, VERDICTS, direction, precondition_rows

KEYS = ("markdown", "tables", "figures", "claims")
PRECONDITION_KEYS = ("name", "requirement", "observed", "met")
CLAIM_KEYS = ("id", "claim", "criterion", "verdict", "ours", "authors")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class Report:
    """What :func:`write_report` wrote: ``report.md``'s path and text, runs done and total."""

    path: Path
    markdown: str
    done: int
    total: int
    files: list[Path]


def check_outputs(out: Any, experiment: str) -> dict:
    """Validate what ``aggregate`` returned (a programming error raises ``ValueError``)."""
    import pandas as pd
    from matplotlib.figure import Figure

    where = f"The aggregate of experiment '{experiment}'"
    if not isinstance(out, Mapping):
        raise ValueError(f"{where} must return a dict. Got {type(out).__name__}.")
    unknown = sorted(set(out) - set(KEYS))
    if unknown:
        raise ValueError(f"{where} returned unknown key '{unknown[0]}'; valid: "
                         f"{', '.join(KEYS)}.")
    for key, kind in (("tables", pd.DataFrame), ("figures", Figure)):
        items = out.get(key, {})
        if not isinstance(items, Mapping) or not all(
                isinstance(k, str) and NAME.match(k) and isinstance(v, kind)
                for k, v in items.items()):
            raise ValueError(f"{where}: '{key}' must map file-safe names to "
                             f"{kind.__name__} objects.")
    claims = out.get("claims", [])
    for c in claims if isinstance(claims, list) else [None]:
        if not isinstance(c, Mapping) or any(k not in c for k in CLAIM_KEYS):
            raise ValueError(f"{where}: each claim must be a dict with {', '.join(CLAIM_KEYS)}; "
                             f"got {c!r}.")
        if c["verdict"] not in VERDICTS:
            raise ValueError(f"{where}: claim {c['id']} has verdict {c['verdict']!r}; valid: "
                             f"{', '.join(VERDICTS)}.")
        pre = c.get("preconditions", [])
        if not isinstance(pre, list) or not all(
                isinstance(p, Mapping) and all(k in p for k in PRECONDITION_KEYS) for p in pre):
            raise ValueError(f"{where}: claim {c['id']}'s preconditions must be a list of "
                             f"dicts with {', '.join(PRECONDITION_KEYS)}.")
    if not isinstance(out.get("markdown", ""), str):
        raise ValueError(f"{where}: 'markdown' must be a string.")
    return dict(out)


def cell(v: Any) -> str:
    """A value as Markdown table text: 4 decimals for floats, ``-`` for missing/NaN."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: list[Mapping[str, Any]], columns: list[str] | None = None) -> str:
    """A GitHub-flavoured Markdown table of ``rows`` (dicts) in ``columns`` order."""
    columns = columns or (list(rows[0]) if rows else [])
    lines = ["| " + " | ".join(cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def frame_markdown(df) -> str:
    """A DataFrame as a Markdown table (its index is dropped: keep data in columns)."""
    rows = [{c: _py(v) for c, v in zip(df.columns, row)} for row in df.itertuples(index=False)]
    return markdown_table(rows, [str(c) for c in df.columns])


def _py(v: Any) -> Any:
    """numpy scalars -> Python (so ints print as ints and NaN is recognised)."""
    return v.item() if hasattr(v, "item") and not isinstance(v, (str, bytes)) else v


def _json_value(v: Any) -> Any:
    v = _py(v)
    return None if isinstance(v, float) and not math.isfinite(v) else v


def verdict_text(c: Mapping[str, Any]) -> str:
    """A claim's verdict in bold, with its robustness mark (docs/protocol.md §10.5)."""
    return f"**{c['verdict']}**" + (f" ({c['robust']})" if c.get("robust") else "")


def claims_markdown(claims: list[Mapping[str, Any]]) -> str:
    """The claims table: verdict (with its note), our numbers beside the authors'."""
    rows = [{**c, "verdict": verdict_text(c) + (f" ({c['note']})" if c.get("note") else ""),
             "authors'": c["authors"]} for c in claims]
    return markdown_table(rows, ["id", "claim", "criterion", "verdict", "ours", "authors'"])


def direction_of(c: Mapping[str, Any]) -> str:
    """The direction word of a claim row (rows written before it was stored: from the
    criterion's verdict)."""
    return c.get("direction") or direction(c.get("criterion_verdict", c["verdict"]))


def main_caveat(c: Mapping[str, Any]) -> str:
    """The first unmet precondition of a claim (name: what the runs show), or ``none``."""
    unmet = [p for p in c.get("preconditions", []) if not p["met"]]
    if unmet:
        more = f" (+{len(unmet) - 1} more)" if len(unmet) > 1 else ""
        return f"{unmet[0]['name']}: {unmet[0]['observed']}{more}"
    return (c.get("note") or "none") if c["verdict"] == NOT_RUN else "none"


def verdicts_markdown(claims: list[Mapping[str, Any]]) -> str:
    """One line per claim, the answer first: verdict, what the criterion alone gives, whether
    that agrees in direction with the paper, the main caveat (an unmet precondition) and the
    compared models' held-out accuracy (reported beside every verdict, docs/protocol.md §10.4)."""
    rows = [{"claim": c["id"], "verdict": verdict_text(c),
             "criterion alone": c.get("criterion_verdict", c["verdict"]),
             "direction vs the paper": direction_of(c), "main caveat": main_caveat(c),
             "held-out accuracy": c.get("held_out") or "-"} for c in claims]
    return markdown_table(rows, ["claim", "verdict", "criterion alone",
                                 "direction vs the paper", "main caveat", "held-out accuracy"])


def preconditions_markdown(claims: list[Mapping[str, Any]]) -> str:
    """One row per precondition and what the runs show, with the claims it covers ("" if no
    claim states preconditions)."""
    rows = [{**r, "claims": ", ".join(r["claims"]), "met": "yes" if r["met"] else "**no**"}
            for r in precondition_rows(claims)]
    if not rows:
        return ""
    return markdown_table(rows, ["precondition", "claims", "requirement", "observed", "met"])


def write_if_changed(path: Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` atomically, unless the file already holds exactly it (a
    report rebuilt from the same runs then touches no file)."""
    data = data.encode() if isinstance(data, str) else data
    try:
        if path.read_bytes() == data:
            return path
    except OSError:
        pass
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def write_table(folder: Path, name: str, df) -> list[Path]:
    """``folder/<name>.parquet`` and ``folder/<name>.md``."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return [write_if_changed(folder / f"{name}.parquet", buf.getvalue()),
            write_if_changed(folder / f"{name}.md", frame_markdown(df))]


def write_figure(folder: Path, name: str, fig) -> Path:
    """``folder/<name>.png``, rendered by Agg (whatever the figure's canvas)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    if "matplotlib.pyplot" in sys.modules:  # a pyplot figure would otherwise stay open
        sys.modules["matplotlib.pyplot"].close(fig)
    return write_if_changed(folder / f"{name}.png", buf.getvalue())


def write_outputs(root: Path, out: Mapping[str, Any]) -> list[Path]:
    """Write tables, figures and ``claims.json`` of a checked aggregate; sweep stale ones."""
    files: list[Path] = []
    for name, df in out.get("tables", {}).items():
        files += write_table(root / "tables", name, df)
    for name, fig in out.get("figures", {}).items():
        files.append(write_figure(root / "figures", name, fig))
    for folder, suffixes in (("tables", (".parquet", ".md")), ("figures", (".png",))):
        for p in (root / folder).glob("*"):
            if p.suffix in suffixes and p not in files:
                p.unlink()
    return files


def render(title: str, header: str, out: Mapping[str, Any]) -> str:
    """The text of ``report.md``: header, the aggregate's text, claims, tables and figures."""
    parts = [f"# {title}\n", header, out.get("markdown", "")]
    if out.get("claims"):
        parts += ["## Claims\n", verdicts_markdown(out["claims"]), claims_markdown(out["claims"])]
        pre = preconditions_markdown(out["claims"])
        if pre:
            parts += ["## Preconditions\n", "A claim's verdict counts only where every "
                      "precondition of its test is met, or where only per-model preconditions "
                      "are unmet and the criterion gives the same verdict without those models' "
                      "seeds (*robust*, docs/protocol.md §10.5); otherwise it reads *not a fair "
                      "test*.\n", pre]
    if out.get("tables"):
        parts.append("## Tables\n")
        for name, df in out["tables"].items():
            parts += [f"### {name}\n", frame_markdown(df),
                      f"Data: [tables/{name}.parquet](tables/{name}.parquet)\n"]
    if out.get("figures"):
        parts.append("## Figures\n")
        parts += [f"### {name}\n\n![{name}](figures/{name}.png)\n" for name in out["figures"]]
    return "\n".join(p.rstrip("\n") + "\n" for p in parts if p)


def torch_build() -> str:
    """The torch build of this process (``2.14.1+cu130``), without importing torch."""
    if "torch" in sys.modules:
        return sys.modules["torch"].__version__
    try:
        return version("torch")
    except PackageNotFoundError:
        return "not installed"


def builds_line(store, hashes: list[str]) -> str:
    """Which torch builds computed the runs (their provenance) and which aggregates them
    (docs/protocol.md §10.8: float results depend on the build)."""
    found: dict[str, int] = {}
    for h in hashes:
        prov = read_json(store.run_dir(h) / "provenance.json") or {}
        build = str(prov.get("torch", "unrecorded"))
        found[build] = found.get(build, 0) + 1
    runs = ", ".join(f"torch {b} ({n} run(s))" for b, n in sorted(found.items())) or "none"
    return f"\nComputed with: {runs}; this report aggregated with torch {torch_build()}.\n"


def write_report(store, experiment, html: bool = False) -> Report:
    """Aggregate the done runs of ``store`` with ``experiment`` and write every output (and
    ``report.html``, self-contained, with ``html``)."""
    hashes = store.hashes()
    rec = store.experiment() or {}
    records = [{"hash": h, "spec": store.load_spec(h), "result": res}
               for h in hashes if (res := store.result(h)) is not None]
    done, total = len(records), len(hashes)
    sets = rec.get("overrides") or {}
    changed = (" with " + ", ".join(f"`{k}={v}`" for k, v in sets.items())) if sets else ""
    header = (f"Profile `{rec.get('profile')}`{changed}, {rec.get('seeds')} seed(s): {done} of "
              f"{total} runs done. `t2d report` on this folder regenerates it (computes "
              f"nothing).\n")
    if done < total:
        header += f"\n**{total - done} of {total} runs are not done yet**; numbers use the rest.\n"
    header += builds_line(store, [r["hash"] for r in records])
    if rec.get("rehearsal"):
        header = BANNER + "\n" + rehearsal_line(rec["rehearsal"], total) + header
    with rehearsing(rec.get("rehearsal")):
        out = check_outputs(experiment.aggregate_with(records, rec.get("profile"),
                                                      rec.get("overrides")),
                            experiment.name) if records else {
            "markdown": "No finished runs yet.\n"}
    files = write_outputs(store.root, out)
    claims = [{k: _json_value(v) for k, v in c.items()} for c in out.get("claims", [])]
    if claims or (store.root / "claims.json").exists():
        doc = {"experiment": experiment.name, "profile": rec.get("profile"),
               "seeds": rec.get("seeds"), "runs_done": done, "runs_total": total,
               "claims": claims, **({"overrides": sets} if sets else {}),
               **({"rehearsal": rec["rehearsal"]} if rec.get("rehearsal") else {})}
        files.append(write_if_changed(store.root / "claims.json",
                                      json.dumps(doc, indent=2, sort_keys=True) + "\n"))
    title = experiment.name + (f": {experiment.description}" if experiment.description else "")
    md = render(title, header, out)
    if html:
        files.append(write_if_changed(store.root / "report.html",
                                      render_html(title, header, out, store.root)))
    path = write_if_changed(store.root / "report.md", md)
    return Report(path, md, done, total, files)
