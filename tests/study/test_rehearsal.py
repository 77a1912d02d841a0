"""``--rehearse``: every distinct kind of run of a grid for a couple of steps, marked as a
rehearsal (transforms2d.engine.rehearse). The end-to-end tests rehearse the ``paper`` profile
(every paper model at its real size, CIFAR cells on built archives) in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers.rehearsal import check_rehearsal, rehearse
from transforms2d.engine import RunStore, spec_hash, unique
from transforms2d.engine.rehearse import distinct_kinds, rehearsal_spec, structure
from transforms2d.errors import ConfigError
from transforms2d.study import get_experiment

PAPER_MODELS = {"resnet18", "resnet50", "densenet_cifar", "vgg11", "vit"}


def test_a_rehearsal_spec_keeps_the_model_and_batch_and_runs_two_steps():
    spec = get_experiment("e4").specs("paper", 1)[0]
    r = rehearsal_spec(spec)
    assert (r.model, r.model_kwargs, r.train["batch_size"]) == \
        (spec.model, spec.model_kwargs, spec.train["batch_size"])
    assert r.train["epochs"] == 1 and r.train["stop_train_acc"] is None
    assert r.source["n"] == 2 * spec.train["batch_size"] < spec.source["n"]
    assert r.source["image_size"] == spec.source["image_size"]
    assert [p.name for p in r.probes] == [spec.probes[0].name]  # one probe kind of 8
    assert all(p.probe["max_iter"] == 5 for p in r.probes)  # a few L-BFGS steps
    assert spec_hash(r) != spec_hash(spec)
    capped = rehearsal_spec(spec, batch_cap=8)
    assert capped.train["batch_size"] == 8
    assert capped.source["n"] == 30  # at least one sample of each of the 30 classes


@pytest.mark.parametrize("name", ["e1", "e2", "e3", "e4"])
def test_the_distinct_kinds_cover_every_model_and_structure_of_the_paper_grid(name):
    specs = unique(get_experiment(name).specs("paper", 2))
    kinds = distinct_kinds(specs)
    assert {s.model for s in kinds} == {s.model for s in specs}
    assert {structure(s) for s in kinds} == {structure(s) for s in specs}
    assert len(kinds) < len(specs)


def test_real_runs_and_a_rehearsal_never_share_a_folder(tmp_path):
    store = RunStore(tmp_path / "e4")
    store.claim("e4", "paper", 1, [], rehearsal={"steps": 2, "batch_cap": None})
    with pytest.raises(ConfigError, match="holds a rehearsal"):
        store.claim("e4", "paper", 1, [])
    real = RunStore(tmp_path / "real")
    real.claim("e4", "paper", 1, [])
    with pytest.raises(ConfigError, match="holds real runs"):
        real.claim("e4", "paper", 1, [], rehearsal={"steps": 2, "batch_cap": None})


@pytest.mark.slow
def test_e1_of_the_paper_profile_rehearses_end_to_end(tmp_path, with_cifar):
    """Every E1 run kind — the five paper architectures at their real size, full fine-tuning,
    the CIFAR cells on built archives — and its report, for one seed (E2-E4:
    test_rehearsal_e2_e4.py). Then a rerun reuses every run and real runs refuse the folder."""
    out = tmp_path / "rehearsal"
    res = rehearse(out, "e1", with_cifar)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    specs = check_rehearsal(out, ["e1"])["e1"]
    assert {s.model for s in specs} == PAPER_MODELS
    assert {s.source.get("dataset") for s in specs} == {None, "cifar"}
    assert any(p.finetune is not None for s in specs for p in s.probes)
    again = rehearse(out, "e1", with_cifar)
    assert again.returncode == 0 and "0 computed" in again.stdout, again.stdout[-2000:]
    real = subprocess.run([sys.executable, "-m", "transforms2d", "reproduce", "--profile",
                           "paper", "--seeds", "1", "--experiments", "e1", "--no-plan",
                           "--executor", "local", "--out", str(out)],
                          env={**os.environ, "T2D_CIFAR_ROOT": str(with_cifar)},
                          capture_output=True, text=True, timeout=300)
    assert real.returncode == 2 and "holds a rehearsal" in real.stderr + real.stdout


def test_t2d_run_rehearses_one_experiment(tmp_path, runner):
    from transforms2d.cli import app

    out = tmp_path / "e4"
    res = runner.invoke(app, ["run", "e4", "--profile", "smoke", "--rehearse", "--out", str(out)])
    assert res.exit_code == 0, res.output
    md = (out / "report.md").read_text()
    assert md.count("REHEARSAL — not results") == 1 and "Rehearsed 1 of the grid's 6 runs" in md
    real = runner.invoke(app, ["run", "e4", "--profile", "smoke", "--out", str(out)])
    assert real.exit_code == 2 and "holds a rehearsal" in real.output
    lone = runner.invoke(app, ["run", "e4", "--profile", "smoke", "--rehearse-batch", "4",
                               "--out", str(tmp_path / "y")])
    assert lone.exit_code == 2 and "--rehearse-batch needs --rehearse" in lone.output
    assert not (tmp_path / "y").exists()
