"""Fuzzing every ``t2d`` command's options in-process (``typer.testing.CliRunner``): the
listings (``transforms``, ``models``, ``experiments``, ``assets``), ``preview``, one run's
steps (``train``, ``probe``, ``invariance``), the experiment commands (``run``, ``status``,
``verify``, ``report``) and ``reproduce``.

Property: exit 0, or exit 2 with one ``Error:`` line (a ConfigError) or Typer's usage error
(a value of the wrong type, an unknown option), or exit 1 where the command reports failures
(``verify``); never an uncaught exception or a traceback; nothing written outside the case's
``--out`` folder (the working directory stays empty); no ``*.tmp`` file.

Nothing big is computed: ``train``, ``probe`` and ``invariance`` start from a tiny valid task
(8 samples, 8-16 px, 1 epoch, small models) and mutate 1-3 options to invalid or tiny valid
values; ``run`` and ``reproduce`` always carry one invalid value checked before any run
starts (unknown experiment or profile, seeds < 1, --workers without the pool executor,
--ray-address without Ray), and the folder commands work on copies of the reference demo
folder (computed once per session by ``demo_reference``).

Cases (Hypothesis, derandomized): listings 80, preview 80, train 80, probe 40, invariance 40,
run 60, reproduce 45, status/verify/report 45: 470 in all.
"""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import strategies as st

from tests.helpers.fuzz import cli_outcome, run_cases, text
from transforms2d.cli import app
from transforms2d.transforms import transform_names

NAMES = list(transform_names())
SMALL_MODELS = ["convnet_xs", "convnet_s", "vgg_s", "vgg11", "densenet_s", "resnet_s", "vit_s"]
WORDS = st.sampled_from(["", " ", "x", "-1", "0", "nan", "all", "--help", "a,b", "\n", "[red]"])


def ints(lo: int, hi: int, huge: bool = False) -> st.SearchStrategy[str]:
    """An int option's text: in [lo, hi], negative, zero, not an int at all, or (``huge``,
    for seeds only: a size or an epoch count that large would be valid and run for ever)
    beyond 64 bits."""
    bad = ["-1", "0", "-" + "9" * 30, "1.5", "x", ""] + (["9" * 30, str(2 ** 64)] if huge else [])
    valid = st.integers(lo, hi).map(str)
    return st.one_of(valid, valid, valid, st.sampled_from(bad), text(4).filter(
        lambda t: huge or not _int_above(t, hi)))


def _int_above(value: str, hi: int) -> bool:
    """Whether ``value`` parses as an int (as Click parses it) larger than ``hi``."""
    try:
        return int(value) > hi
    except ValueError:
        return False


FLOATS = st.sampled_from(["0", "-1", "1e-3", "1e-2", "nan", "inf", "-inf", "1e300", "x",
                          "1e-300"])
TRANSFORM_TEXT = (st.lists(st.sampled_from([*NAMES, "none", "rotat", "all", ""]), max_size=3)
                  .map(",".join) | text(8))
ASSETS = st.sampled_from(["builtin", "random", "nope", "folder:", "folder:/nonexistent",
                          "random:x", "hub:/nonexistent-local-dir"]) | text(6)
DEVICES = st.sampled_from(["cpu", "cuda", "cuda:0", "gpu", "meta", "", "cpu:0", "cuda:x"])


def chosen(options: dict[str, st.SearchStrategy]) -> st.SearchStrategy[dict]:
    """Up to 4 of ``options`` with generated values (``True``: a flag)."""
    return st.lists(st.sampled_from(sorted(options)), max_size=3, unique=True).flatmap(
        lambda ks: st.fixed_dictionaries({k: options[k] for k in ks}))


def flat(opts: dict) -> list[str]:
    return [a for k, v in opts.items() for a in ([k] if v is True else [k, v])]


def argv(options: dict[str, st.SearchStrategy]) -> st.SearchStrategy[list[str]]:
    """Command-line options: a random subset of ``options`` with generated values."""
    return chosen(options).map(flat)


def invoke(runner, sandbox, args: list[str], names=()) -> str:
    result = runner.invoke(app, args)
    outcome = cli_outcome(result, names)
    sandbox.check()
    return outcome


# --------------------------------------------------------------------------- listings
LISTINGS = st.one_of(
    st.tuples(st.just("transforms"), st.lists(WORDS | text(4), max_size=2)),
    st.tuples(st.just("experiments"), st.lists(WORDS | text(4), max_size=2)),
    st.tuples(st.just("models"), st.lists(st.sampled_from(["resnet*", "*", "[", "[!a]", "vit?",
                                                           "zz"]) | text(5), max_size=2)),
    st.tuples(st.just("assets"), st.lists(st.sampled_from(
        ["builtin", "random", "folder:", "folder:/nonexistent", "hub:/nonexistent-local-dir",
         "cifar10", "objects", "nope", "builtin:x", "random:"]) | text(6), max_size=2)),
)


def test_listing_commands(sandbox, runner):
    run_cases("t2d transforms/experiments/models/assets", 80, LISTINGS,
              lambda c: invoke(runner, sandbox, [c[0], *c[1]]))


# --------------------------------------------------------------------------- preview
PREVIEW = {
    "--transforms": TRANSFORM_TEXT | st.just("all"), "--per-row": ints(1, 4),
    "--image-size": ints(6, 16), "--upscale": ints(0, 2), "--seed": ints(-1, 3, huge=True),
    "--assets": ASSETS, "--backgrounds": st.sampled_from(["images", "random", "black", "x"]),
}


def test_preview_options(sandbox, runner):
    def check(case):
        opts, where = case
        d = sandbox.case_dir()
        (d / "a-file").write_text("x")
        out = {"file": d / "fig.png", "nested": d / "a" / "b" / "fig.png", "dir": d,
               "under-a-file": d / "a-file" / "fig.png", "odd name": d / "f ig\n.png"}[where]
        small = ["--image-size", "16", "--per-row", "2", "--upscale", "1"]
        outcome = invoke(runner, sandbox, ["preview", *small, *opts, "--out", str(out)],
                         ["out", "transform", "per_row", "image_size", "upscale", "seed",
                          "asset", "pack", "background", "object"])
        if outcome == "ok":
            assert out.is_file()

    run_cases("t2d preview", 80, st.tuples(argv(PREVIEW), st.sampled_from(
        ["file", "file", "nested", "dir", "under-a-file", "odd name"])), check)


# --------------------------------------------------------------------------- one run's steps
TASK = {
    "--objects": st.sampled_from(["2", "1", "0", "-1", "a,b", "", "1,1", "0,1", "100", "2,",
                                  "0,71", "0,72"]) | text(4),
    "--transforms": TRANSFORM_TEXT, "--seed": ints(-1, 2, huge=True),
    "--image-size": ints(6, 16),
    "--assets": ASSETS, "--backgrounds": st.sampled_from(["images", "random", "black", "x"]),
    "--device": DEVICES,
}
TRAIN = {**TASK, "--model": st.sampled_from([*SMALL_MODELS, "nope", "", "VIT"]),
         "--n-train": ints(-1, 8), "--n-val": ints(-1, 4), "--n-test": ints(-1, 4),
         "--epochs": ints(-1, 2), "--batch-size": ints(-1, 8), "--lr": FLOATS,
         "--weight-decay": FLOATS}
TINY_TASK = ["--objects", "2", "--image-size", "8"]
TINY_TRAIN = [*TINY_TASK, "--model", "convnet_xs", "--n-train", "8", "--n-val", "2",
              "--n-test", "2", "--epochs", "1", "--batch-size", "8"]


def out_dir(sandbox, where: str):
    d = sandbox.case_dir()
    (d / "a-file").write_text("x")
    return {"dir": d / "out", "file": d / "a-file", "under-a-file": d / "a-file" / "out"}[where]


OUTS = st.sampled_from(["dir"] * 8 + ["file", "under-a-file"])


def test_train_options(sandbox, runner, one_thread):
    def check(case):
        opts, where = case
        out = out_dir(sandbox, where)
        outcome = invoke(runner, sandbox, ["train", *TINY_TRAIN, *opts, "--out", str(out)])
        if outcome == "ok":
            assert {"last.pt", "result.json"} <= {p.name for p in out.iterdir()}

    run_cases("t2d train", 80, st.tuples(argv(TRAIN), OUTS), check)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """A tiny checkpoint (convnet_xs, 2 classes) and damaged or wrong files in its place."""
    import torch

    from transforms2d.models import create_model
    from transforms2d.train import save_checkpoint

    d = tmp_path_factory.mktemp("ckpt")
    torch.manual_seed(0)
    save_checkpoint(d / "ok.pt", create_model("convnet_xs", num_classes=2), "convnet_xs")
    good = (d / "ok.pt").read_bytes()
    (d / "truncated.pt").write_bytes(good[: len(good) // 2])
    (d / "empty.pt").write_bytes(b"")
    (d / "json.pt").write_text(json.dumps({"model": "convnet_xs"}))
    torch.save({"model": "nope", "num_classes": 2, "model_kwargs": {}, "state_dict": {}},
               d / "unknown-model.pt")
    torch.save({"model": "convnet_xs", "num_classes": 0, "model_kwargs": {},
                "state_dict": {}}, d / "zero-classes.pt")
    torch.save({"model": "convnet_xs", "num_classes": 2, "model_kwargs": {"bogus": 1},
                "state_dict": {}}, d / "bad-kwargs.pt")
    torch.save([1, 2, 3], d / "list.pt")
    (d / "loop.pt").symlink_to(d / "loop.pt")
    (d / "a-dir.pt").mkdir()
    return d


CKPTS = st.sampled_from(["ok.pt", "ok.pt", "ok.pt", "truncated.pt", "empty.pt", "json.pt",
                         "unknown-model.pt", "zero-classes.pt", "bad-kwargs.pt", "list.pt",
                         "loop.pt", "a-dir.pt", "missing.pt"])
PROBE = {**TASK, "--n-train": ints(-1, 8), "--n-val": ints(-1, 4), "--n-test": ints(-1, 4),
         "--epochs": ints(-1, 2), "--views": ints(-1, 2), "--reference": st.just(True),
         "--finetune-epochs": ints(-1, 1)}
INVARIANCE = {**TASK, "--n": ints(-1, 8),
              "--metrics": st.sampled_from(["l2", "cos,dot", "cka", "", "l3", "l2,,l2"])
              | text(4)}


def test_probe_options(sandbox, runner, checkpoints, one_thread):
    def check(case):
        ckpt, opts, where = case
        out = out_dir(sandbox, where)
        base = [*TINY_TASK, "--n-train", "8", "--n-val", "2", "--n-test", "2", "--epochs", "1",
                "--views", "1"]
        invoke(runner, sandbox, ["probe", str(checkpoints / ckpt), *base, *opts,
                                 "--out", str(out)])

    run_cases("t2d probe", 40, st.tuples(CKPTS, argv(PROBE), OUTS), check)


def test_invariance_options(sandbox, runner, checkpoints, one_thread):
    def check(case):
        ckpt, opts, where = case
        out = out_dir(sandbox, where)
        invoke(runner, sandbox, ["invariance", str(checkpoints / ckpt), *TINY_TASK, "--n", "8",
                                 *opts, "--out", str(out)])

    run_cases("t2d invariance", 40, st.tuples(CKPTS, argv(INVARIANCE), OUTS), check)


# --------------------------------------------------------------------------- run, reproduce
EXPERIMENT_NAMES = ["demo", "e1", "e2", "e3", "e4", "tvo", "ife", "it", "tm"]
RUN = {"--profile": st.sampled_from(["smoke", "quick", "paper", "cpu"]),
       "--seeds": ints(1, 2), "--executor": st.sampled_from(["local", "pool", "ray", "x"]),
       "--workers": ints(-1, 2), "--device": DEVICES,
       "--ray-address": st.sampled_from(["auto", "localhost:1", "::", "x:y", ""])}


@st.composite
def poisoned(draw, options, poisons):
    """Options with one invalid value that the command checks before running anything."""
    opts = draw(chosen(options))
    kind = draw(st.sampled_from(poisons))
    if kind == "profile":
        opts["--profile"] = draw(st.sampled_from(["huge", "", "SMOKE", "smoke "]) | text(5))
    elif kind == "seeds":
        opts["--seeds"] = draw(st.sampled_from(["0", "-1", "-99", "x", "1.5"]))
    elif kind == "workers":
        opts["--executor"] = draw(st.sampled_from(["local", "ray"]))
        opts["--workers"] = draw(st.sampled_from(["1", "2", "0"]))
    elif kind == "ray-address":
        opts["--executor"] = draw(st.sampled_from(["local", "pool"]))
        opts["--ray-address"] = draw(st.sampled_from(["auto", "localhost:6379"]))
    elif kind == "experiments":
        opts["--experiments"] = draw(st.sampled_from(["nope", ",", "e1,nope", " ", "e5"])
                                     | text(4))
    if opts.get("--executor") == "pool" and "--workers" not in opts:
        opts["--workers"] = "1"
    return kind, flat(opts)


@pytest.fixture
def nothing_runs(monkeypatch):
    """A safety net: computing a grid (``t2d run``, ``t2d reproduce``) fails the case instead."""
    import transforms2d.study.reproduce as reproduce_mod
    from transforms2d.cli import grids as grids_cli

    def refuse(*args, **kwargs):
        raise AssertionError("a grid would have been computed")

    monkeypatch.setattr(grids_cli, "run_grid", refuse)
    monkeypatch.setattr(reproduce_mod, "reproduce", refuse)


def test_run_options(sandbox, runner, nothing_runs):
    def check(case):
        experiment, (kind, opts) = case
        if kind == "experiment":
            experiment = "nope-" + experiment
        out = sandbox.case_dir() / "exp"
        outcome = invoke(runner, sandbox, ["run", experiment, *opts, "--out", str(out)])
        assert outcome in ("error", "usage"), outcome

    poisons = ["experiment", "profile", "seeds", "workers", "ray-address"]
    run_cases("t2d run", 60, st.tuples(st.sampled_from(EXPERIMENT_NAMES) | text(4),
                                       poisoned(RUN, poisons)), check)


def test_reproduce_options(sandbox, runner, nothing_runs):
    def check(case):
        kind, opts = case
        out = sandbox.case_dir() / "results"
        outcome = invoke(runner, sandbox, ["reproduce", *opts, "--out", str(out)])
        assert outcome in ("error", "usage"), outcome

    options = {**RUN, "--experiments": st.sampled_from(["e1", "demo", "e1,e2", "tvo,it"])}
    poisons = ["profile", "seeds", "workers", "ray-address", "experiments"]
    run_cases("t2d reproduce", 45, poisoned(options, poisons), check)


# --------------------------------------------------------------------------- folders
def damage(folder, kind: str, blob: str) -> None:
    """Damage a copy of an experiment folder in one of several ways."""
    runs = sorted((folder / "runs").iterdir()) if (folder / "runs").is_dir() else []
    if kind == "experiment-garbage":
        (folder / "experiment.json").write_text(blob)
    elif kind == "experiment-runs":
        rec = json.loads((folder / "experiment.json").read_text())
        rec["runs"] = json.loads(blob) if blob.startswith("[") else blob
        (folder / "experiment.json").write_text(json.dumps(rec))
    elif kind == "experiment-name":
        rec = json.loads((folder / "experiment.json").read_text())
        rec["experiment"] = blob
        (folder / "experiment.json").write_text(json.dumps(rec))
    elif kind == "no-experiment":
        (folder / "experiment.json").unlink()
    elif kind == "result" and runs:
        (runs[0] / "result.json").write_text(blob)
    elif kind == "spec" and runs:
        (runs[0] / "spec.json").write_text(blob)
    elif kind == "checkpoint" and runs:
        (runs[0] / "pretrain.pt").write_text(blob)
    elif kind == "probe" and runs:
        for p in (runs[0] / "probes").glob("*.json"):
            p.write_text(blob)
    elif kind == "error" and runs:
        (runs[0] / "error.json").write_text(blob)
    elif kind == "runs-file":
        shutil.rmtree(folder / "runs")
        (folder / "runs").write_text(blob)


FOLDER_DAMAGE = st.sampled_from(["none", "experiment-garbage", "experiment-runs",
                                 "experiment-name", "no-experiment", "result", "spec",
                                 "checkpoint", "probe", "error", "runs-file"])
BLOBS = st.sampled_from(["", "{", "null", "[]", '["nope"]', '["../x", ""]', "[1, null]",
                         '{"runs": 5}', '{"format": 2, "spec_hash": "x"}', "\u00ff"]) | text(8)


@pytest.mark.slow  # the reference folder is a real `t2d run` (a subprocess, 15-25 s)
def test_folder_commands(sandbox, runner, demo_reference):
    def check(case):
        command, where, kind, blob, quarantine = case
        base = sandbox.case_dir()
        folder = base / "exp"
        if where == "copy":
            shutil.copytree(demo_reference, folder)
            damage(folder, kind, blob)
        elif where == "file":
            folder.write_text(blob)
        elif where == "empty":
            folder.mkdir()
        args = [command, str(folder)] + (["--quarantine"] if quarantine and
                                         command == "verify" else [])
        outcome = invoke(runner, sandbox, args)
        if outcome == "failed":
            assert command == "verify", outcome
        if where == "missing":
            assert not folder.exists()
        assert not [p for p in base.rglob("*") if not p.is_relative_to(folder)], "outside"

    run_cases("t2d status/verify/report", 45, st.tuples(
        st.sampled_from(["status", "verify", "report"]),
        st.sampled_from(["copy", "copy", "copy", "missing", "file", "empty"]),
        FOLDER_DAMAGE, BLOBS, st.booleans()), check)
