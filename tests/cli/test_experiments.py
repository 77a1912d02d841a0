"""``t2d experiments``, ``t2d run``, ``t2d status`` and ``t2d report`` in-process: a rerun
reuses every stored run, a failing run is recorded while the others go on, hand-edited specs
and foreign folders are refused, bad input is one line."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from tests.helpers.engine import SMOKE, results, tiny_spec
from transforms2d.cli import app
from transforms2d.engine import EXPERIMENTS, Experiment, spec_hash
from transforms2d.engine import executors as executors_mod


def test_experiments_lists_the_registered_ones(runner):
    r = runner.invoke(app, ["experiments"])
    assert r.exit_code == 0, r.output
    for name in ("demo", "e1", "e2", "e3", "e4"):
        assert f" {name} " in r.output


@pytest.mark.slow
def test_run_end_to_end_then_rerun_is_a_no_op(demo_reference, tmp_path, runner):
    reference = demo_reference
    assert len(results(reference)) == 2
    res = json.loads(next(iter(results(reference).values())))
    assert set(res["probes"]) == {"target", "plain"} and "l2" in res["invariance"]["target"]
    assert not list(reference.rglob("*.tmp"))
    out = tmp_path / "copy"
    shutil.copytree(reference, out)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.suffix in (".pt", ".json")
              and p.name != "experiment.json"}
    r = runner.invoke(app, ["run", "demo", *SMOKE, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "0 computed, 2 reused" in r.output
    assert stamps == {p: p.stat().st_mtime_ns for p in stamps}

    r = runner.invoke(app, ["status", str(out)])
    assert r.exit_code == 0 and "2 runs: 2 done, 0 running, 0 failed, 0 pending" in r.output
    for p in ("report.md", "claims.json", "tables", "figures"):
        shutil.rmtree(out / p) if (out / p).is_dir() else (out / p).unlink()
    r = runner.invoke(app, ["report", str(out)])
    assert r.exit_code == 0, r.output
    report = (out / "report.md").read_text()
    assert "| same | probe target test_acc | 1 |" in report
    assert "| D1 |" in report and "**not run** (needs >= 3 seeds, got 1)" in report
    assert "![probe_accuracy](figures/probe_accuracy.png)" in report
    assert (out / "figures/probe_accuracy.png").read_bytes()[:4] == b"\x89PNG"
    assert pd.read_parquet(out / "tables/probe_accuracy.parquet").shape == (6, 6)
    assert json.loads((out / "claims.json").read_text())["claims"][0]["verdict"] == "not run"


def test_failed_run_is_recorded_the_rest_go_on_and_rerun_retries_it(tmp_path, monkeypatch,
                                                                      runner):
    good, bad = tiny_spec(), tiny_spec(model="no_such_model")
    monkeypatch.setitem(EXPERIMENTS, "broken", Experiment(
        "broken", lambda profile, seeds: [bad, good], lambda recs, profile: {"markdown": "ok\n"}))
    calls = []
    real = executors_mod.execute
    monkeypatch.setattr(executors_mod, "execute",
                        lambda spec, *a, **k: calls.append(spec_hash(spec)) or real(spec, *a, **k))
    out = tmp_path / "broken"
    r = runner.invoke(app, ["run", "broken", *SMOKE, "--out", str(out)])
    assert r.exit_code == 1, r.output
    hb, hg = spec_hash(bad), spec_hash(good)
    assert f"failed {hb}: Unknown model 'no_such_model'" in r.output
    err = json.loads((out / "runs" / hb / "error.json").read_text())
    assert "Traceback" in err["traceback"] and err["type"] == "ConfigError"
    assert (out / "runs" / hg / "result.json").exists()

    r = runner.invoke(app, ["status", str(out)])
    assert "1 done, 0 running, 1 failed, 0 pending" in r.output and f"failed {hb}" in r.output
    r = runner.invoke(app, ["run", "broken", *SMOKE, "--out", str(out)])
    assert r.exit_code == 1 and calls == [hb, hg, hb]  # only the failed run was retried


@pytest.mark.parametrize("args,message", [
    (["run", "dem", *SMOKE], "Unknown experiment 'dem'; did you mean 'demo'? Valid: "),
    (["run", "demo", "--profile", "fast"], "Unknown profile 'fast'"),
    (["run", "demo", "--profile", "smoke", "--seeds", "0"], "'seeds' parameter of demo"),
    (["run", "demo", *SMOKE, "--executor", "slurm"], "Unknown executor 'slurm'"),
    (["status", "nowhere"], "holds no experiment"),
    (["report", "nowhere"], "holds no experiment"),
])
def test_bad_input_is_one_line(args, message, tmp_path, runner):
    if args[0] == "run":
        args = [*args, "--out", str(tmp_path / "x")]
    else:
        args = [args[0], str(tmp_path / args[1])]
    r = runner.invoke(app, args)
    assert r.exit_code == 2 and message in r.output, r.output
    assert r.output.strip().count("\n") <= 2  # one message (Rich may wrap it)


def test_folder_of_another_experiment_is_refused(tmp_path, runner):
    (tmp_path / "experiment.json").write_text(json.dumps({"experiment": "other", "runs": []}))
    r = runner.invoke(app, ["run", "demo", *SMOKE, "--out", str(tmp_path)])
    assert r.exit_code == 2 and "holds runs of experiment 'other'" in r.output
    assert json.loads((tmp_path / "experiment.json").read_text())["experiment"] == "other"


@pytest.mark.slow
def test_hand_edited_spec_is_refused_and_nothing_is_lost(demo_reference, tmp_path, runner):
    reference = demo_reference
    out = tmp_path / "edited"
    shutil.copytree(reference, out)
    h = sorted(results(out))[0]
    path = out / "runs" / h / "spec.json"
    spec = json.loads(path.read_text())
    spec["train"]["epochs"] = "ten"
    path.write_text(json.dumps(spec))
    for args in (["run", "demo", *SMOKE, "--out", str(out)], ["report", str(out)]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and "spec.json is invalid" in r.output and "epochs" in r.output
    spec["train"]["epochs"] = 3  # valid, but no longer the run its folder is named after
    path.write_text(json.dumps(spec))
    r = runner.invoke(app, ["run", "demo", *SMOKE, "--out", str(out)])
    assert r.exit_code == 2 and "was edited" in r.output
    assert results(out) == results(reference)


def test_a_seed_offset_runs_fresh_seeds_and_records_them(tmp_path, runner, one_thread):
    out = tmp_path / "fresh"
    r = runner.invoke(app, ["run", "demo", "--profile", "smoke", "--seeds", "2",
                            "--seed-offset", "5", "--out", str(out)])
    assert r.exit_code == 0, r.output
    rec = json.loads((out / "experiment.json").read_text())
    assert (rec["seeds"], rec["seed_list"]) == (2, [5, 6])
    seeds = {json.loads((out / "runs" / h / "spec.json").read_text())["seed"]
             for h in rec["runs"]}
    assert seeds == {5, 6}
    assert "2 seed(s)" in r.output and (out / "report.md").exists()
    bad = runner.invoke(app, ["run", "demo", *SMOKE, "--seed-offset", "-1", "--out",
                              str(tmp_path / "bad")])
    assert bad.exit_code != 0 and "seed-offset" in bad.output


@pytest.mark.parametrize("args", [["run", "demo", "--seeds", "1.0"],
                                  ["reproduce", "--seeds", "2.5"],
                                  ["plan", "demo", "--seed-offset", "1e3"],
                                  ["profile", "convnet_xs", "--pairs", "10.0"]])
def test_integer_options_refuse_non_integers(args, runner):
    res = runner.invoke(app, [*args])
    assert res.exit_code == 2 and "is not a whole number" in res.output, res.output


def test_every_integer_option_parses_strictly():
    """Typer alone reads `--seeds 1.0` as 1: each int option goes through cli.app.int_option."""
    from pathlib import Path

    import transforms2d.cli as cli

    for path in Path(cli.__file__).parent.glob("*.py"):
        for line in path.read_text().splitlines():
            assert not ("Annotated[int" in line and "typer.Option(" in line), (path.name, line)
