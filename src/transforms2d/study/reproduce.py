"""``t2d reproduce``: the paper's four experiments end to end, then one ``REPORT.md``.

Each experiment is an ordinary experiment folder (``OUT/e1`` ... ``OUT/e4``, the same as
``t2d run`` writes), so a rerun resumes, and ``t2d report OUT/e1`` rebuilds one of them.
``OUT/reproduce.json`` accumulates the wall time spent computing each experiment over every
invocation (a resumed reproduction reports the sum), and ``OUT/REPORT.md`` puts the machine,
the wall times, the claims C1–C8 with their verdicts and every figure on one page.
"""

from __future__ import annotations

import html
import json
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from ..engine import get_experiment, spec_hash
from ..engine.grids import claim_grid
from ..engine.pool_executor import available_cpus
from ..engine.rehearse import BANNER, MARKER
from ..engine.store import DONE, read_json
from ..io import write_json
from ..reporting.html import claims_section, figure_html, markdown_blocks, page, table_html
from ..reporting.report import (
    claims_markdown,
    markdown_table,
    preconditions_markdown,
    verdicts_markdown,
    write_if_changed,
)

# a fair test needs >= 5 seeds (transforms2d.study.preconditions): quick and smoke have fewer
DEFAULT_SEEDS = {"smoke": 3, "quick": 3, "cpu": 5, "gpu": 5, "paper": 10}
TARGETS = {"quick": "E1 <= 10 min, all four <= 30 min on a 2-core CPU",
           "cpu": "all four <= 3 h on a 2-core CPU, every precondition met",
           "gpu": "all four <= 1 h on one H100-class GPU by t2d plan's estimate"}


def machine() -> dict:
    """What the wall times were measured on: CPU model and count, GPU, libraries."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                       cpu)
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": cpu, "cpus": available_cpus(), "gpu": gpu, "torch": torch.__version__,
            "python": platform.python_version(), "platform": platform.platform()}


class Timings:
    """``OUT/reproduce.json``: per experiment, seconds spent computing (summed over
    invocations), runs done / total, and the settings of the last invocation."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / "reproduce.json"
        self.doc = read_json(self.path) or {}
        self.doc.setdefault("experiments", {})

    def add(self, name: str, seconds: float, done: int, total: int) -> None:
        e = self.doc["experiments"].setdefault(name, {"wall_s": 0.0})
        e.update(wall_s=round(e["wall_s"] + seconds, 1), runs_done=done, runs_total=total)
        write_json(self.path, self.doc)

    def start(self, settings: dict) -> None:
        self.doc.update(settings=settings, machine=machine(),
                        last_started=time.strftime("%Y-%m-%d %H:%M:%S %Z"))
        write_json(self.path, self.doc)

    def finish(self) -> None:
        self.doc["last_finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
        write_json(self.path, self.doc)


def fmt_minutes(s: float | None) -> str:
    return "-" if s is None else f"{s / 60:.1f} min"


def _header_lines(doc: dict) -> list[str]:
    """Title, rehearsal banner, settings, machine and the profile's targets."""
    st, m = doc.get("settings", {}), doc.get("machine", {})
    lines = [
        "# Reproduction of \"Understanding the Role of Invariance in Transfer Learning\"\n",
        *([BANNER] if st.get("rehearsal") else []),
        f"Profile `{st.get('profile')}`, {st.get('seeds')} seeds"
        + (f" ({', '.join(map(str, st['seed_list']))})" if st.get("seed_list") else "")
        + f", executor `{st.get('executor')}`"
        + (f" ({st.get('workers')} workers)" if st.get("workers") else "")
        + f", device `{st.get('device')}`. Last run started {doc.get('last_started', '-')}, "
        f"finished {doc.get('last_finished', 'not yet')}.\n",
        f"Machine: {m.get('cpu', '?')}, {m.get('cpus', '?')} CPUs"
        + (f", GPU {m['gpu']}" if m.get("gpu") else ", no GPU")
        + f"; torch {m.get('torch', '?')}, Python {m.get('python', '?')}.\n",
    ]
    if st.get("profile") in TARGETS:
        lines.append(f"Targets for this profile: {TARGETS[st.get('profile')]}.\n")
    return lines


def _collect(root: Path, names: Sequence[str], exps: dict) -> tuple[list, list, list, list]:
    """Per experiment: its wall-time row, claims (ids suffixed with the experiment), report
    section and figures; and the total row."""
    rows, claims, sections, figures = [], [], [], []
    total_s = 0.0
    for name in names:
        e = exps.get(name, {})
        total_s += e.get("wall_s", 0.0)
        rows.append({"experiment": name, "runs done": f"{e.get('runs_done', 0)} of "
                     f"{e.get('runs_total', '?')}", "wall time (computing)":
                     fmt_minutes(e.get("wall_s")), "report": f"[{name}/report.md]"
                     f"({name}/report.md)"})
        cdoc = read_json(root / name / "claims.json") or {}
        claims += [{**c, "id": f"{c['id']} ({name})"} for c in cdoc.get("claims", [])]
        sections.append(f"## {name}\n\n{_experiment_text(root / name)}\n")
        figures += [f"![{name}: {p.stem}]({name}/figures/{p.name})\n"
                    for p in sorted((root / name / "figures").glob("*.png"))]
    rows.append({"experiment": "all", "runs done": "", "wall time (computing)":
                 fmt_minutes(total_s), "report": ""})
    return rows, claims, sections, figures


def summary_markdown(root: Path, names: Sequence[str]) -> str:
    """The text of ``OUT/REPORT.md`` from the experiment folders and ``reproduce.json``: the
    verdicts first, then the claims, their preconditions, figures and wall time."""
    doc = read_json(root / "reproduce.json") or {}
    lines = _header_lines(doc)
    rows, claims, sections, figures = _collect(root, names, doc.get("experiments", {}))
    if claims:  # the answer first: one line per claim
        lines += ["## Verdicts\n", VERDICTS_INTRO, verdicts_markdown(claims)]
    lines += ["## Claims\n",
              "Each claim's criterion is stated beside its verdict; `not run` says why. Our "
              "numbers come from the runs in this folder, the authors' from the paper "
              "(docs/protocol.md).\n",
              claims_markdown(claims) if claims else "No claims computed yet.\n"]
    pre = preconditions_markdown(claims)
    if pre:
        lines += ["## Preconditions\n", PRECONDITIONS_INTRO, pre]
    if figures:
        lines += ["## Figures\n", *figures]
    lines += ["## Wall time\n", markdown_table(rows), *sections]
    return "\n".join(ln.rstrip("\n") + "\n" for ln in lines)


VERDICTS_INTRO = (
    "*pass*: the criterion holds; *fail*: it does not (its direction says whether the effect "
    "lies the other way, *opposite*, or a bound was exceeded in the paper's own direction, "
    "*margin exceeded, same direction*); *inconclusive*: the interval holds the threshold; "
    "*robust: k model(s) excluded*: k compared models miss a per-model precondition and the "
    "criterion gives the same verdict without their seeds; *not a fair test*: a precondition "
    "is unmet otherwise, whatever the criterion alone gives (shown beside it). Held-out "
    "accuracy of the compared models is reported beside every verdict (docs/protocol.md "
    "§10).\n")
PRECONDITIONS_INTRO = (
    "What makes each claim's check a fair test, declared before the seeds ran "
    "(docs/protocol.md §10.4; the claim registry `study/claims.py` lists each claim's): every "
    "compared model fits its source task on its transferred weights (>= 0.95, or its fit "
    "stopped rising) without memorising it, and where generalisation is not what the claim "
    "varies reaches >= 0.90 validation accuracy; every probe solved to optimality; every "
    "measure the criterion needs able to move (headroom); >= 5 seeds.\n")


def _experiment_text(folder: Path) -> str:
    """The aggregate's own paragraph of an experiment's report.md (sizes, stand-ins)."""
    try:
        md = (folder / "report.md").read_text()
    except OSError:
        return "Not run yet.\n"
    body = md.split("\n## ", 1)[0]  # title, header and the aggregate's text
    return "\n".join(body.splitlines()[1:]).strip() + "\n"


def all_claims(root: Path, names: Sequence[str]) -> dict:
    """``OUT/claims.json``: every experiment's claims (its ``claims.json``, as written) in one
    document, each claim tagged with its experiment, with the profile and seeds."""
    st = (read_json(root / "reproduce.json") or {}).get("settings", {})
    claims = []
    for name in names:
        cdoc = read_json(root / name / "claims.json") or {}
        claims += [{"experiment": name, **c} for c in cdoc.get("claims", [])]
    return {"profile": st.get("profile"), "seeds": st.get("seed_list", st.get("seeds")),
            "experiments": list(names), "claims": claims}


def summary_html(root: Path, names: Sequence[str]) -> str:
    """``OUT/REPORT.html``: REPORT.md's content as one self-contained page (every experiment's
    figures embedded)."""
    doc = read_json(root / "reproduce.json") or {}
    head = _header_lines(doc)
    rows, claims, _, _ = _collect(root, names, doc.get("experiments", {}))
    parts = [f"<h1>{html.escape(head[0].lstrip('# ').strip())}</h1>",
             markdown_blocks("\n".join(head[1:]))]
    parts += claims_section(claims) if claims else ["<p>No claims computed yet.</p>"]
    parts.append("<h2>Figures</h2>")
    parts += [figure_html(f"{name}: {png.stem}", png) for name in names
              for png in sorted((root / name / "figures").glob("*.png"))]
    parts += ["<h2>Wall time</h2>", table_html(list(rows[0]), [list(r.values()) for r in rows])]
    return page("Reproduction", parts)


def write_summary(root: Path, names: Sequence[str]) -> Path:
    """``OUT/REPORT.md``, ``OUT/REPORT.html`` and ``OUT/claims.json`` from the experiment
    folders."""
    root = Path(root)
    write_if_changed(root / "claims.json",
                     json.dumps(all_claims(root, names), indent=2, sort_keys=True) + "\n")
    write_if_changed(root / "REPORT.html", summary_html(root, names))
    return write_if_changed(root / "REPORT.md", summary_markdown(root, names))


def plan(root: Path, names: Sequence[str], profile: str, seeds: int | Sequence[int],
         rehearsal: dict | None = None) -> list[tuple]:
    """``(experiment, specs, store)`` per experiment, every spec checked against its stored
    copy and every folder claimed, before anything is computed. With ``rehearsal``
    (:func:`~transforms2d.engine.rehearse.settings`) the specs are the grid's rehearsal."""
    grids = []
    for name in names:
        exp = get_experiment(name)
        specs, store = claim_grid(exp, profile, seeds, Path(root) / exp.name,
                                  rehearsal=rehearsal)
        grids.append((exp, specs, store))
    if rehearsal is not None:
        write_if_changed(Path(root) / MARKER, "# Rehearsal\n\n" + BANNER)
    return grids


def reproduce(root: Path, grids: list[tuple], run_grid: Callable[[str, list, object], object],
              settings: dict, write_report: Callable[[object], object]) -> dict:
    """Run each grid of :func:`plan` with ``run_grid(name, specs, store)`` (returns an executor
    :class:`~transforms2d.engine.Summary`), write its report, then REPORT.md; ``settings`` (profile,
    seeds, executor...) go to ``reproduce.json``.

    Returns ``{name: summary}``. Experiments run in order; a failed run does not stop the
    others (they are listed by the caller)."""
    names = [exp.name for exp, _, _ in grids]
    timings = Timings(root)
    timings.start(settings)
    summaries = {}
    for exp, specs, store in grids:
        t0 = time.perf_counter()
        try:
            summaries[exp.name] = run_grid(exp.name, specs, store)
        finally:  # an interrupted grid's time counts too (a resumed reproduction sums them)
            done = sum(store.status(spec_hash(s)) == DONE for s in specs)
            s = summaries.get(exp.name)
            pending = s is None or len(specs) > len(s.reused)
            timings.add(exp.name, time.perf_counter() - t0 if pending else 0.0, done,
                        len(specs))
        write_report(store)
        write_summary(root, names)
    timings.finish()
    write_summary(root, names)
    return summaries
