"""E1 (invariance vs other factors): the spec grid of every profile, the per-seed draw, and one
end-to-end smoke run through ``t2d run`` (machinery only: files written, claims computed with
valid verdicts; never the verdicts themselves)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from transforms2d.cli import app
from transforms2d.engine import EXPERIMENTS, spec_hash
from transforms2d.models import list_models
from transforms2d.study import e1 as e1_mod
from transforms2d.transforms import CORRUPTION, GEOMETRIC, PHOTOMETRIC


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_draw_is_deterministic_one_per_group_and_disjoint(seed):
    d = e1_mod.draw(seed)
    assert d == e1_mod.draw(seed)
    for group, t, o in zip((GEOMETRIC, PHOTOMETRIC, CORRUPTION), d["target"], d["disjoint"]):
        assert t in group and o in group and t != o
    assert not set(d["target"]) & set(d["disjoint"])
    assert len(d["target_objects"]) == len(d["other_objects"]) == 30
    objs = d["target_objects"] + d["other_objects"]
    assert len(set(objs)) == 60 and set(objs) <= set(range(60))


def test_draws_differ_between_seeds():
    draws = [e1_mod.draw(s) for s in range(5)]
    assert len({tuple(d["target_objects"]) for d in draws}) == 5


def test_paper_grid_axes_values_and_dedup():
    z = e1_mod.SIZES["paper"]
    assert z["models"] == ("resnet18", "resnet50", "densenet_cifar", "vgg11", "vit")
    assert z["pt_samples"] == (1000, 10000, 50000, 100000, 500000)
    assert z["ft_samples"] == (50, 200, 500, 2000, 5000)
    assert z["classes"] == ("subset", "disjoint", "same", "superset")
    cells = e1_mod.cells("paper", 2)
    axes = {(c[0], str(c[1])) for c in cells}
    assert {a for a, _ in axes} == set(e1_mod.AXES)
    assert len(cells) == 2 * 2 * (4 + 5 + 5 + 5)
    # shared runs: default (classes=disjoint == rn18 == 50k), target-class run (classes=same
    # == every ft size): 4 + 4 + 4 + 0 new per family and seed, plus the default
    specs = EXPERIMENTS["e1"].specs("paper", 2)
    assert len(specs) == len({spec_hash(s) for s in specs}) == 2 * 2 * (1 + 3 + 4 + 4)
    by = {(c[0], str(c[1]), c[2], c[3]): spec_hash(c[4]) for c in cells}
    for fam in e1_mod.FAMILIES:
        base = by[("classes", "disjoint", fam, 0)]
        assert by[("architecture", "resnet18", fam, 0)] == base
        assert by[("pt_samples", "50000", fam, 0)] == base
        assert {by[("ft_samples", str(n), fam, 0)] for n in z["ft_samples"]} == {
            by[("classes", "same", fam, 0)]}
    spec = next(c[4] for c in cells if c[:3] == ("classes", "same", "same") and c[3] == 0)
    d = e1_mod.draw(0)
    assert list(spec.source["objects"]) == d["target_objects"]
    assert list(spec.source["transforms"]) == d["target"]
    assert spec.model == "resnet18" and spec.train["epochs"] == 50
    assert spec.train["batch_size"] == 512 and spec.source["n"] == 50000
    assert sorted(p.name for p in spec.probes) == sorted(
        f"n{n}" for n in {*z["ft_samples"], z["n_probe"]})
    default = next(c[4] for c in cells if c[:4] == ("classes", "disjoint", "same", 0))
    ft = [p for p in default.probes if p.finetune is not None]
    assert [p.name for p in ft] == ["ft2000"] and ft[0].train["n"] == 2000
    assert ft[0].finetune["epochs"] == 50 and ft[0].finetune["lr"] == 1e-3
    assert all(p.finetune is None for p in spec.probes)  # only the default run fine-tunes
    vit = next(c[4] for c in cells if c[1] == "vit")
    assert vit.train["schedule"] == "warmup_cosine"


@pytest.mark.parametrize("profile", ["smoke", "quick", "paper"])
def test_every_profile_builds_known_models_and_disjoint_families(profile):
    z = e1_mod.SIZES[profile]
    assert set(z["models"]) <= set(list_models()) and z["model"] in z["models"]
    assert z["n"] in z["pt_samples"] and "disjoint" in z["classes"] and "same" in z["classes"]
    cells = e1_mod.cells(profile, 1)
    d = e1_mod.draw(0, z["n_target"])
    for _axis, _value, fam, _seed, spec, probe in cells:
        want = d["target"] if fam == "same" else d["disjoint"]
        assert list(spec.source["transforms"]) == want
        assert probe in {p.name for p in spec.probes}
        for p in spec.probes:  # the target task
            assert list(p.test["objects"]) == d["target_objects"]
            assert list(p.test["transforms"]) == d["target"]
            assert p.train["seed"] != spec.source["seed"]
    default = next(c[4] for c in cells if c[:3] == ("classes", "disjoint", "same"))
    assert list(default.source["objects"]) == d["other_objects"]


@pytest.mark.slow
def test_smoke_run_end_to_end(tmp_path, runner):
    out = tmp_path / "e1"
    res = runner.invoke(app, ["run", "e1", "--profile", "smoke", "--seeds", "1",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "report.md").exists() and (out / "figures/e1_transfer.png").stat().st_size
    table = pd.read_parquet(out / "tables/e1_transfer.parquet")
    assert set(table.axis) == {*e1_mod.AXES, "finetune"}
    assert set(table.family) == {"same", "disjoint"}
    ft = table[table.axis == "finetune"]
    assert set(ft.value) == {"linear probe", "full fine-tuning"} and (ft.seeds == 1).all()
    assert table["mean"].between(0, 1).all()
    claims = json.loads((out / "claims.json").read_text())["claims"]
    assert [c["id"] for c in claims] == ["C1", "C2", "C3", "C4", "C5"]
    assert all(c["verdict"] in {"pass", "fail", "not run"} and c["criterion"] for c in claims)
    md = (out / "report.md").read_text()
    assert "C1" in md and "figures/e1_transfer.png" in md


def test_aggregate_verdicts_with_three_fake_seeds():
    """Fake results (same always 0.2 above disjoint by probe, 0.02 after fine-tuning) give
    every claim a pass; with the fine-tuned gap wider than the probe's, C5 fails."""
    def records(ft_gap):
        out = []
        for spec in EXPERIMENTS["e1"].specs("smoke", 3):
            d = e1_mod.draw(spec.seed)
            fam_same = list(spec.source["transforms"]) == d["target"]
            acc = (0.9 if fam_same else 0.7) + 0.01 * spec.seed
            ft = {"test_acc": 0.95 if fam_same else 0.95 - ft_gap - 0.001 * spec.seed}
            out.append({"hash": spec_hash(spec), "spec": spec, "result": {"probes": {
                p.name: {"test_acc": acc, **({"finetune": ft} if p.finetune else {})}
                for p in spec.probes}}})
        return out
    out = e1_mod.aggregate(records(0.02), "smoke")
    verdicts = {c["id"]: c["verdict"] for c in out["claims"]}
    assert verdicts == {"C1": "pass", "C2": "pass", "C3": "pass", "C4": "pass", "C5": "pass"}
    out = e1_mod.aggregate(records(0.3), "smoke")
    assert {c["id"]: c["verdict"] for c in out["claims"]}["C5"] == "fail"
