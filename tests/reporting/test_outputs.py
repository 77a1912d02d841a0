"""Engine outputs around a run: leases and status, provenance, the grid progress display,
mean/CI statistics (the percentile bootstrap over seeds), and reports (tables, figures, claims
and their preconditions); the demo's worked example of an aggregate is in
tests/study/test_demo.py."""

from __future__ import annotations

import json
import math
import os
import socket

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure

from tests.helpers.engine import dead_pid
from transforms2d.engine import (
    Experiment,
    ProbeTarget,
    RunSpec,
    RunStore,
    execute,
    spec_hash,
)
from transforms2d.engine.executors import compute
from transforms2d.engine.lease import LEASE
from transforms2d.engine.store import RESULT_FORMAT, sweep_tmp
from transforms2d.reporting.display import GridProgress, fmt_seconds
from transforms2d.reporting.report import check_outputs, preconditions_markdown, write_report
from transforms2d.reporting.stats import (
    RESAMPLES,
    bootstrap_ci,
    mean_ci,
    positive_effect,
    t_quantile,
)


def tiny(seed: int = 0) -> RunSpec:
    data = dict(objects=4, transforms="hue", n=32, image_size=16)
    return RunSpec(model="convnet_xs", source={**data, "n": 64}, seed=seed,
                   train={"epochs": 2, "batch_size": 32},
                   probes=(ProbeTarget("a", data, data, probe={"epochs": 3, "views": 1}),))


# -- lease, provenance and stages of one execution -------------------------------------------
def test_compute_holds_the_lease_reports_stages_and_writes_provenance_once(tmp_path):
    store, spec, seen = RunStore(tmp_path), tiny(), []
    run = store.run_dir(spec)

    def on_progress(stage, done, total):
        lease = json.loads((run / LEASE).read_text())
        seen.append((stage, done, total, lease["pid"] == os.getpid()))
    assert compute(spec, store, on_progress=on_progress) == {"ok": True}
    res = store.result(spec_hash(spec))
    assert [s[:3] for s in seen] == [("pretrain", 0, 2), ("pretrain", 1, 2), ("pretrain", 2, 2),
                                     ("probe a", 0, 1), ("invariance", 0, 0), ("result", 0, 1)]
    assert all(s[3] for s in seen) and not (run / LEASE).exists()
    prov = json.loads((run / "provenance.json").read_text())
    assert {"version", "code_hash", "git_commit", "torch", "python", "hostname",
            "device"} <= set(prov) and prov["device"] == "cpu"
    assert "provenance" not in json.dumps(res) and prov["code_hash"] not in json.dumps(res)
    (run / "result.json").unlink()
    (run / "provenance.json").write_text('{"first": true}\n')
    assert execute(tiny(), run) == res  # resumed: same result, first provenance kept
    assert compute(spec, store) == {"reused": True}  # done: nothing computed
    assert json.loads((run / "provenance.json").read_text()) == {"first": True}


def test_failed_computation_releases_its_lease_and_records_the_error(tmp_path):
    store, bad = RunStore(tmp_path), tiny().replace(model="no_such_model")
    out = compute(bad, store)
    assert not out["ok"] and "no_such_model" in out["message"]
    run = store.run_dir(bad)
    assert not (run / LEASE).exists() and (run / "provenance.json").exists()
    assert store.status(spec_hash(bad)) == "failed"


def test_status_running_only_while_the_lease_is_live(tmp_path, monkeypatch):
    import time

    monkeypatch.setenv("T2D_LEASE_STALE_S", "60")
    store, spec = RunStore(tmp_path), tiny()
    h = spec_hash(spec)
    d = store.prepare(spec)
    host, now = socket.gethostname(), time.time()
    for lease, status in [({"pid": os.getpid(), "host": host, "heartbeat": now}, "running"),
                          ({"pid": dead_pid(), "host": host, "heartbeat": now}, "pending"),
                          ({"pid": 1, "host": "elsewhere", "heartbeat": now}, "running"),
                          ({"pid": 1, "host": "elsewhere", "heartbeat": now - 61}, "pending"),
                          ({"pid": os.getpid(), "host": host, "heartbeat": now - 61}, "pending"),
                          ({"pid": "x", "host": host, "heartbeat": now}, "pending")]:
        (d / LEASE).write_text(json.dumps(lease))
        assert store.status(h) == status, lease
    (d / "error.json").write_text("{}")
    assert store.status(h) == "failed"
    (d / "running.json").write_text("{}")  # a format-1 store's marker
    (d / ".x.json.123.tmp").write_text("")
    assert sweep_tmp(d) == 2 and not (d / "running.json").exists()


# -- progress display ------------------------------------------------------------------------
def test_grid_progress_counts_stages_and_estimates_time_left():
    now = [0.0]
    g = GridProgress(4, "demo", enabled=False, clock=lambda: now[0])
    with g:
        g.on_event("skip", "r0", 0, 4)
        g.on_event("start", "r1", 1, 4)
        g.on_progress("pretrain", 2, 5)
        assert g.eta() is None and g.text() == "run r1: pretrain epoch 3/5 · left …"
        now[0] = 10.0
        g.on_event("done", "r1", 1, 4)
        assert g.eta() == 20.0  # 2 runs left at 10 s each (the reused one cost nothing)
        g.on_event("start", "r2", 2, 4)
        now[0] = 14.0
        g.on_progress("probe target", 0, 2)
        assert g.eta() == 16.0 and "probe target (1/2)" in g.text()
        now[0] = 30.0  # slower than the mean: the current run's share never goes negative
        assert g.eta() == 10.0
        g.on_event("fail", "r2", 2, 4)
    assert (g.finished, g.failed, g.eta()) == (3, 1, 15.0) and "1 failed" in g.text()
    par = GridProgress(6, "ray", enabled=False, clock=lambda: now[0])  # tasks in parallel
    for h in "abc":
        par.on_event("start", h, 0, 6)
    assert par.text() == "3 running · left …"
    now[0] += 10.0
    par.on_event("done", "a", 0, 6)
    par.on_event("done", "b", 1, 6)
    assert par.eta() == 20.0 and par.text() == "run c: starting · left 20s"
    assert [fmt_seconds(s) for s in (5, 65, 3725, None)] == ["5s", "1m05s", "1h02m", "…"]


# -- statistics ------------------------------------------------------------------------------
VALUE_SETS = [[0.90, 0.92, 0.95, 0.91, 0.93], [1.0, 2.0, 3.0], [0.1, -0.2, 0.09],
              [0.99, 1.0, 1.0, 0.98, 1.0, 1.0, 1.0], [0.0, 0.01, 0.0, 0.3], [0.4, 0.6]]


@pytest.mark.parametrize("values", VALUE_SETS)
def test_t_interval_is_the_mean_plus_minus_t_standard_errors(values):
    ci = mean_ci(values)
    n = len(values)
    assert ci.n == n and ci.level == 0.95
    assert ci.mean == pytest.approx(sum(values) / n)
    se = float(np.std(values, ddof=1)) / math.sqrt(n)
    assert ci.half == pytest.approx(t_quantile(0.975, n - 1) * se)
    assert ci.mean - ci.low == pytest.approx(ci.high - ci.mean)  # symmetric
    lo, hi = ci.errors()
    assert lo == pytest.approx(ci.mean - ci.low) and hi == pytest.approx(ci.high - ci.mean)
    assert str(ci) == f"{ci.mean:.4f} [{ci.low:.4f}, {ci.high:.4f}]"


def test_t_interval_is_deterministic_and_wider_than_the_bootstrap_at_5_seeds():
    values = [0.3, 0.5, 0.45, 0.61, 0.52]
    first = mean_ci(values)
    np.random.seed(123)
    torch.manual_seed(123)
    assert mean_ci(values) == first  # no generator involved
    assert bootstrap_ci(values) == bootstrap_ci(values) and RESAMPLES == 10_000
    assert first.half > bootstrap_ci(values).half  # docs/protocol.md §10.6


def test_bootstrap_interval_edge_cases():
    same = mean_ci([0.7] * 5)
    assert same.mean == same.low == same.high == pytest.approx(0.7)  # zero width
    assert same.errors() == (0.0, 0.0) and same.half == 0.0 and not same.excludes(0.7)
    assert same.excludes(0.0)
    one = mean_ci([0.5])
    assert one.n == 1 and one.mean == 0.5 and math.isnan(one.low) and math.isnan(one.high)
    assert one.errors() == (0.0, 0.0) and not one.excludes(0) and "no CI" in str(one)
    none = mean_ci([])
    assert none.n == 0 and math.isnan(none.mean) and math.isnan(none.low) and str(none) == "-"


def test_bootstrap_interval_width_and_level():
    values = [0.2, 0.5, 0.3, 0.8, 0.4, 0.6]
    narrow, wide = mean_ci(values, level=0.8), mean_ci(values, level=0.99)
    assert wide.low <= narrow.low < narrow.high <= wide.high and wide.level == 0.99
    # many seeds: the t interval approaches the normal interval of the mean
    xs = np.random.default_rng(0).normal(1.0, 0.5, size=400)
    ci = mean_ci(xs)
    se = xs.std(ddof=1) / math.sqrt(len(xs))
    assert ci.half == pytest.approx(1.96 * se, rel=0.1)
    assert ci.low < xs.mean() < ci.high


def test_positive_effect_needs_two_seeds_by_default():
    assert positive_effect([0.1, 0.12, 0.09])[0] == "pass"
    assert positive_effect([0.1, 0.2])[0] == "inconclusive"  # t(0.975, 1) = 12.7: wide
    assert positive_effect([0.1, 0.11])[0] == "pass"  # two seeds give an interval
    assert positive_effect([0.1, -0.2, 0.09])[0] == "inconclusive"  # mean > 0, the CI holds 0
    assert positive_effect([-0.1, -0.12, -0.09])[0] == "fail"  # the CI excludes 0 below it
    verdict, note, ci = positive_effect([0.1])
    assert (verdict, note, ci.n) == ("not run", "needs >= 2 seeds, got 1", 1)
    assert positive_effect([0.1, 0.2], min_n=3)[:2] == ("not run", "needs >= 3 seeds, got 2")
    assert positive_effect([])[:2] == ("not run", "needs >= 2 seeds, got 0")


# -- report writer ---------------------------------------------------------------------------
def stored(tmp_path, n_done: int) -> tuple[RunStore, list[str]]:
    """A store holding 3 runs of experiment 'fake', ``n_done`` of them with a result."""
    store, specs = RunStore(tmp_path), [tiny(seed=s) for s in range(3)]
    hashes = [spec_hash(s) for s in specs]
    store.claim("fake", "smoke", 3, hashes)
    for s, h in zip(specs[:n_done], hashes):
        d = store.prepare(s)
        (d / "result.json").write_text(json.dumps({"format": RESULT_FORMAT, "spec_hash": h,
                                                      "x": s.seed}))
    return store, hashes


def fake_aggregate(records: list[dict], profile=None, tables=("t1", "t2")) -> dict:
    df = pd.DataFrame({"seed": [r["result"]["x"] for r in records], "acc": 0.5})
    fig = Figure()
    fig.add_subplot().plot([0, 1])
    return {"markdown": "intro\n", "tables": {t: df for t in tables}, "figures": {"f": fig},
            "claims": [{"id": "C1", "claim": "a | b", "criterion": "x > 0", "verdict": "pass",
                        "ours": 0.25, "authors": "0.3"}]}


def test_report_writes_tables_figures_claims_and_embeds_them(tmp_path):
    store, _ = stored(tmp_path, 2)
    rep = write_report(store, Experiment("fake", lambda p, s: [], fake_aggregate, "A fake."))
    assert (rep.done, rep.total) == (2, 3)
    assert pd.read_parquet(tmp_path / "tables/t1.parquet").seed.tolist() == [0, 1]
    assert (tmp_path / "tables/t2.md").read_text().startswith("| seed | acc |\n|---|---|\n| 0 |")
    assert (tmp_path / "figures/f.png").read_bytes()[:4] == b"\x89PNG"
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert claims["runs_done"] == 2 and claims["claims"][0]["ours"] == 0.25
    md = (tmp_path / "report.md").read_text()
    assert md.startswith("# fake: A fake.\n") and "1 of 3 runs are not done yet" in md
    assert "| C1 | a \\| b | x > 0 | **pass** | 0.2500 | 0.3 |" in md
    assert "## Preconditions" not in md  # the claim states none
    assert "![f](figures/f.png)" in md and "(tables/t1.parquet)" in md
    stamp = (tmp_path / "figures/f.png").stat().st_mtime_ns
    write_report(store, Experiment("fake", lambda p, s: [],
                                   lambda r, p: fake_aggregate(r, tables=("t1",))))
    assert not (tmp_path / "tables/t2.parquet").exists()  # stale outputs are removed
    assert (tmp_path / "figures/f.png").stat().st_mtime_ns == stamp  # unchanged: untouched


PRE = [{"name": "seeds", "requirement": ">= 5 seeds", "observed": "5 seed(s)", "met": True},
       {"name": "pretraining", "requirement": ">= 0.95", "observed": "lowest 0.812", "met": False}]


def with_preconditions(records: list[dict], profile=None) -> dict:
    out = fake_aggregate(records)
    out["claims"] = [{**out["claims"][0], "verdict": "not a fair test",
                      "note": "unmet: pretraining", "preconditions": PRE},
                     {"id": "C2", "claim": "b", "criterion": "y > 0", "verdict": "pass",
                      "ours": "0.1", "authors": "0.2", "preconditions": PRE[:1]}]
    return out


def test_report_leads_with_the_claims_then_one_row_per_precondition(tmp_path):
    store, _ = stored(tmp_path, 3)
    rep = write_report(store, Experiment("fake", lambda p, s: [], with_preconditions))
    md = rep.markdown
    assert md.index("## Claims") < md.index("## Preconditions") < md.index("## Tables")
    assert "| precondition | claims | requirement | observed | met |" in md
    assert "| seeds | C1, C2 | >= 5 seeds | 5 seed(s) | yes |" in md  # shared: one row
    assert "| pretraining | C1 | >= 0.95 | lowest 0.812 | **no** |" in md
    assert "| C1 | a \\| b | x > 0 | **not a fair test** (unmet: pretraining) |" in md
    assert "| C1 | **not a fair test** | not a fair test | - |" in md  # the verdicts first
    assert "Computed with: torch unrecorded (3 run(s)); this report aggregated with torch " \
        f"{torch.__version__}." in md
    claims = json.loads((tmp_path / "claims.json").read_text())["claims"]
    assert [c["verdict"] for c in claims] == ["not a fair test", "pass"]
    assert claims[0]["preconditions"] == PRE and claims[1]["preconditions"] == PRE[:1]


def test_preconditions_markdown_rows_and_none():
    claims = with_preconditions([])["claims"]
    table = preconditions_markdown(claims)
    assert table.count("\n") == 2 + 2  # header, rule, one row per precondition observed
    assert preconditions_markdown([{**c, "preconditions": []} for c in claims]) == ""
    assert preconditions_markdown([{k: v for k, v in c.items() if k != "preconditions"}
                                   for c in claims]) == ""


@pytest.mark.parametrize("pre", [
    {"name": "seeds"}, [{"name": "seeds", "requirement": "r", "observed": "o"}], ["seeds"],
    [PRE[0], None]])
def test_malformed_preconditions_are_a_clear_error(pre):
    out = fake_aggregate([])
    out["claims"][0]["preconditions"] = pre
    with pytest.raises(ValueError, match="C1's preconditions must be a list of dicts with "
                                         "name, requirement, observed, met"):
        check_outputs(out, "fake")
    out["claims"][0]["preconditions"] = PRE
    out["claims"][0]["verdict"] = "not a fair test"
    assert check_outputs(out, "fake")["claims"][0]["verdict"] == "not a fair test"


@pytest.mark.parametrize("change,message", [
    (lambda o: o["claims"][0].update(verdict="maybe"), "verdict 'maybe'"),
    (lambda o: o["claims"][0].pop("authors"), "each claim must be a dict"),
    (lambda o: o.update(tables={"t": [1, 2]}), "'tables' must map"),
    (lambda o: o.update(figures={"bad/name": Figure()}), "'figures' must map"),
    (lambda o: o.update(table=[]), "unknown key 'table'"),
])
def test_malformed_aggregate_is_a_clear_error(tmp_path, change, message):
    store, _ = stored(tmp_path, 1)

    def aggregate(records, profile):
        out = fake_aggregate(records)
        change(out)
        return out
    with pytest.raises(ValueError, match=message):
        write_report(store, Experiment("fake", lambda p, s: [], aggregate))
    assert not (tmp_path / "report.md").exists()
