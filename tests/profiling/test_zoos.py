"""``t2d profile timm:<name>`` and ``torchvision:<name>`` for real: four timm families and a
torchvision ResNet profiled end to end at 32 px through the CLI (random initialisation: no hub
is reachable), a local ``--weights`` file proven loaded, and the one-line errors (unknown
names, a zoo that does not import, a failed download with the network refused)."""

from __future__ import annotations

import json
import math
import os

import pytest
import timm  # make install provides both (the [timm] extra): missing, these tests must fail
import torch
import torchvision

import transforms2d as t2d
from tests.helpers.engine import t2d as t2d_process
from transforms2d.cli import app
from transforms2d.profiling import load_model
from transforms2d.profiling.zoos import IMAGENET, torchvision_input

pytestmark = pytest.mark.usefixtures("one_thread")
PAIRS = ["--domain", "objects", "--transforms", "hue,rotate", "--pairs", "200",
         "--image-size", "32", "--metrics", "l2,cka", "--resamples", "50",
         "--batch-size", "100"]


def profile_cli(runner, model: str, out, *extra: str) -> dict:
    """``t2d profile MODEL`` at 32 px on 200 pairs; returns profile.json (exit 0 checked)."""
    res = runner.invoke(app, ["profile", model, *PAIRS, *extra, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "profile.parquet").is_file() and (out / "figures" / "bars.png").is_file()
    return json.loads((out / "profile.json").read_text())


def check_rows(data: dict) -> None:
    """Every (transform, metric) of PAIRS has one finite row with an ordered interval."""
    rows = [r for r in data["rows"] if not r["untrained"]]
    assert sorted((r["transform"], r["metric"]) for r in rows) == \
        [("hue", "cka"), ("hue", "l2"), ("rotate", "cka"), ("rotate", "l2")]
    for r in rows:
        assert math.isfinite(r["value"]) and r["ci_low"] <= r["ci_high"], r
        if r["metric"] == "cka":
            assert -1e-6 <= r["value"] <= 1 + 1e-6, r


@pytest.mark.parametrize("name", ["resnet18", "convnext_atto", "efficientnet_b0",
                                  "vit_tiny_patch16_224"])
def test_timm_models_profile_end_to_end_at_32_px(name, runner, tmp_path):
    data = profile_cli(runner, f"timm:{name}", tmp_path / "out")
    check_rows(data)
    (m,) = data["models"]
    cfg = timm.get_pretrained_cfg(name)
    assert (m["kind"], m["input_size"]) == ("timm", 32)
    assert m["mean"] == pytest.approx(cfg.mean) and m["std"] == pytest.approx(cfg.std)
    net = timm.create_model(name, img_size=32) if cfg.fixed_input_size else \
        timm.create_model(name)
    assert f"({net.num_features} dims)" in m["representation"]  # the pooled embedding
    assert "random init" in m["note"] and "pretrained_cfg" in m["note"]
    assert m["reference"].startswith("none (the model is random-initialised")


def test_a_vit_is_built_at_the_asked_size_and_at_its_cfg_size_otherwise():
    vit = load_model("timm:vit_tiny_patch16_224", image_size=32)
    assert tuple(vit.module.patch_embed.img_size) == (32, 32) and vit.input_size == 32
    assert vit.module(torch.zeros(2, 3, 32, 32)).shape == (2, 1000)
    full = load_model("timm:vit_tiny_patch16_224")
    assert full.input_size == timm.get_pretrained_cfg("vit_tiny_patch16_224").input_size[-1]
    assert tuple(full.module.patch_embed.img_size) == (full.input_size, full.input_size)


def test_torchvision_resnet18_profiles_end_to_end(runner, tmp_path):
    data = profile_cli(runner, "torchvision:resnet18", tmp_path / "out")
    check_rows(data)
    (m,) = data["models"]
    default = torchvision.models.get_model_weights("resnet18").DEFAULT
    meta = default.transforms()
    assert (m["kind"], m["input_size"]) == ("torchvision", 32)
    assert m["mean"] == pytest.approx(meta.mean) and m["std"] == pytest.approx(meta.std)
    assert str(default) in m["note"] and "random init" in m["note"]
    assert "(512 dims)" in m["representation"]  # resnet18's fc takes 512 features
    assert load_model("torchvision:resnet18").input_size == meta.crop_size[0]


def test_torchvision_input_falls_back_to_imagenet_defaults():
    # A detection model's weights carry no crop size nor mean/std in their transforms.
    got, where = torchvision_input(torchvision.models, "fasterrcnn_mobilenet_v3_large_fpn")
    assert got == IMAGENET and where.startswith("ImageNet defaults")
    meta = torchvision.models.get_model_weights("vit_b_16").DEFAULT.transforms()
    got, where = torchvision_input(torchvision.models, "vit_b_16")
    assert got == (meta.crop_size[0], tuple(meta.mean), tuple(meta.std))
    assert "ViT_B_16_Weights" in where


def altered_state(model: str, path) -> dict:
    """A state dict unlike the adapter's random init (seed 0): another seed, and the last
    batch norm of each block (zero-initialised by timm) and the classifier set to known
    values. Saved to ``path``."""
    torch.manual_seed(7)
    zoo, name = model.split(":")
    net = timm.create_model(name) if zoo == "timm" else torchvision.models.get_model(name)
    with torch.no_grad():
        for key, p in net.named_parameters():
            if key.endswith(("bn2.weight", "bn3.weight")):
                p.fill_(0.75)
        net.fc.weight.fill_(0.01)
    state = net.state_dict()
    torch.save(state, path)
    return state


@pytest.mark.parametrize("model", ["timm:resnet18", "torchvision:resnet18"])
def test_a_weights_file_is_loaded_tensor_for_tensor(model, tmp_path):
    state = altered_state(model, tmp_path / "w.pt")
    got = load_model(model, weights=tmp_path / "w.pt")
    assert got.module.state_dict().keys() == state.keys()
    for key, value in got.module.state_dict().items():
        assert torch.equal(value, state[key]), key
    plain = load_model(model).module.state_dict()
    assert not all(torch.equal(plain[k], state[k]) for k in state)  # the file changed them
    assert f"state dict {tmp_path / 'w.pt'}" in got.note
    assert got.reference is not None  # a loaded model is compared with its untrained twin


def test_the_cli_profiles_the_weights_it_was_given(runner, tmp_path):
    altered_state("timm:resnet18", tmp_path / "w.pt")
    data = profile_cli(runner, "timm:resnet18", tmp_path / "out", "--weights",
                       str(tmp_path / "w.pt"))
    loaded = load_model("timm:resnet18", weights=tmp_path / "w.pt")
    mine = t2d.profile({"timm:resnet18": loaded.module}, transforms="hue,rotate",
                       domains="objects", pairs=200, image_size=32, metrics=["l2", "cka"],
                       resamples=50, batch_size=100, mean=loaded.mean, std=loaded.std,
                       reference=False)
    want = {(r["transform"], r["metric"]): r["value"] for r in mine.rows}
    got = {(r["transform"], r["metric"]): r["value"] for r in data["rows"] if not r["untrained"]}
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == pytest.approx(want[k], rel=1e-5, abs=1e-7), k
    untrained = {(r["transform"], r["metric"]): r["value"] for r in data["rows"]
                 if r["untrained"]}
    assert untrained.keys() == want.keys() and untrained != got  # timm's init, measured apart


@pytest.mark.parametrize("args, message", [
    (["timm:resnet_18x"], "timm has no model 'resnet_18x' (close names: "),
    (["torchvision:resnet_18"], "torchvision has no model 'resnet_18' (close names: "),
    (["timm:resnet18", "--pretrained", "--weights", "w.pt"], "both give the weights"),
    (["torch.nn:Identity", "--pretrained"], "--pretrained is for timm: and torchvision:"),
    (["torchvision:resnet18", "--pretrained"],
     "Cannot fetch torchvision's pretrained weights of 'resnet18' (URLError"),
    (["torchvision:resnet18", "--pretrained"], "pass --weights FILE, or leave out --pretrained"),
    (["timm:resnet18", "--weights", "{missing}"], "Cannot read --weights"),
    (["timm:resnet18", "--weights", "{tv_state}"], "do not fit timm 'resnet18'"),
])
def test_zoo_errors_are_one_line(args, message, runner, tmp_path, monkeypatch):
    # The network is refused (a closed local port as proxy) and the caches are empty.
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    for var in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    if "{tv_state}" in args:  # another architecture's state dict
        torch.save(torchvision.models.get_model("squeezenet1_1").state_dict(), tmp_path / "tv.pt")
    fill = dict(missing=tmp_path / "none.pt", tv_state=tmp_path / "tv.pt")
    out = tmp_path / "out"
    res = runner.invoke(app, ["profile", *[a.format(**fill) for a in args], "--pairs", "10",
                              "--out", str(out)])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "Error:" in text and "Traceback" not in text and message in text, text
    assert not out.exists()


def test_a_failed_timm_download_names_the_fix(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
           "TORCH_HOME": str(tmp_path / "torch"), "https_proxy": "http://127.0.0.1:9"}
    res = t2d_process("profile", "timm:resnet18", "--pretrained", "--pairs", "10", "--out",
                      str(tmp_path / "out"), env=env, timeout=120)
    assert res.returncode == 2, res.stderr
    text = " ".join(res.stderr.split())
    assert text.startswith("Error: Cannot fetch timm's pretrained weights of 'resnet18'"), text
    assert "--weights FILE" in text and "leave out --pretrained" in text
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("zoo, model", [("timm", "timm:resnet18"),
                                        ("torchvision", "torchvision:resnet18")])
def test_a_zoo_that_does_not_import_names_the_extra(zoo, model, tmp_path):
    # A package of that name first on the path whose import fails as torchvision's does
    # beside the wrong torch build.
    (tmp_path / "shadow" / zoo).mkdir(parents=True)
    (tmp_path / "shadow" / zoo / "__init__.py").write_text(
        "raise RuntimeError('operator torchvision::nms does not exist')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "shadow")}
    res = t2d_process("profile", model, "--pairs", "10", "--out", str(tmp_path / "out"),
                      env=env, timeout=120)
    assert res.returncode == 2, res.stderr
    text = " ".join(res.stderr.split())
    assert f"{zoo} is not installed or does not import (RuntimeError: operator" in text, text
    assert f"pip install 'transforms2d[{zoo}]'" in text and "Traceback" not in text
