"""The ``t2d`` command: preview, transforms and assets, through the real console script."""

from __future__ import annotations

import subprocess
import sys

from PIL import Image

from transforms2d.cli import app


def test_preview_writes_a_figure_1_grid(tmp_path, runner):
    out = tmp_path / "fig1.png"
    res = runner.invoke(app, ["preview", "--transforms", "rotate,hue,blur,translate",
                              "--per-row", "8", "--out", str(out)])
    assert res.exit_code == 0, res.output
    img = Image.open(out)
    assert img.height == 4 * (128 + 2)  # 4 rows of 64 px upscaled ×2, 2 px gaps
    assert img.width > 8 * 128
    assert len(set(img.convert("L").tobytes())) > 50  # real pictures, not a blank canvas


def test_preview_bad_transform_writes_nothing(tmp_path, runner):
    out = tmp_path / "fig.png"
    res = runner.invoke(app, ["preview", "--transforms", "rotate,blurr", "--out", str(out)])
    assert res.exit_code == 2
    assert "did you mean 'blur'" in res.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_transforms_lists_all_18(runner):
    res = runner.invoke(app, ["transforms"])
    assert res.exit_code == 0
    for name in ("scale", "elastic", "contrast", "posterize"):
        assert name in res.output


def test_assets_lists_packs_and_builtin_contents(runner):
    res = runner.invoke(app, ["assets"])
    assert res.exit_code == 0 and "builtin" in res.output and "folder" in res.output
    res = runner.invoke(app, ["assets", "builtin"])
    assert res.exit_code == 0 and "sky" in res.output


def test_console_script_runs():
    res = subprocess.run([sys.executable, "-m", "transforms2d", "transforms"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "rotate" in res.stdout


def test_assets_shows_a_background_pack_per_split(runner, cifar_root, empty_cifar):
    """`t2d assets` lists cifar10 among the background packs, so `t2d assets cifar10` shows it
    (its images differ by split) rather than calling it an unknown pack."""
    res = runner.invoke(app, ["assets", f"cifar10:{cifar_root}"])
    assert res.exit_code == 0, res.output
    for split, n in (("train", 180), ("val", 20), ("test", 100)):  # tests/conftest.py cifar_root
        assert f"cifar10:{cifar_root} ({split}): {n} backgrounds" in " ".join(res.output.split())
    res = runner.invoke(app, ["assets", "cifar10"])  # no CIFAR on this machine: where to put it
    assert res.exit_code == 2 and "CIFAR-10 not found" in res.output
    assert "Unknown" not in res.output
