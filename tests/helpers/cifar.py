"""Small CIFAR archives built in the exact python-pickle format of the originals.

Each archive has the official top folder and file names, the meta files, and pickles in the
form Python 2 wrote the originals (protocol 2, every ``str`` a BINSTRING, numpy's
``numpy.core.multiarray._reconstruct``), so they decode with bytes keys under
``encoding="bytes"``; only the number of images differs.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import struct
import tarfile

import numpy as np
import torch

from transforms2d.assets import cifar
from transforms2d.assets.cifar import load_cifar

C10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
             "truck"]
C100_NAMES = [f"fine_{i:02d}" for i in range(100)]
PER_BATCH = 3  # images per pickle file of make_folder
PER_CLASS, PER_CLASS_TEST = 20, 10  # write_cifar's default: 18 train + 2 val, and 10 test


def known_image() -> np.ndarray:
    """``(3, 32, 32)`` uint8 with a distinct value pattern per channel and position."""
    c, y, x = np.meshgrid(np.arange(3), np.arange(32), np.arange(32), indexing="ij")
    return ((c * 97 + y * 7 + x * 3) % 256).astype(np.uint8)


def as_row(img: np.ndarray) -> np.ndarray:
    """The documented CIFAR row: 1024 red, then 1024 green, then 1024 blue, each row-major."""
    return np.concatenate([img[0].ravel(), img[1].ravel(), img[2].ravel()])


class Py2Pickler(pickle._Pickler):
    """Python 2's cPickle output: strings and bytes as (SHORT_)BINSTRING."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_binstring(self, obj):
        data = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = dispatch[bytes] = save_binstring


def dump(path, obj, str_keys: bool = False) -> None:
    """Write ``obj`` as the originals are written, or (``str_keys``) as a modern pickle."""
    if str_keys:
        path.write_bytes(pickle.dumps({k.decode(): v for k, v in obj.items()}, protocol=4))
        return
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    path.write_bytes(buf.getvalue().replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))


def make_folder(root, name: str, str_keys: bool = False) -> dict:
    """Write the extracted folder of ``name`` under ``root`` (``PER_BATCH`` random images per
    file, the known image first in train batch 2); return the expected contents."""
    fmt = cifar.FORMATS[name]
    folder = root / fmt.folder
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0 if name == "cifar10" else 1)
    expected = {}
    for split, files in fmt.splits.items():
        rows, labels = [], []
        for b, file in enumerate(files):
            data = rng.integers(0, 256, (PER_BATCH, 3072), dtype=np.uint8)
            if split == "train" and b == 1:
                data[0] = as_row(known_image())
            lab = [int(v) for v in rng.integers(0, fmt.num_classes, PER_BATCH)]
            batch = {b"batch_label": f"{split} batch {b + 1}".encode(), b"data": data,
                     b"filenames": [f"img_{b}_{i}.png".encode() for i in range(PER_BATCH)]}
            if name == "cifar10":
                batch[b"labels"] = lab
            else:
                batch[b"fine_labels"] = lab
                batch[b"coarse_labels"] = [v // 5 for v in lab]
            dump(folder / file, batch, str_keys)
            rows.append(data)
            labels += lab
        expected[split] = (np.concatenate(rows), labels)
    if name == "cifar10":
        meta = {b"num_cases_per_batch": 10000, b"num_vis": 3072,
                b"label_names": [n.encode() for n in C10_NAMES]}
    else:
        meta = {b"fine_label_names": [n.encode() for n in C100_NAMES],
                b"coarse_label_names": [f"coarse_{i:02d}".encode() for i in range(20)]}
    dump(folder / fmt.meta, meta, str_keys)
    return expected


def archive_bytes(tmp_path, name: str, extra: tarfile.TarInfo | None = None) -> bytes:
    """The ``.tar.gz`` of a freshly built folder (plus an optional extra member)."""
    src = tmp_path / "src"
    make_folder(src, name)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(src / cifar.FORMATS[name].folder, arcname=cifar.FORMATS[name].folder)
        if extra is not None:
            tar.addfile(extra, io.BytesIO(b"x" * extra.size))
    return buf.getvalue()


def put_archive(root, name: str, data: bytes, monkeypatch, trust: bool = True):
    """Write ``data`` as the archive of ``name`` under ``root``; ``trust`` makes its MD5 the
    expected one."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / cifar.FORMATS[name].archive
    path.write_bytes(data)
    if trust:
        monkeypatch.setitem(cifar.MD5, name, hashlib.md5(data).hexdigest())
    return path


def write_cifar(root, name: str, per_class: int = PER_CLASS,
                per_class_test: int = PER_CLASS_TEST) -> None:
    """The extracted folder of ``name`` under ``root`` with balanced, shuffled labels:
    ``per_class`` training and ``per_class_test`` test images per class in shuffled archive
    order. Images are uniform random pixels (no row is ever all black), plus a
    class-dependent tint."""
    fmt = cifar.FORMATS[name]
    folder = root / fmt.folder
    folder.mkdir(parents=True)
    rng = np.random.default_rng(7 if name == "cifar10" else 8)
    key = "labels" if name == "cifar10" else "fine_labels"
    tint = rng.integers(0, 64, (fmt.num_classes, 3))
    for split, files in fmt.splits.items():
        count = per_class if split == "train" else per_class_test
        labels = rng.permutation(np.repeat(np.arange(fmt.num_classes), count))
        images = rng.integers(32, 192, (len(labels), 3, 32, 32))
        images = (images + tint[labels][:, :, None, None]).astype(np.uint8)
        for f, part in zip(files, np.array_split(np.arange(len(labels)), len(files))):
            batch = {b"data": images[part].reshape(len(part), -1),
                     key.encode(): [int(v) for v in labels[part]]}
            dump(folder / f, batch)
    names = C10_NAMES if name == "cifar10" else C100_NAMES
    meta_key = fmt.names_key.encode()
    dump(folder / fmt.meta, {meta_key: [n.encode() for n in names]})


def half(images: torch.Tensor) -> torch.Tensor:
    """uint8 → float in [-1, 1] with the renderer's arithmetic (so comparisons are exact)."""
    return images.float().mul(1.0 / 255.0).mul(2.0).sub(1.0)


def source_images(root, name: str, split: str) -> torch.Tensor:
    """``(N, 3, 32, 32)`` float in [-1, 1] (the "half" normalisation) of a CIFAR split."""
    return half(load_cifar(name, split, root).images)
