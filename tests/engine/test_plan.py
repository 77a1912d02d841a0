"""``t2d plan``: sample-steps read from the run specs, wall time at a measured, cached
throughput."""

from __future__ import annotations

import json

import pytest

from transforms2d.cli import app
from transforms2d.engine.plan import costs, seconds, throughputs
from transforms2d.study import get_experiment

pytestmark = pytest.mark.usefixtures("one_thread")


def test_sample_steps_are_read_from_the_specs():
    specs = get_experiment("demo").specs("smoke", 2)
    c = costs(specs)
    assert c.runs == len(specs)
    want = sum(s.source["n"] * s.train["epochs"] for s in specs)
    assert c.total("pretrain") == want
    probes = sum(p.train["n"] * p.probe["views"] + p.test["n"] for s in specs for p in s.probes)
    assert c.total("probe") == probes
    assert c.total("invariance") == sum(2 * t.data["n"] for s in specs for t in s.invariance)
    speed = {k: {"train": 1000.0, "infer": 4000.0} for st in c.samples.values() for k in st}
    sec = seconds(c, speed)
    assert sec["pretrain"] == pytest.approx(want / 1000.0)
    assert sec["probe"] == pytest.approx(probes / 4000.0)


def test_throughput_is_measured_once_then_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("T2D_CACHE", str(tmp_path))
    key = ("convnet_xs", 16, "{}")
    calls = []
    first = throughputs([key], "cpu", on_measure=calls.append)
    again = throughputs([key], "cpu", on_measure=calls.append)
    assert calls == [key] and first == again
    assert first[key]["train"] > 0 and first[key]["infer"] > first[key]["train"]
    cache = json.loads((tmp_path / "calibration.json").read_text())
    assert len(cache) == 1 and "convnet_xs|16|{}" in next(iter(cache.values()))


def test_t2d_plan_prints_the_estimate(tmp_path, monkeypatch, runner):
    monkeypatch.setenv("T2D_CACHE", str(tmp_path))
    res = runner.invoke(app, ["plan", "demo,e4", "--profile", "smoke"])
    assert res.exit_code == 0, res.output
    assert "measuring convnet_xs at 16 px" in res.output
    assert "demo" in res.output and "e4" in res.output and "samples/s" in res.output
    bad = runner.invoke(app, ["plan", "e9", "--profile", "smoke"])
    assert bad.exit_code == 2 and "Unknown experiment 'e9'" in bad.output
    bad = runner.invoke(app, ["plan", "e4", "--profile", "huge"])
    assert bad.exit_code == 2 and "huge" in bad.output


def test_a_plan_for_a_device_measured_elsewhere(tmp_path, monkeypatch, runner):
    """``--calibration`` reads another machine's measured throughputs (here a GPU's, written as
    that machine would): no CUDA is needed here, nothing is measured, missing architectures
    and devices are one-line errors."""
    monkeypatch.setenv("T2D_CACHE", str(tmp_path / "cache"))
    speeds = {"convnet_xs|16|{}": {"train": 40000.0, "infer": 120000.0}}
    calib = tmp_path / "calibration.json"
    calib.write_text(json.dumps({"gpuhost|x86_64|16|NVIDIA H100|torch 2.13|1 threads|cuda":
                                 speeds}))
    res = runner.invoke(app, ["plan", "e4", "--profile", "smoke", "--device", "cuda",
                              "--calibration", str(calib)])
    assert res.exit_code == 0, res.output
    assert "measuring" not in res.output and "40000 training samples/s" in res.output
    assert "measured on gpuhost" in res.output
    assert not (tmp_path / "cache" / "calibration.json").exists()
    other = runner.invoke(app, ["plan", "e4", "--profile", "smoke", "--device", "cpu",
                                "--calibration", str(calib)])
    assert other.exit_code == 2 and "no throughput measured on 'cpu'" in other.output
    calib.write_text(json.dumps({"gpuhost|x|1||torch|1 threads|cuda": {}}))
    short = runner.invoke(app, ["plan", "e4", "--profile", "smoke", "--device", "cuda",
                                "--calibration", str(calib)])
    assert short.exit_code == 2 and "lacks throughputs for convnet_xs|16|{}" in short.output


def test_a_plan_beside_the_time_a_reproduction_took(tmp_path, monkeypatch, runner):
    """With ``--out`` of a reproduce folder, the whole grid's estimate stands beside the time
    its ``reproduce.json`` recorded (here, written as a finished reproduction writes it)."""
    monkeypatch.setenv("T2D_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "results"
    out.mkdir()
    (out / "reproduce.json").write_text(json.dumps(
        {"experiments": {"e4": {"wall_s": 750.0, "runs_done": 3, "runs_total": 3}}}))
    res = runner.invoke(app, ["plan", "e4", "--profile", "smoke", "--out", str(out)])
    assert res.exit_code == 0, res.output
    row = next(ln for ln in res.output.splitlines() if ln.startswith("│ e4"))
    assert row.rstrip(" │").endswith("12.5")  # "min" may wrap at the test's terminal width
    assert "measured time is on the workers" in res.output.replace("\n", " ")
    plain = runner.invoke(app, ["plan", "e4", "--profile", "smoke"])
    assert plain.exit_code == 0 and "12.5" not in plain.output and "workers" not in plain.output
