"""Fuzzing the folders a user hands the package: asset folders (``folder:PATH``, through
``load_assets``, ``Transforms2D(assets=...)`` and ``background_pack=...``), the hub pack's
disk cache (``load_hub(source, cache_dir)``) and CIFAR roots (``TransformedCIFAR(root=...)``,
``background_pack="cifar10:ROOT"``), filled with odd files.

Odd files: empty, random bytes, truncated or byte-flipped images, images in every PIL mode
(CMYK, 16-bit, float, 1-bit, palette with and without transparency, LA, LAB), a PNG header
claiming 100000 x 100000 pixels (PIL's decompression-bomb check), a symlink loop, a dangling
link, a folder named like an image, text and pickles under image or CIFAR names, EXIF
garbage, duplicated object names; and folders that are missing, files, or links to
themselves.

Property: a one-line ConfigError naming the folder or file (its path is in the message), or
a pack whose images are uint8 of the documented shapes and that renders a dataset; never
another exception, nothing written outside the case folder (the CIFAR root only gets its
own extracted folder), no ``*.tmp`` file.

Cases (Hypothesis, derandomized): 150 asset folders, 40 hub caches, 100 CIFAR roots: 290 in
all.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import shutil
import struct
import tarfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import strategies as st
from PIL import Image

from tests.helpers.cifar import dump, write_cifar
from tests.helpers.fuzz import expect, listing, partial_files, run_cases
from transforms2d import Transforms2D
from transforms2d.assets import cifar, load_assets, load_hub
from transforms2d.data import TransformedCIFAR

# --------------------------------------------------------------------------- odd image files
IMAGE_KINDS = ["rgba", "rgba", "rgb", "palette", "palette-transparent", "la", "l-transparent",
               "1bit", "i16", "i16-transparent", "cmyk-jpeg", "float-tiff", "lab-tiff",
               "gif", "webp", "jpeg-exif", "jpeg-bad-exif", "png-bad-exif", "tall", "wide",
               "empty", "garbage", "truncated", "flipped", "bomb", "bomb-medium", "zero-size",
               "text", "pickle", "loop", "dangling", "dir", "fifo"]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def header_only_png(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width x height`` RGBA pixels, with almost no data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def image_bytes(kind: str, seed: int) -> bytes | None:
    """The bytes of an odd image file (None: the kind is not a plain file)."""
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(1, 12)), int(rng.integers(1, 12))
    rgba = Image.fromarray(rng.integers(0, 256, (h, w, 4), dtype=np.uint8), "RGBA")
    buf = io.BytesIO()

    def save(im, fmt="PNG", **kw):
        im.save(buf, format=fmt, **kw)
        return buf.getvalue()

    simple = {
        "rgba": lambda: save(rgba), "rgb": lambda: save(rgba.convert("RGB")),
        "palette": lambda: save(rgba.convert("RGB").convert("P")),
        "palette-transparent": lambda: save(rgba.convert("RGB").convert("P"), transparency=0),
        "la": lambda: save(rgba.convert("LA")),
        "l-transparent": lambda: save(rgba.convert("L"), transparency=7),
        "1bit": lambda: save(rgba.convert("1")),
        "i16": lambda: save(Image.fromarray(rng.integers(0, 65535, (h, w)).astype(np.uint16))),
        "i16-transparent": lambda: save(Image.fromarray(
            rng.integers(0, 65535, (h, w)).astype(np.uint16)), transparency=3),
        "cmyk-jpeg": lambda: save(rgba.convert("CMYK"), "JPEG"),
        "float-tiff": lambda: save(Image.fromarray(rng.normal(size=(h, w)).astype(np.float32)),
                                   "TIFF"),
        "lab-tiff": lambda: save(rgba.convert("RGB").convert("LAB"), "TIFF"),
        "gif": lambda: save(rgba, "GIF"),
        "webp": lambda: save(rgba, "WEBP", lossless=True),
        "jpeg-exif": lambda: save(rgba.convert("RGB"), "JPEG", exif=_exif(6)),
        "jpeg-bad-exif": lambda: save(rgba.convert("RGB"), "JPEG",
                                      exif=b"Exif\x00\x00" + bytes(rng.integers(0, 256, 40))),
        "png-bad-exif": lambda: save(rgba, exif=b"MM\x00*" + bytes(rng.integers(0, 256, 30))),
        "tall": lambda: save(Image.new("RGBA", (1, 3000), (1, 2, 3, 255))),
        "wide": lambda: save(Image.new("RGBA", (3000, 1), (1, 2, 3, 200))),
        "empty": lambda: b"",
        "garbage": lambda: bytes(rng.integers(0, 256, int(rng.integers(1, 200)))),
        "truncated": lambda: save(rgba)[: int(rng.integers(8, 40))],
        "bomb": lambda: header_only_png(100_000, 100_000),
        "bomb-medium": lambda: header_only_png(12_000, 12_000),
        "zero-size": lambda: header_only_png(0, 5),
        "text": lambda: b"not an image\n",
        "pickle": lambda: pickle.dumps({"data": [1, 2, 3]}),
    }
    if kind == "flipped":
        data = bytearray(image_bytes(str(rng.choice(["rgba", "gif", "webp", "cmyk-jpeg",
                                                      "float-tiff"])), seed))
        for _ in range(int(rng.integers(1, 6))):
            data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
        return bytes(data)
    return simple[kind]() if kind in simple else None


def _exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def put(path: Path, kind: str, seed: int) -> None:
    """Create ``path`` as an odd file of ``kind``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "loop":
        path.symlink_to(path.name)
    elif kind == "dangling":
        path.symlink_to(path.parent / "missing-target.png")
    elif kind == "dir":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.write_bytes(image_bytes(kind, seed))


# --------------------------------------------------------------------------- asset folders
EXTS = [".png"] * 4 + [".webp", ".PNG", ".jpg", ".txt", ""]
NAMES = st.sampled_from(["a", "b", "c", "zebra", ".hidden", "a b", "é"])
#: Kinds an object may be (an alpha channel); the first object file is one of them, so that
#: the folder gets past its objects and its backgrounds are read too.
ALPHA_KINDS = ["rgba", "webp", "palette-transparent", "la", "l-transparent", "gif",
               "i16-transparent", "tall", "wide"]
ENTRY = st.tuples(NAMES, st.sampled_from(EXTS), st.sampled_from(IMAGE_KINDS),
                  st.integers(0, 2 ** 16))
FIRST = st.tuples(st.just("first"), st.just(".png"), st.sampled_from(ALPHA_KINDS),
                  st.integers(0, 2 ** 16))
LAYOUT = st.fixed_dictionaries({
    "root": st.sampled_from(["folder"] * 12 + ["missing", "file", "loop"]),
    "objects": st.sampled_from(["folder"] * 12 + ["missing", "file", "loop"]),
    "object_files": st.tuples(FIRST, st.lists(ENTRY, max_size=2)).map(
        lambda t: [t[0], *t[1]]) | st.lists(ENTRY, max_size=3),
    "backgrounds": st.sampled_from(["folder"] * 4 + ["missing", "file", "loop"]),
    "background_files": st.lists(st.tuples(st.sampled_from(["", "", "sky", "sea", ".hidden"]),
                                           ENTRY), max_size=4),
})


def build_folder(root: Path, layout: dict) -> None:
    def make(path: Path, how: str) -> bool:
        if how == "file":
            path.write_text("a file, not a folder")
        elif how == "loop":
            path.symlink_to(path.name)
        elif how == "folder":
            path.mkdir(exist_ok=True)
        return how == "folder"

    if not make(root, layout["root"]):
        return
    if make(root / "objects", layout["objects"]):
        for name, ext, kind, seed in layout["object_files"]:
            if not os.path.lexists(root / "objects" / (name + ext)):
                put(root / "objects" / (name + ext), kind, seed)
    if make(root / "backgrounds", layout["backgrounds"]):
        for family, (name, ext, kind, seed) in layout["background_files"]:
            path = root / "backgrounds" / family / (name + ext)
            if not os.path.lexists(path) and not os.path.lexists(path.parent) or \
                    path.parent.is_dir() and not os.path.lexists(path):
                put(path, kind, seed)


def check_pack(pack, root: Path) -> None:
    """A loaded pack: uint8 RGBA objects, RGB backgrounds, and a dataset renders from it."""
    assert pack.num_objects >= 1
    for o in pack.objects:
        assert o.dtype == torch.uint8 and o.ndim == 3 and o.shape[0] == 4 and min(o.shape) > 0
    for b in pack.backgrounds:
        assert b.dtype == torch.uint8 and b.ndim == 3 and b.shape[0] == 3 and min(b.shape) > 0
    backgrounds = "images" if pack.num_backgrounds else "random"
    ds = Transforms2D(objects=1, n=2, image_size=8, assets=pack, backgrounds=backgrounds,
                      transforms="rotate")
    x, _ = ds.render(torch.arange(2))
    assert torch.isfinite(x).all()


def test_asset_folders(sandbox):
    def check(layout):
        root = sandbox.case_dir() / "pack"
        build_folder(root, layout)
        before = listing(root.parent)
        pack, _ = expect(lambda: load_assets(f"folder:{root}"), [str(root)])
        if pack is not None:
            check_pack(pack, root)
            # the same folder as another dataset's backgrounds
            ds, _ = expect(lambda: Transforms2D(objects=1, n=2, image_size=8,
                                                background_pack=f"folder:{root}"), [str(root)])
            if ds is not None:
                ds.render(torch.arange(2))
        assert listing(root.parent) == before, "the asset folder was changed"
        sandbox.check()

    run_cases("asset folders", 150, LAYOUT, check)


# --------------------------------------------------------------------------- hub cache
def npz_bytes(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def hub_cache(kind: str, seed: int) -> bytes | None:
    rng = np.random.default_rng(seed)
    obj = rng.integers(0, 256, (5, 6, 4), dtype=np.uint8)
    bg = rng.integers(0, 256, (7, 3, 3), dtype=np.uint8)
    good = {"format": np.asarray(1), "object_names": np.asarray(["a"]), "object_00000": obj,
            "background_00000": bg}
    return {
        "good": lambda: npz_bytes(good),
        "no-backgrounds": lambda: npz_bytes({k: v for k, v in good.items()
                                             if not k.startswith("background")}),
        "no-format": lambda: npz_bytes({k: v for k, v in good.items() if k != "format"}),
        "no-names": lambda: npz_bytes({k: v for k, v in good.items() if k != "object_names"}),
        "format-2": lambda: npz_bytes({**good, "format": np.asarray(2)}),
        "format-text": lambda: npz_bytes({**good, "format": np.asarray("one")}),
        "object-2d": lambda: npz_bytes({**good, "object_00000": obj[..., 0]}),
        "object-rgb": lambda: npz_bytes({**good, "object_00000": obj[..., :3]}),
        "object-float": lambda: npz_bytes({**good, "object_00000": obj.astype(np.float32)}),
        "background-rgba": lambda: npz_bytes({**good, "background_00000": obj}),
        "names-mismatch": lambda: npz_bytes({**good, "object_names": np.asarray(["a", "b"])}),
        "pickled": lambda: npz_bytes({**good, "object_names": np.asarray([{"a": 1}],
                                                                           dtype=object)}),
        "empty": lambda: b"",
        "garbage": lambda: bytes(rng.integers(0, 256, 100)),
        "truncated": lambda: npz_bytes(good)[:200],
        "png": lambda: image_bytes("rgba", seed),
    }.get(kind, lambda: None)()


HUB_KINDS = ["good", "no-backgrounds", "no-format", "no-names", "format-2", "format-text",
             "object-2d", "object-rgb", "object-float", "background-rgba", "names-mismatch",
             "pickled", "empty", "garbage", "truncated", "png", "loop", "dir"]


def test_hub_cache_files(sandbox):
    """``load_hub(source, cache_dir)`` reads ``<cache>/<source>/images.npz`` when it exists."""
    from transforms2d.assets.hub import _sanitise

    def check(case):
        kind, seed = case
        d = sandbox.case_dir()
        src = d / "source"
        src.mkdir()
        path = d / "cache" / _sanitise(str(src)) / "images.npz"
        path.parent.mkdir(parents=True)
        data = hub_cache(kind, seed)
        if data is not None:
            path.write_bytes(data)
        else:
            put(path, kind, seed)
        pack, _ = expect(lambda: load_hub(str(src), cache_dir=d / "cache"),
                         [str(path), str(src)])
        if pack is not None:
            check_pack(pack, src)
        sandbox.check()

    run_cases("hub caches", 40, st.tuples(st.sampled_from(HUB_KINDS), st.integers(0, 99)),
              check)


# --------------------------------------------------------------------------- CIFAR roots
@pytest.fixture(scope="module")
def cifar_files(tmp_path_factory):
    """A valid extracted CIFAR-10 folder (10 train, 1 of them val, and 2 test images per
    class) to copy."""
    root = tmp_path_factory.mktemp("cifar-src")
    write_cifar(root, "cifar10", per_class=10, per_class_test=2)
    return root / cifar.FORMATS["cifar10"].folder


CIFAR_FILE_KINDS = ["keep", "empty", "garbage", "text", "png", "loop", "dir", "dangling",
                                   "list-pickle", "no-labels", "data-float", "data-shape",
                                   "labels-out-of-range", "labels-float", "labels-short",
                                   "names-int", "names-short", "evil-pickle", "str-keys"]


def cifar_file(path: Path, kind: str, seed: int) -> None:
    """Damage one file of an extracted CIFAR folder."""
    if kind == "keep":
        return
    original = pickle.loads(path.read_bytes(), encoding="bytes") if path.is_file() else {}
    if kind in ("empty", "garbage", "text", "loop", "dir", "dangling"):
        path.unlink(missing_ok=True)
        put(path, kind, seed)
        return
    if kind == "png":
        path.write_bytes(image_bytes("rgba", seed))
        return
    data = dict(original)
    n = len(data.get(b"data", []))
    if kind == "list-pickle":
        path.write_bytes(pickle.dumps([1, 2]))
        return
    if kind == "evil-pickle":
        path.write_bytes(pickle.dumps(os.getcwd))  # a global the reader must refuse
        return
    if kind == "str-keys":
        dump(path, data, str_keys=True)
        return
    if kind == "no-labels":
        data.pop(b"labels", None)
    elif kind == "data-float" and n:
        data[b"data"] = np.asarray(data[b"data"], dtype=np.float32)
    elif kind == "data-shape" and n:
        data[b"data"] = np.asarray(data[b"data"])[:, :100]
    elif kind == "labels-out-of-range" and n:
        data[b"labels"] = [10] * n
    elif kind == "labels-float" and n:
        data[b"labels"] = [0.5] * n
    elif kind == "labels-short" and n:
        data[b"labels"] = [0] * (n - 1)
    elif kind == "names-int" and b"label_names" in data:
        data[b"label_names"] = 7
    elif kind == "names-short" and b"label_names" in data:
        data[b"label_names"] = data[b"label_names"][:3]
    dump(path, data)


ARCHIVE_KINDS = ["none", "none", "garbage", "empty", "png", "truncated-gz", "good",
                 "wrong-top", "unsafe-member", "link-member", "gz-not-tar"]


def archive_bytes(kind: str, folder: Path, seed: int) -> bytes | None:
    rng = np.random.default_rng(seed)
    name = cifar.FORMATS["cifar10"].folder

    def tar(add) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as t:
            add(t)
        return buf.getvalue()

    if kind == "none":
        return None
    if kind == "garbage":
        return bytes(rng.integers(0, 256, 300))
    if kind == "empty":
        return b""
    if kind == "png":
        return image_bytes("rgba", seed)
    if kind == "gz-not-tar":
        return zlib.compress(b"hello") if seed % 2 else __import__("gzip").compress(b"hello")
    good = tar(lambda t: t.add(folder, arcname=name))
    if kind == "good":
        return good
    if kind == "truncated-gz":
        return good[: len(good) // 2]
    if kind == "wrong-top":
        return tar(lambda t: t.add(folder, arcname="other-folder"))

    def special(t, info):
        t.add(folder, arcname=name)
        t.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)

    if kind == "unsafe-member":
        info = tarfile.TarInfo(str(rng.choice(["../evil", "/abs/evil", f"{name}/../../x"])))
        info.size = 1
        return tar(lambda t: special(t, info))
    info = tarfile.TarInfo(f"{name}/link")
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    return tar(lambda t: special(t, info))


@st.composite
def cifar_roots(draw):
    files = cifar.FORMATS["cifar10"].files
    meta = cifar.FORMATS["cifar10"].meta  # one file, read for every split: drawn more often
    damage = draw(st.dictionaries(st.sampled_from([*files, meta, meta, meta]),
                                  st.sampled_from(CIFAR_FILE_KINDS), max_size=2))
    return {
        "folder": draw(st.sampled_from(["extracted"] * 4 + ["none", "as-root", "file", "loop"])),
        "damage": damage, "archive": draw(st.sampled_from(ARCHIVE_KINDS)),
        "trust": draw(st.booleans()), "seed": draw(st.integers(0, 99)),
        "entry": draw(st.sampled_from(["dataset", "dataset", "background"])),
        "split": draw(st.sampled_from(["train", "val", "test"])),
    }


def test_cifar_roots(sandbox, cifar_files, monkeypatch):
    fmt = cifar.FORMATS["cifar10"]

    def check(case):
        root = sandbox.case_dir() / "root"
        root.mkdir()
        seed = case["seed"]
        folder = root if case["folder"] == "as-root" else root / fmt.folder
        if case["folder"] in ("extracted", "as-root"):
            shutil.copytree(cifar_files, folder, dirs_exist_ok=True)
            for f, kind in case["damage"].items():
                cifar_file(folder / f, kind, seed)
        elif case["folder"] == "file":
            folder.write_text("not a folder")
        elif case["folder"] == "loop":
            folder.symlink_to(folder.name)
        data = archive_bytes(case["archive"], cifar_files, seed)
        if data is not None:
            (root / fmt.archive).write_bytes(data)
        md5 = hashlib.md5(data).hexdigest() if data is not None and case["trust"] else "0" * 32
        monkeypatch.setitem(cifar.MD5, "cifar10", md5)
        cifar.clear_cache()
        before = listing(root)
        if case["entry"] == "dataset":
            make = lambda: TransformedCIFAR("cifar10", split=case["split"], n=10,  # noqa: E731
                                            root=root, transforms="rotate")
        else:
            make = lambda: Transforms2D(objects=2, n=4, image_size=8,  # noqa: E731
                                        split=case["split"],
                                        background_pack=f"cifar10:{root}")
        ds, _ = expect(make, [str(root)])
        if ds is not None:
            x, y = ds.render(torch.arange(min(len(ds), 4)))
            assert torch.isfinite(x).all() and int(y.min()) >= 0
        added = listing(root) - before
        assert all(p.split("/")[0] == fmt.folder for p in added), added  # extraction only
        assert not partial_files(root) and not [p for p in root.iterdir()
                                                if p.name.startswith(".extract-")]
        sandbox.check()

    run_cases("CIFAR roots", 100, cifar_roots(), check)
    cifar.clear_cache()
