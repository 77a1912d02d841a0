"""E3 (how transferable is invariance): the per-seed draw, the spec grid of every profile
(budget cells included), the Same / Other / None arithmetic of the aggregation and C7's
preconditions (the plateau rule) on synthetic records, and one end-to-end smoke run through
``t2d run`` (machinery only: files written, claim with a valid verdict)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from tests.helpers import study as fake
from tests.helpers.study import FAIR_SEEDS
from transforms2d.cli import app
from transforms2d.engine import EXPERIMENTS, get_experiment, spec_hash
from transforms2d.models import list_models
from transforms2d.reporting.report import VERDICTS, check_outputs
from transforms2d.reporting.stats import mean_ci
from transforms2d.study import e3 as e3_mod
from transforms2d.study.claims import CLAIMS
from transforms2d.study.e3 import grid as e3_grid
from transforms2d.study.e3 import report as e3_report
from transforms2d.transforms import TRANSFORMS


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_draw_is_deterministic_and_splits_the_first_60(seed):
    d = e3_mod.draw(seed)
    assert d == e3_mod.draw(seed)
    assert len(d["primary"]) == len(d["other"]) == 30
    assert set(d["primary"]) | set(d["other"]) == set(range(60))


def test_draws_differ_between_seeds():
    assert len({tuple(e3_mod.draw(s)["primary"]) for s in range(5)}) == 5


def test_alias():
    assert get_experiment("it").name == "e3" and get_experiment("e3") is EXPERIMENTS["e3"]


def test_paper_grid():
    specs = EXPERIMENTS["e3"].specs("paper", 2)
    assert len(specs) == len({spec_hash(s) for s in specs}) == 2 * 2 * 19
    cells = e3_mod.cells(e3_mod.SIZES["paper"], 2)
    assert all(isinstance(c, e3_mod.Cell) for c in cells)
    assert {(c.kind, c.trained) for c in cells if c.seed == 0} == {
        (k, t) for k in ("img", "rand") for t in (*TRANSFORMS, "none")}
    assert {c.epochs for c in cells} == {50}  # no budget cells at paper sizes
    domains = {"img": ("id", "other_objects", "random"), "rand": ("id", "random_other", "real")}
    for kind, trained, seed, spec, _epochs in cells:
        d = e3_mod.draw(seed)
        assert spec.model == "resnet18" and spec.seed == seed
        assert spec.train["epochs"] == 50 and spec.train["batch_size"] == 512
        src = spec.source
        assert src["n"] == 50000 and src["seed"] == seed and src["image_size"] == 32
        assert dict(spec.source_val) == {**src, "n": 10000}
        assert list(src["transforms"]) == ([] if trained == "none" else [trained])
        if kind == "img":
            assert (list(src["objects"]), src["assets"], src["backgrounds"]) == (
                d["primary"], "builtin", "images")
        else:
            assert (list(src["objects"]), src["assets"], src["backgrounds"]) == (
                list(range(30)), "random", "random")
        assert [t.name for t in spec.invariance] == [
            f"{dom}.{t}" for dom in domains[kind] for t in TRANSFORMS]
        for t in spec.invariance:
            dom, _, tau = t.name.partition(".")
            assert list(t.data["transforms"]) == [tau] and "l2" in t.metrics
            assert t.data["n"] == 10000 and t.data["seed"] != seed
            objs, assets, bgs = e3_mod.DOMAINS[kind][dom]
            assert list(t.data["objects"]) == e3_mod.object_sets(d)[objs]
            assert (t.data["assets"], t.data["backgrounds"]) == (assets, bgs)
    real = next(t for c in cells if (c.kind, c.seed) == ("rand", 0)
                for t in c.spec.invariance if t.name == "real.rotate")
    assert list(real.data["objects"]) == e3_mod.draw(0)["primary"]


@pytest.mark.parametrize("profile", ["smoke", "quick", "cpu", "paper"])
def test_every_profile_builds_known_models(profile):
    z = e3_mod.SIZES[profile]
    assert z.model in list_models() and "l2" in z.metrics
    k = len(e3_mod.measured(z))
    assert z.n >= 30 and z.n_inv >= 30 and 1 <= k <= 18
    specs = EXPERIMENTS["e3"].specs(profile, 1)
    assert len(specs) == 2 * (k + 1) * (1 + len(z.budgets))
    assert all(len(s.invariance) == 3 * k for s in specs)
    assert all(s.train["stop_train_acc"] == z.stop_train_acc for s in specs)


@pytest.mark.parametrize("profile", ["smoke", "quick"])
def test_budget_cells_retrain_every_model_for_other_epochs(profile):
    z = e3_mod.SIZES[profile]
    cells = e3_mod.cells(e3_mod.SIZES[profile], 2)
    main = {(c.kind, c.trained): c.spec for c in cells if c.seed == 0 and c.epochs == z.epochs}
    budget = [c for c in cells if c.epochs != z.epochs]
    epochs = sorted({max(1, round(b * z.epochs)) for b in z.budgets})
    assert sorted({c.epochs for c in budget}) == epochs
    assert len(budget) == len(epochs) * len(main)
    for c in budget:
        base = main[(c.kind, c.trained)]
        assert c.seed == 0 and c.spec == base.replace(train={**base.train, "epochs": c.epochs})


# -- aggregation on synthetic records ----------------------------------------------------------
RANK = {"id": 0, "other_objects": 1, "random": 2, "random_other": 1, "real": 2}
BASE = {"img": 0.0, "rand": 0.1}


def _fake_l2(kind, dom, trained, meas, seed, ts, other_level):
    """Same 0.1 (+0.05 per domain of shift), None 0.5, Other other_level + 0.01 i + 0.001 j."""
    if trained == meas:
        v = 0.1 + 0.05 * RANK[dom]
    elif trained == "none":
        v = 0.5
    else:
        v = other_level + 0.01 * ts.index(trained) + 0.001 * ts.index(meas)
    return BASE[kind] + v + 0.02 * seed


def _records(seeds=FAIR_SEEDS, other_level=0.48, drop=(), train=None):
    """Fake done runs of the smoke grid (budget cells included: the same values); pretraining
    ``train(kind, trained, seed)`` (a pretrain result; default 0.95 + 0.01 seed)."""
    ts = list(TRANSFORMS[:e3_mod.SIZES["smoke"].transforms])
    out = []
    for c in e3_mod.cells(e3_mod.SIZES["smoke"], seeds):
        if (c.kind, c.trained, c.seed) in drop:
            continue
        inv = {}
        for t in c.spec.invariance:
            dom, _, meas = t.name.partition(".")
            inv[t.name] = {"l2": _fake_l2(c.kind, dom, c.trained, meas, c.seed, ts,
                                          other_level)}
        pretrain = fake.pretrain(0.95 + 0.01 * c.seed) if train is None else \
            train(c.kind, c.trained, c.seed)
        out.append({"hash": spec_hash(c.spec), "spec": c.spec,
                    "result": {"pretrain": pretrain, "invariance": inv}})
    return out


def test_same_other_none_arithmetic_and_c7_pass():
    out = check_outputs(e3_mod.aggregate(_records(), e3_mod.SIZES["smoke"]), "e3")
    s = out["tables"]["e3_summary"].set_index(["kind", "domain"])
    shift = mean_ci([0.02 * i for i in range(FAIR_SEEDS)])  # every value moves by 0.02 a seed
    # Other for τ_j: mean over i != j of 0.48 + 0.01 i + 0.001 j, over j = 0, 1, 2: 0.491
    for kind in ("img", "rand"):
        for dom in e3_grid.SHIFT_ORDER[kind]:
            r = s.loc[(kind, dom)]
            b = BASE[kind] + shift.mean  # the mean seed adds 0.04
            assert r.seeds == FAIR_SEEDS and r.note == ""
            assert r.same == pytest.approx(b + 0.1 + 0.05 * RANK[dom], abs=1e-12)
            assert r.other == pytest.approx(b + 0.491, abs=1e-12)
            assert r.none == pytest.approx(b + 0.5, abs=1e-12)
            assert r.none_minus_same == pytest.approx(0.4 - 0.05 * RANK[dom], abs=1e-12)
            # Same's interval is the seeds' shift's (a constant added moves it along)
            assert r.same - r.same_low == pytest.approx(shift.mean - shift.low, abs=1e-12)
            assert r.same_high - r.same == pytest.approx(shift.high - shift.mean, abs=1e-12)
            assert r.same_low < r.same < r.same_high
            assert r.none_minus_same_high - r.none_minus_same_low < 1e-9  # no seed effect
        for dom in ("cifar10", "cifar100"):
            r = s.loc[(kind, dom)]
            assert r.seeds == 0 and math.isnan(r.same) and "CIFAR" in r.note
            assert r.authors_same == e3_report.AUTHORS[kind][dom][0]
    assert s.loc[("img", "id")].authors_other == 0.40
    assert s.loc[("rand", "real")].authors_none == 0.35
    m = out["tables"]["e3_matrix"].set_index(["kind", "domain", "trained"])
    assert m.loc[("img", "random", "translate"), "scale"] == pytest.approx(0.49 + 0.04)
    assert m.loc[("rand", "id", "none"), "v_flip"] == pytest.approx(0.1 + 0.5 + 0.04)
    assert m.loc[("img", "id", "scale"), "scale"] == pytest.approx(0.1 + 0.04)
    pre = out["tables"]["e3_pretrain"].set_index("trained")
    assert pre.loc["none", "img_train_acc"] == pytest.approx(0.97)
    assert pre.loc["none", "seeds"] == FAIR_SEEDS
    (c7,) = out["claims"]
    assert c7["id"] == "C7" and c7["verdict"] == "pass", c7["ours"]
    assert "0.12" in c7["authors"] and "(a)" in c7["ours"] and "(c)" in c7["ours"]
    assert fake.names(c7) == fake.declared(c7) == ["seeds", "learned-or-capped",
                                                    "memorisation", "headroom"]
    assert all(p["met"] for p in c7["preconditions"])
    assert set(out["tables"]) == {"e3_summary", "e3_matrix", "e3_pretrain", "e3_budget"}
    assert {"e3_heatmap", "e3_summary", "e3_budget"} <= set(out["figures"])
    budget = out["tables"]["e3_budget"]
    assert list(budget.epochs) == [1, 2]
    assert budget["img/id none-same"].tolist() == pytest.approx([0.4, 0.4])
    assert budget.min_train_acc.tolist() == pytest.approx([0.95, 0.95])


def test_c7_fails_when_other_transforms_give_invariance():
    (c7,) = e3_mod.aggregate(_records(other_level=0.3), e3_mod.SIZES["smoke"])["claims"]
    assert c7["verdict"] == "fail" and "(c)" in c7["ours"]
    # only the bound failed, exceeded in the paper's own direction (None more variant)
    assert c7["direction"] == "margin exceeded, same direction"


def test_c7_preconditions_and_the_plateau_rule():
    # a model below the threshold whose accuracy stopped rising (the task caps it): fair
    def capped(kind, trained, seed):
        return fake.plateau(0.55) if (kind, trained) == ("rand", "translate") else \
            fake.pretrain(0.99)
    (c7,) = e3_mod.aggregate(_records(train=capped), e3_mod.SIZES["smoke"])["claims"]
    assert c7["verdict"] == "pass" and all(p["met"] for p in c7["preconditions"])
    assert "lowest fit 0.550" in c7["preconditions"][1]["observed"] and not c7["below"]
    # the same model still rising on one seed: below the rule, and C7 recomputed on the other
    # 4 seeds gives the same pass: robust to it
    def rising(kind, trained, seed):
        return fake.pretrain(0.55) if (kind, trained, seed) == ("rand", "translate", 2) else \
            fake.pretrain(0.99)
    (c7,) = e3_mod.aggregate(_records(train=rising), e3_mod.SIZES["smoke"])["claims"]
    assert c7["verdict"] == "pass" and fake.unmet(c7) == ["learned-or-capped"]
    assert c7["robust"] == "robust: 1 model(s) excluded" and c7["below_seeds"] == [2]
    assert c7["sensitivity"]["seeds_left"] == FAIR_SEEDS - 1
    # too few seeds
    (c7,) = e3_mod.aggregate(_records(3), e3_mod.SIZES["smoke"])["claims"]
    assert c7["verdict"] == "not a fair test" and fake.unmet(c7) == ["seeds"]
    # budget runs do not enter the claim: a weak budget model changes nothing
    def weak_budget(kind, trained, seed):
        return fake.pretrain(0.99)
    recs = _records(train=weak_budget)
    z = e3_mod.SIZES["smoke"]
    for r in recs:
        if r["spec"].train["epochs"] != z.epochs:
            r["result"]["pretrain"] = fake.pretrain(0.3)
    out = e3_mod.aggregate(recs, e3_mod.SIZES["smoke"])
    assert out["claims"][0]["verdict"] == "pass"
    assert out["tables"]["e3_budget"].min_train_acc.tolist() == pytest.approx([0.99, 0.3])


def test_missing_runs_and_too_few_seeds():
    recs = _records(2, drop={("img", "scale", 0), ("rand", "none", 1)})
    out = e3_mod.aggregate(recs, e3_mod.SIZES["smoke"])
    s = out["tables"]["e3_summary"].set_index(["kind", "domain"])
    # seed 0 of img lacks Same for scale: its mean runs over translate and v_flip only
    assert s.loc[("img", "id")].seeds == 2 and s.loc[("rand", "id")].seeds == 1
    (c7,) = out["claims"]
    assert c7["verdict"] == "not run"  # one seed on a domain: no interval
    seeds = c7["preconditions"][0]
    assert seeds["name"] == "seeds" and not seeds["met"] and seeds["observed"].startswith("1 ")


@pytest.mark.slow
def test_smoke_run_end_to_end(tmp_path, one_thread, runner):
    out = tmp_path / "e3"
    res = runner.invoke(app, ["run", "e3", "--profile", "smoke", "--seeds", "2",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "report.md").exists()
    for fig in ("e3_heatmap", "e3_summary"):
        assert (out / f"figures/{fig}.png").stat().st_size
    table = pd.read_parquet(out / "tables/e3_summary.parquet")
    runnable = table[table.note == ""]
    assert len(runnable) == 6 and (runnable.seeds == 2).all()
    assert runnable[["same", "other", "none"]].gt(0).all().all()
    matrix = pd.read_parquet(out / "tables/e3_matrix.parquet")
    assert len(matrix) == 2 * 3 * 4
    budget = pd.read_parquet(out / "tables/e3_budget.parquet")
    assert list(budget.epochs) == [1, 2] and budget.min_train_acc.between(0, 1).all()
    assert (out / "figures/e3_budget.png").stat().st_size
    claims = json.loads((out / "claims.json").read_text())["claims"]
    assert [c["id"] for c in claims] == ["C7"]
    assert claims[0]["verdict"] in VERDICTS and claims[0]["criterion"]
    assert [p["name"] for p in claims[0]["preconditions"]] == list(CLAIMS["C7"].preconditions)
    assert claims[0]["verdict"] != "pass"  # two seeds: the seeds precondition is unmet
    md = (out / "report.md").read_text()
    assert "C7" in md and "figures/e3_heatmap.png" in md and "CIFAR not available" in md
    assert "## Preconditions" in md
