"""``t2d export`` / ``data.export``: every format re-read and compared with the dataset's own
samples, bytes identical across two exports, bad output folders refused."""

from __future__ import annotations

import csv
import hashlib
import io
import tarfile

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from PIL import Image

from tests.helpers.engine import t2d
from transforms2d import Transforms2D
from transforms2d.data.export import export, to_uint8
from transforms2d.errors import ConfigError


@pytest.fixture(scope="module")
def ds():
    return Transforms2D(objects=3, transforms="rotate,hue", n=30, image_size=16, seed=4)


def expected(ds) -> np.ndarray:
    return to_uint8(ds.render(torch.arange(len(ds)))[0])


def digest(folder) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + p.read_bytes())
    return h.hexdigest()


def read_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.mark.parametrize("fmt", ["folder", "webdataset", "parquet"])
def test_every_format_reads_back_to_the_dataset_and_is_deterministic(ds, tmp_path, fmt):
    out = export(ds, tmp_path / "a", fmt, shard_size=12)
    want, labels = expected(ds), ds.render(torch.arange(len(ds)))[1].tolist()
    if fmt == "folder":
        rows = list(csv.DictReader((out / "labels.csv").open()))
        got = [np.asarray(Image.open(out / r["file"]).convert("RGB")) for r in rows]
        got_labels = [int(r["label"]) for r in rows]
    elif fmt == "webdataset":
        shards = sorted(out.glob("shard-*.tar"))
        assert len(shards) == 3  # 30 samples, 12 per shard
        got, got_labels = [], []
        for shard in shards:
            with tarfile.open(shard) as tar:
                for m in tar.getmembers():
                    data = tar.extractfile(m).read()
                    if m.name.endswith(".png"):
                        got.append(read_png(data))
                    else:
                        got_labels.append(int(data))
    else:
        table = pq.read_table(out / "data.parquet").to_pydict()
        got, got_labels = [read_png(b) for b in table["png"]], table["label"]
    assert np.array_equal(np.stack(got), want)
    assert got_labels == labels
    assert '"transforms"' in (out / "spec.json").read_text()
    again = export(ds, tmp_path / "b", fmt, shard_size=12)
    assert digest(out) == digest(again)


def test_bad_outputs_and_formats(ds, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("mine")
    with pytest.raises(ConfigError, match="holds other data"):
        export(ds, tmp_path / "full", "folder")
    with pytest.raises(ConfigError, match="Unknown export format 'zip'"):
        export(ds, tmp_path / "new", "zip")
    try:
        import datasets  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match=r"transforms2d\[hf\]"):
            export(ds, tmp_path / "new", "hf")
    assert not (tmp_path / "new").exists()


def test_t2d_export_cli_reports_size_and_speed(tmp_path):
    res = t2d("export", str(tmp_path / "e"), "--objects", "3", "--n", "20", "--image-size",
              "16", "--format", "webdataset", timeout=120)
    assert res.returncode == 0, res.stderr
    assert "wrote 20 images" in res.stdout and "images/s" in res.stdout
    bad = t2d("export", str(tmp_path / "e"), "--n", "20", timeout=120)
    assert bad.returncode == 2 and "holds other data" in bad.stderr


def test_hugging_face_format_reads_back(ds, tmp_path):
    datasets = pytest.importorskip("datasets")  # the hub/hf extra (installed by make)
    out = export(ds, tmp_path / "hf", "hf")
    back = datasets.load_from_disk(str(out / "hf"))
    assert len(back.features["label"].names) == ds.num_classes
    got = np.stack([np.asarray(im.convert("RGB")) for im in back["image"]])
    assert np.array_equal(got, expected(ds))
    assert back["label"] == ds.render(torch.arange(len(ds)))[1].tolist()
