"""CIFAR loaders on small archives built in the exact python-pickle format
(:mod:`tests.helpers.cifar`), and ``cifar_available``.

The download path runs with ``urllib.request.urlopen`` replaced by a function serving the
archive's bytes.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
import urllib.error

import numpy as np
import pytest
import torch

from tests.helpers import one_line
from tests.helpers.cifar import (
    C10_NAMES,
    C100_NAMES,
    PER_BATCH,
    archive_bytes,
    as_row,
    dump,
    known_image,
    make_folder,
    put_archive,
)
from transforms2d.assets import cifar, cifar_available
from transforms2d.assets.cifar import CifarData, class_subset, load_cifar
from transforms2d.errors import ConfigError


@pytest.fixture(autouse=True)
def _fresh(monkeypatch, empty_cifar):
    """No CIFAR root set, an empty cache and no decoded tensors in memory."""
    monkeypatch.delenv("T2D_CIFAR_ROOT", raising=False)


def check(data: CifarData, expected, names, name: str, split: str) -> None:
    rows, labels = expected[split]
    assert data.name == name and data.split == split and len(data) == len(rows)
    assert data.images.dtype == torch.uint8 and data.images.shape == (len(rows), 3, 32, 32)
    assert data.labels.dtype == torch.int64 and data.labels.tolist() == labels
    assert data.class_names == tuple(names)
    assert np.array_equal(data.images.reshape(len(rows), -1).numpy(), rows)


# --------------------------------------------------------------------------- loading
@pytest.mark.parametrize("name,names", [("cifar10", C10_NAMES), ("cifar100", C100_NAMES)])
def test_load_from_folder(tmp_path, name, names):
    expected = make_folder(tmp_path, name)
    for split in ("train", "test"):
        check(load_cifar(name, split, root=tmp_path), expected, names, name, split)
    n_train = PER_BATCH * len(cifar.FORMATS[name].splits["train"])
    assert len(load_cifar(name, "train", root=tmp_path)) == n_train


def test_pixel_layout_round_trips(tmp_path):
    make_folder(tmp_path, "cifar10")
    img = load_cifar("cifar10", "train", root=tmp_path).images[PER_BATCH]  # batch 2, row 0
    assert torch.equal(img, torch.from_numpy(known_image()))
    row = as_row(known_image())
    assert img[1, 5, 7] == row[1024 + 5 * 32 + 7] and img[2, 31, 0] == row[2048 + 31 * 32]


def test_cifar100_uses_fine_labels(tmp_path):
    make_folder(tmp_path, "cifar100")
    path = tmp_path / "cifar-100-python" / "test"
    with open(path, "rb") as f:
        raw = pickle.load(f, encoding="bytes")
    data = load_cifar("cifar100", "test", root=tmp_path)
    assert data.labels.tolist() == raw[b"fine_labels"] != raw[b"coarse_labels"]


def test_str_keys_load_too(tmp_path):
    expected = make_folder(tmp_path, "cifar10", str_keys=True)
    check(load_cifar("cifar10", "test", root=tmp_path), expected, C10_NAMES, "cifar10", "test")


def test_root_is_the_folder_itself_and_env_var(tmp_path, monkeypatch):
    expected = make_folder(tmp_path, "cifar100")
    folder = tmp_path / "cifar-100-python"
    check(load_cifar("cifar100", "train", root=folder), expected, C100_NAMES, "cifar100",
          "train")
    renamed = tmp_path / "my_copy"
    folder.rename(renamed)  # recognised by its files, not only by its name
    check(load_cifar("cifar100", "test", root=renamed), expected, C100_NAMES, "cifar100", "test")
    monkeypatch.setenv("T2D_CIFAR_ROOT", str(renamed))
    check(load_cifar("cifar100", "test"), expected, C100_NAMES, "cifar100", "test")


def test_default_root_honours_env(tmp_path, monkeypatch):
    monkeypatch.setenv("T2D_CACHE", str(tmp_path / "cache"))
    assert cifar.default_root() == tmp_path / "cache" / "cifar"
    monkeypatch.setenv("T2D_CIFAR_ROOT", str(tmp_path / "c"))
    assert cifar.default_root() == tmp_path / "c"


def test_load_from_archive_and_cache(tmp_path, monkeypatch):
    data = archive_bytes(tmp_path, "cifar10")
    root = tmp_path / "root"
    put_archive(root, "cifar10", data, monkeypatch)
    first = load_cifar("cifar10", "train", root=root)
    assert (root / "cifar-10-batches-py" / "data_batch_5").is_file()
    assert sorted(p.name for p in root.iterdir()) == ["cifar-10-batches-py",
                                                      "cifar-10-python.tar.gz"]
    assert load_cifar("cifar10", "train", root=str(root)) is first  # cached in memory
    assert load_cifar("cifar10", "test", root=root / "cifar-10-python.tar.gz").split == "test"
    (root / "cifar-10-python.tar.gz").unlink()
    cifar.clear_cache()
    assert torch.equal(load_cifar("cifar10", "train", root=root).images, first.images)


def test_class_subset():
    labels = torch.tensor([0, 3, 1, 3, 7, 1])
    images = torch.arange(6, dtype=torch.uint8).view(6, 1, 1, 1).expand(6, 3, 32, 32)
    data = CifarData(images, labels, tuple(C10_NAMES), "cifar10", "test")
    sub = class_subset(data, [3, 1])
    assert sub.labels.tolist() == [0, 1, 0, 1] and sub.class_names == ("cat", "automobile")
    assert sub.images[:, 0, 0, 0].tolist() == [1, 2, 3, 5] and sub.images.shape[1:] == (3, 32, 32)
    assert class_subset(data, [np.int64(7)]).labels.tolist() == [0]
    for bad, part in [([10], "out of range"), ([-1], "out of range"), ([1, 1], "twice"),
                      ([], "Empty"), ([1.0], "out of range")]:
        with pytest.raises(ConfigError) as e:
            class_subset(data, bad)
        one_line(e, part)


# --------------------------------------------------------------------------- download
def fake_urlopen(payload: bytes, calls: list):
    def urlopen(url, timeout=None):
        calls.append(url)
        return io.BytesIO(payload)
    return urlopen


def test_download(tmp_path, monkeypatch):
    data = archive_bytes(tmp_path, "cifar100")
    monkeypatch.setitem(cifar.MD5, "cifar100", hashlib.md5(data).hexdigest())
    calls: list = []
    monkeypatch.setattr(cifar.urllib.request, "urlopen", fake_urlopen(data, calls))
    root = tmp_path / "new" / "root"
    got = load_cifar("cifar100", "train", root=root, download=True)
    assert calls == ["https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"]
    assert len(got) == PER_BATCH and got.class_names == tuple(C100_NAMES)
    assert (root / "cifar-100-python.tar.gz").read_bytes() == data
    assert not [p for p in root.iterdir() if p.name.startswith(".")]  # no temp files left
    load_cifar("cifar100", "test", root=root, download=True)
    assert len(calls) == 1  # present: no second download


def test_download_checksum_mismatch(tmp_path, monkeypatch):
    bad = b"not the archive"
    monkeypatch.setattr(cifar.urllib.request, "urlopen", fake_urlopen(bad, []))
    with pytest.raises(ConfigError) as e:
        load_cifar("cifar10", "train", root=tmp_path, download=True)
    one_line(e, "c58f30108f718f92721af3b95e74349a", hashlib.md5(bad).hexdigest(), "delete")


def test_download_network_error(tmp_path, monkeypatch):
    def urlopen(url, timeout=None):
        raise urllib.error.URLError("Name or service not known")
    monkeypatch.setattr(cifar.urllib.request, "urlopen", urlopen)
    with pytest.raises(ConfigError) as e:
        load_cifar("cifar10", "test", root=tmp_path, download=True)
    one_line(e, "Could not download", "Name or service not known")
    assert list(tmp_path.iterdir()) == []  # nothing half-written


# --------------------------------------------------------------------------- discovery
def test_cifar_available(tmp_path, monkeypatch, cifar_archives, empty_cifar):
    monkeypatch.setenv("T2D_CIFAR_ROOT", str(empty_cifar))  # an empty root: nothing found
    assert not cifar_available("cifar10") and not cifar_available("cifar100")
    assert cifar_available("cifar10", cifar_archives)
    assert cifar_available("cifar100", cifar_archives)
    assert cifar_available("cifar10", cifar_archives / "cifar-10-batches-py")  # the folder itself
    assert not cifar_available("cifar100", cifar_archives / "cifar-10-batches-py")
    monkeypatch.setenv("T2D_CIFAR_ROOT", str(cifar_archives))
    assert cifar_available("cifar10") and cifar_available("cifar100")
    # an archive counts without being opened; an incomplete folder does not
    arch = tmp_path / "arch"
    arch.mkdir()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(cifar_archives / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    (arch / "cifar-10-python.tar.gz").write_bytes(buf.getvalue())
    assert cifar_available("cifar10", arch) and not cifar_available("cifar100", arch)
    assert not (arch / "cifar-10-batches-py").exists()  # nothing extracted
    part = tmp_path / "part" / "cifar-10-batches-py"
    part.mkdir(parents=True)
    (part / "data_batch_1").write_bytes((cifar_archives / "cifar-10-batches-py/data_batch_1")
                                        .read_bytes())
    assert not cifar_available("cifar10", part.parent)
    with pytest.raises(ConfigError, match="cifar10"):
        cifar_available("svhn")


# --------------------------------------------------------------------------- bad input
def test_unknown_name_split_and_missing_data(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_cifar("cifar1O", "train", root=tmp_path)
    one_line(e, "cifar1O", "cifar10")
    with pytest.raises(ConfigError) as e:
        load_cifar("cifar10", "val", root=tmp_path)
    one_line(e, "val", "train, test")
    with pytest.raises(ConfigError) as e:
        load_cifar("cifar10", "train", root=tmp_path)
    one_line(e, "not found", "root=", "T2D_CIFAR_ROOT", "download=True")


def test_checksum_mismatch_of_local_archive(tmp_path, monkeypatch):
    put_archive(tmp_path, "cifar10", archive_bytes(tmp_path / "b", "cifar10"), monkeypatch,
                trust=False)
    with pytest.raises(ConfigError) as e:
        load_cifar("cifar10", "train", root=tmp_path)
    one_line(e, "Checksum mismatch", "expected MD5 c58f", "got", "delete the file")


@pytest.mark.parametrize("cut", ["truncated", "garbage", "gzip_only"])
def test_corrupt_archive(tmp_path, monkeypatch, cut):
    data = archive_bytes(tmp_path / "b", "cifar10")
    bad = {"truncated": data[: len(data) // 2], "garbage": b"\x00" * 500,
           "gzip_only": data[:20]}[cut]
    put_archive(tmp_path, "cifar10", bad, monkeypatch)
    with pytest.raises(ConfigError) as e:
        load_cifar("cifar10", "test", root=tmp_path)
    one_line(e, "corrupt or truncated", "delete it")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "cifar-10-python.tar.gz"]


@pytest.mark.parametrize("member", ["../evil", "/abs/evil", "cifar-10-batches-py/../../x",
                                    "link"])
def test_unsafe_archive_member(tmp_path, monkeypatch, member):
    info = tarfile.TarInfo(member)
    info.size = 3
    if member == "link":
        info.type, info.linkname, info.size = tarfile.SYMTYPE, "/etc/passwd", 0
    put_archive(tmp_path, "cifar10", archive_bytes(tmp_path / "b", "cifar10", info),
                monkeypatch)
    with pytest.raises(ConfigError) as e:
        load_cifar("cifar10", "test", root=tmp_path)
    one_line(e, "refusing to extract")
    assert not (tmp_path / "cifar-10-batches-py").exists()
    assert not (tmp_path.parent / "evil").exists()


def test_archive_with_wrong_top_folder(tmp_path, monkeypatch):
    put_archive(tmp_path, "cifar100", archive_bytes(tmp_path / "b", "cifar10"), monkeypatch)
    with pytest.raises(ConfigError) as e:
        load_cifar("cifar100", "test", root=tmp_path)
    one_line(e, "no top folder cifar-100-python/", "cifar-10-batches-py")


def test_folder_missing_a_batch(tmp_path, monkeypatch):
    make_folder(tmp_path, "cifar10")
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(ConfigError) as e:
        load_cifar("cifar10", "test", root=tmp_path)
    one_line(e, "lacks data_batch_3")


@pytest.mark.parametrize("damage,part", [
    ("no_labels", "lacks key(s) labels"),
    ("no_data", "lacks key(s) data"),
    ("shape", "expected uint8 of shape (N, 3072)"),
    ("dtype", "expected uint8 of shape (N, 3072)"),
    ("label_count", "expected 3 integer labels"),
    ("label_range", "labels outside 0..9"),
    ("not_dict", "expected a dict"),
    ("not_pickle", "not a valid CIFAR pickle"),
    ("evil_pickle", "not a valid CIFAR pickle"),
    ("meta_names", "expected 10"),
])
def test_bad_pickles(tmp_path, damage, part):
    make_folder(tmp_path, "cifar10")
    folder = tmp_path / "cifar-10-batches-py"
    path = folder / "test_batch"
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    if damage == "no_labels":
        del batch[b"labels"]
    elif damage == "no_data":
        del batch[b"data"]
    elif damage == "shape":
        batch[b"data"] = batch[b"data"].reshape(PER_BATCH, 3, 32, 32)
    elif damage == "dtype":
        batch[b"data"] = batch[b"data"].astype(np.float32)
    elif damage == "label_count":
        batch[b"labels"] = batch[b"labels"][:-1]
    elif damage == "label_range":
        batch[b"labels"][0] = 10
    elif damage == "not_dict":
        batch = [1, 2]
    elif damage == "meta_names":
        path, batch = folder / "batches.meta", {b"label_names": [b"a", b"b"]}
    dump(path, batch)
    if damage == "not_pickle":
        path.write_bytes(path.read_bytes()[:40])
    elif damage == "evil_pickle":
        path.write_bytes(pickle.dumps(print))  # a global outside the allow-list
    with pytest.raises(ConfigError) as e:
        load_cifar("cifar10", "test", root=tmp_path)
    one_line(e, part)
