"""The demo experiment: its grid at every profile, and its aggregate as the worked example of
tables, figures and claims (on fake records)."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from transforms2d.engine import EXPERIMENTS, spec_hash
from transforms2d.reporting.stats import mean_ci
from transforms2d.study import demo as demo_mod


@pytest.mark.parametrize("profile", ["smoke", "quick", "paper"])
def test_demo_profiles_build_the_same_grid(profile):
    specs = EXPERIMENTS["demo"].specs(profile, 2)
    assert len({spec_hash(s) for s in specs}) == 4
    assert [s.seed for s in specs] == [0, 0, 1, 1]
    assert {tuple(s.source["transforms"]) for s in specs} == {("hue", "invert"), ("rotate", "blur")}


# -- demo aggregate: the worked example of tables, figures and claims -------------------------
def fake_records(seeds: int, same: float, disjoint: float) -> list[dict]:
    out = []
    for spec in EXPERIMENTS["demo"].specs("smoke", seeds):
        acc = (same if demo_mod.family(spec) == "same" else disjoint) + 0.01 * spec.seed
        out.append({"hash": spec_hash(spec), "spec": spec, "result": {
            "probes": {"target": {"test_acc": acc}, "plain": {"test_acc": 0.5}},
            "invariance": {"target": {"l2": 0.3, "cos": 0.9}}}})
    return out


@pytest.mark.parametrize("seeds,same,disjoint,verdict", [
    (3, 0.8, 0.6, "pass"), (3, 0.6, 0.8, "fail"), (2, 0.8, 0.6, "not run")])
def test_demo_claim_table_and_figure(seeds, same, disjoint, verdict):
    out = demo_mod.aggregate(fake_records(seeds, same, disjoint), demo_mod.SIZES["smoke"])
    (claim,) = out["claims"]
    assert claim["verdict"] == verdict and claim["id"] == "D1"
    assert f"n={seeds}" in claim["ours"] and claim["authors"]
    t = out["tables"]["probe_accuracy"]
    row = t[(t.family == "same") & (t.measure == "probe target test_acc")].iloc[0]
    ci = mean_ci([same + 0.01 * s for s in range(seeds)])
    assert row.seeds == seeds and row["mean"] == pytest.approx(ci.mean)
    assert row.ci95_low == pytest.approx(ci.low)
    assert isinstance(out["figures"]["probe_accuracy"], Figure)
