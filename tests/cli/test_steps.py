"""``t2d train``, ``t2d probe``, ``t2d invariance``: real runs at tiny size, and bad input."""

from __future__ import annotations

import json

import pytest
import torch

from transforms2d.cli import app

DATA = ["--image-size", "16", "--objects", "4"]


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory, runner):
    out = tmp_path_factory.mktemp("pre")
    res = runner.invoke(app, ["train", "--model", "convnet_xs", "--transforms", "rotate",
                              "--n-train", "256", "--n-val", "64", "--n-test", "64",
                              "--epochs", "2", "--batch-size", "64", "--out", str(out), *DATA])
    assert res.exit_code == 0, res.output
    return out


def test_train_writes_checkpoints_and_result(pretrained):
    result = json.loads((pretrained / "result.json").read_text())
    assert len(result["history"]) == 2 and result["model"] == "convnet_xs"
    assert {"train_acc", "val_acc", "test_acc"} <= set(result["final"])
    assert result["config"]["schedule"] == "constant"
    assert (pretrained / "last.pt").exists() and (pretrained / "best.pt").exists()


def test_probe_with_finetuning(pretrained, tmp_path, runner):
    res = runner.invoke(app, ["probe", str(pretrained / "last.pt"), "--objects", "5,6,7",
                              "--transforms", "rotate", "--n-train", "96", "--n-val", "48",
                              "--n-test", "48", "--epochs", "5", "--finetune-epochs", "1",
                              "--image-size", "16", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    result = json.loads((tmp_path / "probe.json").read_text())
    assert 0.0 <= result["probe"]["test_acc"] <= 1.0 and result["method"] == "cached"
    assert result["finetune"]["config"]["schedule"] == "linear_decay"
    assert result["data"]["objects"] == [5, 6, 7]


def test_invariance_writes_metrics(pretrained, tmp_path, runner):
    res = runner.invoke(app, ["invariance", str(pretrained / "last.pt"), "--transforms", "hue",
                              "--n", "64", "--metrics", "l2,cka", "--out", str(tmp_path), *DATA])
    assert res.exit_code == 0, res.output
    values = json.loads((tmp_path / "invariance.json").read_text())["metrics"]
    assert set(values) == {"l2", "cka"} and values["l2"] > 0


@pytest.mark.parametrize("args,message", [
    (["train", "--model", "resnet19"], "Unknown model 'resnet19'"),
    (["train", "--objects", "500"], "has 72 objects"),
    (["train", "--transforms", "rotat"], "did you mean 'rotate'"),
    (["probe", "missing.pt"], "does not exist"),
    (["invariance", "missing.pt"], "does not exist"),
    (["probe", "BAD"], "not a readable"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, message, runner):
    if "BAD" in args:
        bad = tmp_path / "bad.pt"
        bad.write_bytes(b"garbage")
        args = [str(bad) if a == "BAD" else a for a in args]
    out = tmp_path / "out"
    res = runner.invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.output.split())
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_gpu(tmp_path, runner):
    res = runner.invoke(app, ["train", "--device", "cuda", "--out", str(tmp_path / "o"), *DATA])
    assert res.exit_code == 2 and "no CUDA GPU" in res.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args,weight_decay", [([], 5e-5), (["--weight-decay", "0"], 0.0)])
def test_train_vit_keeps_the_recipe_weight_decay_unless_given(tmp_path, runner, one_thread, args,
                                                              weight_decay):
    """Known defect: the option's default (0.0) used to override the ViT recipe's 5e-5; the
    option now defaults to None (the recipe), and an explicit value still wins."""
    out = tmp_path / "vit"
    res = runner.invoke(app, ["train", "--model", "vit_s", "--objects", "2", "--n-train", "16",
                              "--n-val", "0", "--n-test", "0", "--epochs", "1",
                              "--batch-size", "16", "--image-size", "32", "--out", str(out),
                              *args])
    assert res.exit_code == 0, res.output
    config = json.loads((out / "result.json").read_text())["config"]
    assert config["weight_decay"] == weight_decay
    assert config["schedule"] == "warmup_cosine"  # the rest of the ViT recipe is kept


def test_a_vit_trains_at_the_data_size_and_its_checkpoint_rebuilds_at_it(tmp_path, runner,
                                                                         one_thread):
    """Known defect: ``t2d train`` built every model for 32 px, so a ViT (whose position
    embeddings fix its input side) failed on 16-px data. The data's size now reaches the model
    and its checkpoint, so probing and measuring the checkpoint at 16 px work too."""
    out = tmp_path / "vit"
    res = runner.invoke(app, ["train", "--model", "vit_s", "--n-train", "32", "--n-val", "16",
                              "--n-test", "0", "--epochs", "1", "--batch-size", "16",
                              "--out", str(out), *DATA])
    assert res.exit_code == 0, res.output
    assert torch.load(out / "last.pt", weights_only=False)["model_kwargs"]["image_size"] == 16
    res = runner.invoke(app, ["probe", str(out / "last.pt"), "--objects", "4", "--n-train",
                              "32", "--n-val", "16", "--n-test", "16", "--epochs", "2",
                              "--image-size", "16", "--out", str(tmp_path / "probe")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["invariance", str(out / "last.pt"), "--transforms", "hue",
                              "--n", "16", "--out", str(tmp_path / "inv"), *DATA])
    assert res.exit_code == 0, res.output
