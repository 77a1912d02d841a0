"""E2 (irrelevant features, on the scene stand-in): the grid, the tasks' data, the claim
arithmetic on fake results, and one smoke run end to end (machinery, never the verdicts)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from transforms2d.cli import app
from transforms2d.engine import EXPERIMENTS, get_experiment, spec_hash
from transforms2d.engine.run import build_dataset
from transforms2d.study import e2 as e2_mod


def test_alias_draw_and_grid():
    assert get_experiment("ife").name == "e2"
    assert e2_mod.draw(3) == e2_mod.draw(3) != e2_mod.draw(4)
    assert len(set(e2_mod.draw(0)["objects"])) == 10
    cells = e2_mod.cells("paper", 2)
    assert len(cells) == 2 * 2 * 4
    specs = EXPERIMENTS["e2"].specs("paper", 2)  # C/C is shared by both placements
    assert len(specs) == len({spec_hash(s) for s in specs}) == 2 * 7
    spec = next(c[3] for c in cells if c[:3] == ("translated", "C+O/O", 0))
    assert spec.model == "resnet18" and spec.train["epochs"] == 200
    assert spec.source["object_position"] == "anywhere" and spec.source["object_scale"] == 0.375
    assert {p.name for p in spec.probes} == {f"translated.{t}" for t in e2_mod.TASK_ID.values()}
    assert {(t.name, t.twin_factor) for t in spec.invariance} == {
        ("translated.object", "object"), ("translated.background", "background")}
    shared = next(c[3] for c in cells if c[:3] == ("fixed", "C/C", 0))
    assert len(shared.probes) == 8 and len(shared.invariance) == 4
    assert all(p.train["seed"] != shared.source["seed"] for p in shared.probes)


@pytest.mark.parametrize("task,label_from,has_object,black", [
    ("C/C", "background", False, False), ("C+O/C", "background", True, False),
    ("C+O/O", "object", True, False), ("O/O", "object", True, True)])
def test_task_data(task, label_from, has_object, black):
    z = e2_mod.SIZES["smoke"]
    ds = build_dataset(e2_mod._data(z, e2_mod.draw(0)["objects"], task, "fixed", 64, 0), "test")
    assert ds.spec.class_from == label_from
    assert ds.num_classes == (10 if label_from == "object" else 8)
    ident = ds.renderer.identity(torch.arange(64))
    assert bool(ident["present"].all()) == has_object and bool(ident["present"].any()) == has_object
    assert (ds.spec.backgrounds == "black") == black


def fake(records_acc, inv):
    """Records for the smoke grid over 3 seeds with probe accuracy ``records_acc(task, target,
    seed)`` and object invariance ``inv(task, seed)``."""
    out = []
    for _v, task, seed, spec in e2_mod.cells("smoke", 3):
        res = {"probes": {p.name: {"test_acc": records_acc(task, p.name.split(".")[1], seed)}
                          for p in spec.probes},
               "invariance": {t.name: {"l2": inv(task, seed) if t.twin_factor == "object"
                                       else 0.5} for t in spec.invariance}}
        out.append({"hash": spec_hash(spec), "spec": spec, "result": res})
    return out


def test_claim_passes_and_fails_on_fake_results():
    def acc(task, target, seed):
        return 0.5 + 0.01 * seed if (task, target) == ("C+O/C", "CO_O") else 0.8 + 0.02 * seed

    def inv(task, seed):
        return 0.08 + 0.001 * seed if task == "C+O/C" else 0.21 + 0.002 * seed
    out = e2_mod.aggregate(fake(acc, inv), "smoke")
    (c6,) = out["claims"]
    assert c6["id"] == "C6" and c6["verdict"] == "pass", c6
    assert "stand" in c6["criterion"] and "CIFAR" in c6["criterion"]
    probe = out["tables"]["e2_probe"]
    row = probe[(probe.variant == "fixed") & (probe.pretrained_on == "C+O/C") &
                (probe.probed_on == "C+O/O")].iloc[0]
    assert row["seeds"] == 3 and row["mean"] == pytest.approx(0.51)
    out = e2_mod.aggregate(fake(lambda *a: 0.7 + 0.01 * a[2], inv), "smoke")  # no harm
    assert out["claims"][0]["verdict"] == "fail"
    two = [r for r in fake(acc, inv) if r["spec"].seed < 2]
    assert e2_mod.aggregate(two, "smoke")["claims"][0]["verdict"] == "not run"


@pytest.mark.slow
def test_smoke_run_end_to_end(tmp_path, runner):
    out = tmp_path / "e2"
    res = runner.invoke(app, ["run", "ife", "--profile", "smoke", "--seeds", "1",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "figures/e2_transfer.png").stat().st_size
    probe = pd.read_parquet(out / "tables/e2_probe.parquet")
    assert len(probe) == 2 * 4 * 4 and probe["mean"].between(0, 1).all()
    inv = pd.read_parquet(out / "tables/e2_invariance.parquet")
    assert set(inv.invariance_to) == {"object", "scene"} and (inv.l2_mean > 0).all()
    claims = json.loads((out / "claims.json").read_text())["claims"]
    assert [c["id"] for c in claims] == ["C6"] and claims[0]["verdict"] == "not run"
    md = (out / "report.md").read_text()
    assert "standing in for CIFAR-10" in md and "figures/e2_transfer.png" in md
