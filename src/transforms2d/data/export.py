"""A Transforms-2D dataset written out, for training code outside this package.

Formats (every one deterministic: the same dataset gives the same bytes):

- ``folder``: ``OUT/<class>/<index>.png`` (class = object name, zero-padded index), ``labels.csv``
  (``file,label,class``) and ``spec.json`` (the full generation spec);
- ``webdataset``: ``OUT/shard-000000.tar`` … (``<index>.png`` + ``<index>.cls`` per sample, fixed
  tar metadata), plus ``spec.json``; read them with ``webdataset.WebDataset`` or ``tarfile``;
- ``parquet``: ``OUT/data.parquet`` (``index``, ``label``, ``class``, ``png`` bytes) and
  ``spec.json``;
- ``hf``: a Hugging Face ``datasets`` dataset saved with ``save_to_disk`` (the ``hf`` extra).

Images are the dataset's samples in [0, 255] (8-bit PNG, RGB), i.e. ``(x + 1) / 2`` of what
``Transforms2D`` returns, rounded.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import json
import os
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import ConfigError
from ..io import atomic_write

FORMATS = ("folder", "webdataset", "parquet", "hf")


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """``(B, 3, S, S)`` in [-1, 1] → ``(B, S, S, 3)`` uint8."""
    return ((x.float().cpu() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8) \
        .permute(0, 2, 3, 1).numpy()


def png_bytes(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def samples(ds, batch_size: int = 512) -> Iterator[tuple[int, bytes, int]]:
    """``(index, png, label)`` of every sample in index order."""
    for start in range(0, len(ds), batch_size):
        idx = torch.arange(start, min(start + batch_size, len(ds)))
        x, y = ds.render(idx)
        for i, img, label in zip(idx.tolist(), to_uint8(x), y.tolist()):
            yield i, png_bytes(img), int(label)


def spec_json(ds) -> str:
    spec = json.loads(json.dumps(dataclasses.asdict(ds.spec), default=list))
    return json.dumps({"dataset": type(ds).__name__, "spec": spec,
                       "classes": class_names(ds)}, indent=1, sort_keys=True) + "\n"


def class_names(ds) -> list[str]:
    names = getattr(ds, "class_names", None)
    if names is None:
        names = [ds.pack.object_names[o] for o in ds.spec.objects]
    return [str(n) for n in names]


def check_out(out: Path) -> None:
    """``out`` must not exist, or be an empty folder (never mix two exports)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"{out} exists and holds other data; pass a new or empty folder.")


def _write(path: Path, data: bytes | str) -> None:
    data = data.encode() if isinstance(data, str) else data
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def _folder(ds, out: Path, tick: Callable[[], None], shard_size: int) -> None:
    names = class_names(ds)
    width = len(str(len(ds) - 1))
    rows = []
    for i, png, label in samples(ds):
        rel = f"{names[label]}/{i:0{width}d}.png"
        (out / names[label]).mkdir(exist_ok=True)
        (out / rel).write_bytes(png)
        rows.append((rel, label, names[label]))
        tick()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("file", "label", "class"))
    writer.writerows(rows)
    _write(out / "labels.csv", buf.getvalue())


def _tar_add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 0, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def _webdataset(ds, out: Path, tick: Callable[[], None], shard_size: int) -> None:
    width = len(str(len(ds) - 1))
    for k, group in itertools.groupby(samples(ds), key=lambda s: s[0] // shard_size):
        with tarfile.open(out / f"shard-{k:06d}.tar", "w", format=tarfile.USTAR_FORMAT) as tar:
            for i, png, label in group:
                _tar_add(tar, f"{i:0{width}d}.png", png)
                _tar_add(tar, f"{i:0{width}d}.cls", str(label).encode())
                tick()


def _columns(ds, tick) -> dict[str, list]:
    names = class_names(ds)
    cols: dict[str, list] = {"index": [], "label": [], "class": [], "png": []}
    for i, png, label in samples(ds):
        for k, v in zip(cols, (i, label, names[label], png)):
            cols[k].append(v)
        tick()
    return cols


def _parquet(ds, out: Path, tick: Callable[[], None], shard_size: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(_columns(ds, tick))
    buf = io.BytesIO()
    pq.write_table(table, buf)
    _write(out / "data.parquet", buf.getvalue())


def _hf(ds, out: Path, tick: Callable[[], None], shard_size: int) -> None:
    import datasets  # checked by export()

    cols = _columns(ds, tick)
    features = datasets.Features({"index": datasets.Value("int64"),
                                  "label": datasets.ClassLabel(names=class_names(ds)),
                                  "class": datasets.Value("string"),
                                  "image": datasets.Image()})
    data = {"index": cols["index"], "label": cols["label"], "class": cols["class"],
            "image": [{"bytes": b, "path": None} for b in cols["png"]]}
    datasets.Dataset.from_dict(data, features=features).save_to_disk(str(out / "hf"))


WRITERS = {"folder": _folder, "webdataset": _webdataset, "parquet": _parquet, "hf": _hf}


def export(ds, out: str | os.PathLike, format: str = "folder", shard_size: int = 10_000,
           progress: Callable[[], None] | None = None) -> Path:
    """Write every sample of ``ds`` (a :class:`~transforms2d.Transforms2D` or any dataset of
    the package) to ``out`` in ``format`` (see the module docstring); returns ``out``.

    ``progress()`` is called once per sample written."""
    if format not in WRITERS:
        raise ConfigError(f"Unknown export format '{format}'; valid: {', '.join(FORMATS)}.")
    if format == "hf":
        try:
            import datasets  # noqa: F401
        except ImportError:
            raise ConfigError("--format hf needs Hugging Face datasets: pip install "
                              "'transforms2d[hf]'.") from None
    out = Path(out)
    check_out(out)
    out.mkdir(parents=True, exist_ok=True)
    WRITERS[format](ds, out, progress or (lambda: None), shard_size)
    _write(out / "spec.json", spec_json(ds))
    return out
