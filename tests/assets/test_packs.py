"""Asset packs: builtin (shipped), folder, random, hub (offline, from a local dataset), registry.

Real files in tmp_path throughout; the hub test builds a small dataset with the authors' schema
and saves it with ``save_to_disk``, so it runs without network.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from importlib import resources

import numpy as np
import pytest
import torch
from PIL import Image

from tests.helpers import one_line
from transforms2d.assets import (
    ASSET_PACKS,
    BACKGROUND_PACKS,
    AssetPack,
    BackgroundPackInfo,
    list_asset_packs,
    load_assets,
    load_background_pack,
    load_builtin,
    load_folder,
    load_hub,
    load_random,
    register_background_pack,
)
from transforms2d.assets.random import random_object
from transforms2d.errors import ConfigError

FAMILIES = {"sky", "sea", "forest", "desert", "snow", "meadow", "rock", "night"}
CATEGORIES = {"food", "household", "vehicle", "animal", "plant", "tool"}


# --------------------------------------------------------------------------- builtin
@pytest.fixture(scope="module")
def builtin() -> AssetPack:
    return load_builtin()


def test_builtin_objects(builtin):
    assert builtin.num_objects >= 61
    names = builtin.object_names
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", n) for n in names), names
    for name, o in zip(names, builtin.objects, strict=True):
        assert o.dtype == torch.uint8 and o.shape == (4, 64, 64), name
        alpha = o[3]
        assert (alpha == 0).any() and (alpha == 255).any(), name
        assert (o[:3][:, alpha == 0] == 0).all(), name  # canonical RGB under full transparency
    digests = {hashlib.sha256(o.numpy().tobytes()).hexdigest() for o in builtin.objects}
    assert len(digests) == builtin.num_objects


def test_builtin_object_metadata_interleaves_categories():
    meta = json.loads(resources.files("transforms2d.assets").joinpath(
        "builtin_data", "objects.json").read_text())
    assert {m["category"] for m in meta} == CATEGORIES
    assert len({m["category"] for m in meta[:6]}) == 6  # any prefix of the pack is varied
    assert all(re.fullmatch(r"U\+[0-9A-F]{4,5}", m["codepoint"]) for m in meta)


def test_builtin_backgrounds(builtin):
    assert builtin.num_backgrounds >= 867
    assert set(builtin.families) == FAMILIES
    assert set(builtin.background_families[:8]) == FAMILIES  # interleaved
    for b in builtin.backgrounds:
        assert b.dtype == torch.uint8 and b.shape == (3, 64, 64)
    digests = {hashlib.sha256(b.numpy().tobytes()).hexdigest() for b in builtin.backgrounds}
    assert len(digests) == builtin.num_backgrounds
    # families are told apart by colour alone, and images vary inside a family
    imgs = torch.stack(builtin.backgrounds).float()
    fams = np.asarray(builtin.background_families)
    means = {f: imgs[torch.from_numpy(fams == f)].mean(dim=(0, 2, 3)) for f in FAMILIES}
    for f in FAMILIES:
        for g in FAMILIES - {f}:
            assert (means[f] - means[g]).norm() > 20, (f, g)
        per_image = imgs[torch.from_numpy(fams == f)].mean(dim=(2, 3))
        assert per_image.std(dim=0).mean() > 5, f
    night = imgs[torch.from_numpy(fams == "night")].mean()
    snow = imgs[torch.from_numpy(fams == "snow")].mean()
    assert night < 60 < 150 < snow


def test_builtin_resized_and_cached(builtin):
    objs = builtin.objects_at(32)
    assert objs.shape == (builtin.num_objects, 4, 32, 32) and objs.dtype == torch.uint8
    bgs = builtin.backgrounds_at(32)
    assert bgs.shape == (builtin.num_backgrounds, 3, 32, 32) and bgs.dtype == torch.uint8
    assert load_builtin() is builtin
    assert load_assets("builtin") is builtin
    listed = ASSET_PACKS["builtin"].description  # static text: keep it in step with the data
    assert f"{builtin.num_objects} emoji objects" in listed
    assert f"{builtin.num_backgrounds} procedural" in listed


def test_builtin_shipped_size_and_licence(builtin):
    data = resources.files("transforms2d.assets").joinpath("builtin_data")
    files = {p.name: p for p in data.iterdir() if p.is_file()}
    assert {"objects.png", "objects.json", "backgrounds.png", "backgrounds.json",
            "LICENSE-ASSETS.md"} <= set(files)
    total = sum(len(p.read_bytes()) for p in files.values())
    assert total <= 10 * 1024 * 1024, total
    lic = files["LICENSE-ASSETS.md"].read_text()
    assert builtin.license == lic
    words = " ".join(lic.split())
    assert "SIL Open Font License" in words and "MIT License" in words


# --------------------------------------------------------------------------- folder
def save_rgba(path, color, size=(20, 12), mode="RGBA"):
    img = np.zeros((size[1], size[0], 4), dtype=np.uint8)
    img[2:-2, 2:-2] = color
    img[2:-2, 2:-2, 3] = 255
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img, "RGBA").convert(mode).save(path)


def save_rgb(path, color, size=(30, 20)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)


@pytest.fixture
def user_folder(tmp_path):
    root = tmp_path / "assets"
    save_rgba(root / "objects" / "b_cup.png", (200, 10, 10, 255))
    save_rgba(root / "objects" / "a_ball.png", (10, 200, 10, 255))
    save_rgba(root / "objects" / "c_leaf.webp", (10, 10, 200, 255))
    (root / "objects" / "README.txt").write_text("ignored")
    (root / "objects" / ".hidden.png").write_bytes(b"ignored")
    save_rgb(root / "backgrounds" / "plain.jpg", (100, 150, 200))
    save_rgb(root / "backgrounds" / "beach" / "b2.png", (250, 220, 150), size=(40, 25))
    save_rgb(root / "backgrounds" / "beach" / "b1.webp", (240, 210, 140))
    save_rgb(root / "backgrounds" / "alps" / "x.jpeg", (240, 240, 250))
    return root


def test_folder_happy_path(user_folder):
    pack = load_folder(user_folder)
    assert pack.object_names == ("a_ball", "b_cup", "c_leaf")
    assert [tuple(o.shape) for o in pack.objects] == [(4, 12, 20)] * 3
    assert pack.objects[1][:, 6, 10].tolist() == [200, 10, 10, 255]
    assert pack.objects[1][3, 0, 0] == 0
    assert pack.background_families == ("default", "alps", "beach", "beach")
    assert tuple(pack.backgrounds[3].shape) == (3, 25, 40)
    assert all(b.dtype == torch.uint8 and b.shape[0] == 3 for b in pack.backgrounds)
    assert pack.backgrounds_at(16).shape == (4, 3, 16, 16)
    via_registry = load_assets(f"folder:{user_folder}")
    assert via_registry.object_names == pack.object_names


def test_folder_palette_png_with_transparency_and_no_backgrounds(tmp_path):
    save_rgba(tmp_path / "objects" / "p.png", (255, 0, 0, 255), mode="P")
    pack = load_folder(tmp_path)
    assert pack.num_objects == 1 and pack.objects[0][3, 0, 0] == 0
    assert pack.backgrounds == [] and pack.background_families == ()


def test_folder_errors(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_folder(tmp_path / "nope")
    one_line(e, "nope", "objects/")

    with pytest.raises(ConfigError) as e:
        load_folder(tmp_path)
    one_line(e, str(tmp_path), "objects/")

    (tmp_path / "objects").mkdir()
    (tmp_path / "objects" / "notes.txt").write_text("x")
    with pytest.raises(ConfigError) as e:
        load_folder(tmp_path)
    one_line(e, str(tmp_path / "objects"), "RGBA PNG")

    save_rgb(tmp_path / "objects" / "flat.png", (1, 2, 3))
    with pytest.raises(ConfigError) as e:
        load_folder(tmp_path)
    one_line(e, "flat.png", "alpha")

    (tmp_path / "objects" / "flat.png").unlink()
    (tmp_path / "objects" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    with pytest.raises(ConfigError) as e:
        load_folder(tmp_path)
    one_line(e, "broken.png", "Cannot read")

    (tmp_path / "objects" / "broken.png").unlink()
    save_rgba(tmp_path / "objects" / "ok.png", (5, 5, 5, 255))
    save_rgba(tmp_path / "objects" / "ok.webp", (5, 5, 5, 255))
    with pytest.raises(ConfigError) as e:
        load_folder(tmp_path)
    one_line(e, "'ok'", "rename")

    (tmp_path / "objects" / "ok.webp").unlink()
    (tmp_path / "backgrounds" / "empty_family").mkdir(parents=True)
    with pytest.raises(ConfigError) as e:
        load_folder(tmp_path)
    one_line(e, str(tmp_path / "backgrounds"), "No background images")

    (tmp_path / "backgrounds" / "sea.jpg").write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(ConfigError) as e:
        load_folder(tmp_path)
    one_line(e, "sea.jpg")


# --------------------------------------------------------------------------- random
def test_random_pack_deterministic_and_prefix_stable():
    small, large = load_random(5, 16, 0), load_random(12, 16, 0)
    assert small.object_names == tuple(f"random_{k}" for k in range(5))
    for k in range(5):
        assert torch.equal(small.objects[k], large.objects[k])
        assert torch.equal(small.objects[k], random_object(k, 16, 0))
    o = large.objects[3]
    assert o.shape == (4, 16, 16) and o.dtype == torch.uint8
    assert (o[3] == 255).all()
    assert not torch.equal(large.objects[0], large.objects[1])
    assert not torch.equal(random_object(0, 16, 0), random_object(0, 16, 1))
    rgb = torch.stack(large.objects)[:, :3].float()
    assert 110 < rgb.mean() < 145 and rgb.min() == 0 and rgb.max() == 255
    assert large.backgrounds == []
    with pytest.raises(ValueError):
        large.backgrounds_at(16)


def test_random_pack_defaults_and_errors():
    pack = load_assets("random")
    assert pack.num_objects == 61 and pack.objects_at(32).shape == (61, 4, 32, 32)
    with pytest.raises(ConfigError):
        load_random(0)
    with pytest.raises(ConfigError):
        load_random(4, size=-1)


# --------------------------------------------------------------------------- hub (offline)
def colour_image(i: int, mode: str, size=(24, 16)) -> Image.Image:
    arr = np.zeros((size[1], size[0], 4), dtype=np.uint8)
    arr[..., 0], arr[..., 1], arr[..., 2], arr[..., 3] = 10 * i, 255 - 10 * i, 7 * i, 255
    arr[0, 0, 3] = 0
    return Image.fromarray(arr, "RGBA").convert(mode)


def save_hub_source(root, labels_fg, labels_bg, class_names=None):
    datasets = pytest.importorskip("datasets")
    label_feature = (datasets.ClassLabel(names=class_names) if class_names
                     else datasets.Value("int64"))
    fg = datasets.Dataset.from_dict(
        {"image": [colour_image(i, "RGBA") for i in range(len(labels_fg))], "label": labels_fg},
        features=datasets.Features({"image": datasets.Image(), "label": label_feature}))
    datasets.DatasetDict({"train": fg}).save_to_disk(str(root / "foregrounds"))
    bg = datasets.Dataset.from_dict(
        {"image": [colour_image(i, "RGB", (32, 20)) for i in range(len(labels_bg))],
         "label": labels_bg},
        features=datasets.Features({"image": datasets.Image(), "label": datasets.Value("int64")}))
    bg.save_to_disk(str(root / "backgrounds"))  # a bare Dataset is accepted too


def test_hub_local_source_first_object_per_label_and_cache(tmp_path):
    pytest.importorskip("datasets")
    src, cache = tmp_path / "hub_src", tmp_path / "cache"
    # rows: (image index -> label); first rows per label: label 0 -> 1, 1 -> 3, 2 -> 0
    save_hub_source(src, [2, 0, 2, 1, 0, 1], [1, 0, 1, 0, 2],
                    class_names=["apple", "boat", "cat"])
    pack = load_hub(str(src), cache_dir=cache)
    assert pack.object_names == ("apple", "boat", "cat")
    expected = [colour_image(i, "RGBA") for i in (1, 3, 0)]
    for obj, exp in zip(pack.objects, expected, strict=True):
        assert obj.shape == (4, 16, 24) and obj.dtype == torch.uint8
        assert torch.equal(obj, torch.from_numpy(np.array(exp)).permute(2, 0, 1))
    # backgrounds: every row in dataset order (the authors use all 867 rows), labels ignored
    assert pack.background_families == ("photo",) * 5
    for i, bg in enumerate(pack.backgrounds):
        assert bg.shape == (3, 20, 32)
        assert torch.equal(bg, torch.from_numpy(np.array(colour_image(i, "RGB", (32, 20))))
                           .permute(2, 0, 1))
    cached = list(cache.rglob("*.npz"))
    assert len(cached) == 1 and not list(cache.rglob("*.tmp"))

    # the second load reads the cache only: the source can be gone
    for p in sorted(src.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    again = load_hub(str(src), cache_dir=cache)
    assert again.object_names == pack.object_names
    assert all(torch.equal(a, b) for a, b in zip(again.objects, pack.objects, strict=True))
    assert all(torch.equal(a, b) for a, b in zip(again.backgrounds, pack.backgrounds, strict=True))


def test_hub_plain_labels_env_cache_and_registry(tmp_path, monkeypatch):
    pytest.importorskip("datasets")
    src = tmp_path / "plain"
    save_hub_source(src, [5, 3, 5], [0])
    monkeypatch.setenv("T2D_CACHE", str(tmp_path / "t2d"))
    pack = load_assets(f"hub:{src}")
    assert pack.object_names == ("object_3", "object_5")
    assert len(list((tmp_path / "t2d" / "hub").rglob("*.npz"))) == 1
    assert load_assets(f"hub:{src}") is pack  # kept in memory by the registry


def test_hub_errors(tmp_path, monkeypatch):
    pytest.importorskip("datasets")
    (tmp_path / "src" / "foregrounds").mkdir(parents=True)
    with pytest.raises(ConfigError) as e:
        load_hub(str(tmp_path / "src"), cache_dir=tmp_path / "cache")
    one_line(e, "foregrounds")
    # without the optional dependency (a None entry makes the import fail, as if not installed)
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(ConfigError) as e:
        load_hub(str(tmp_path / "src"), cache_dir=tmp_path / "cache2")
    one_line(e, "pip install 'transforms2d[hub]'")


# --------------------------------------------------------------------------- registry
def test_registry():
    assert [p.name for p in list_asset_packs()] == ["builtin", "random", "hub", "folder"]
    assert all(p.description for p in ASSET_PACKS.values())
    with pytest.raises(ConfigError) as e:
        load_assets("bultin")
    one_line(e, "Unknown asset pack 'bultin'", "did you mean 'builtin'")
    with pytest.raises(ConfigError) as e:
        load_assets("builtin:extra")
    one_line(e, "takes no argument")
    with pytest.raises(ConfigError) as e:
        load_assets("folder")
    one_line(e, "folder:<path>")
    with pytest.raises(ConfigError):
        load_assets("hub:")
    with pytest.raises(ConfigError):
        load_assets(42)  # type: ignore[arg-type]
    pack = load_random(3, 8, 1)
    assert load_assets(pack) is pack


def test_background_pack_registry():
    """Split-dependent background packs: the CIFAR ones here, others registered by higher layers
    (the data layer's ``objects``: tests/data/test_scenes.py); any other pack serves every
    split alike."""
    assert {"cifar10", "cifar100", "objects"} <= set(BACKGROUND_PACKS)
    for name in ("cifar10", "cifar100"):
        info = BACKGROUND_PACKS[name]
        assert isinstance(info, BackgroundPackInfo) and info.name == name
        assert info.argument == "<root>" and "CIFAR" in info.description
    calls = []

    def loader(split, arg):
        calls.append((split, arg))
        k = 4 if split == "test" else 5
        return AssetPack(name="bgtest", objects=[], object_names=(),
                         backgrounds=[torch.full((3, 8, 8), i, dtype=torch.uint8)
                                      for i in range(k)],
                         background_families=("a",) * k, description="test", license="none")

    register_background_pack("bgtest", loader, "a test pack", argument="<n>")
    try:
        assert BACKGROUND_PACKS["bgtest"] == BackgroundPackInfo("bgtest", loader, "a test pack",
                                                                "<n>")
        assert load_background_pack("bgtest", "test").num_backgrounds == 4
        assert load_background_pack("bgtest:3", "train").num_backgrounds == 5
        assert calls == [("test", None), ("train", "3")]
        with pytest.raises(ConfigError) as e:
            load_background_pack("bgtest:", "train")
        one_line(e, "'bgtest:' has an empty n", "'bgtest:<n>'")
        for name in ("bgtest", "builtin"):  # neither a background pack nor an asset pack twice
            with pytest.raises(ValueError, match="already registered"):
                register_background_pack(name, loader, "again")
    finally:
        del BACKGROUND_PACKS["bgtest"]
    with pytest.raises(ConfigError) as e:
        load_background_pack("bgtest", "train")
    one_line(e, "Unknown background pack 'bgtest'")
    pack = load_random(3, 8, 1)
    assert load_background_pack(pack, "train") is pack is load_background_pack(pack, "test")
    assert load_background_pack("builtin", "test") is load_background_pack("builtin", "train")
