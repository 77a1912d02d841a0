"""Shared test set-up and fixtures.

Every experiment is registered (importing the study does it). Fixtures shared by several
folders live here; helpers that are plain functions live in :mod:`tests.helpers`.
"""

from __future__ import annotations

import os

import pytest

import transforms2d.study  # noqa: F401  (registers demo and e1-e4 with the engine)
from tests.helpers import torch_threads
from tests.helpers.cifar import write_cifar
from tests.helpers.engine import SMOKE, t2d


def pytest_configure(config):
    """Under pytest-xdist the worker processes already occupy the cores: one torch thread
    each. Two OpenMP threads per worker on a 2-core machine spin-wait on each other (measured
    10-100x slower: a 0.2 s gradcheck took 30 s). Subprocesses started by tests keep torch's
    default."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)


# The tiny task most tests train or measure on: few classes, 16 px (a convnet_xs learns it in
# seconds on a CPU).
TINY = dict(objects=4, image_size=16)


@pytest.fixture(scope="session")
def runner():
    """A Typer ``CliRunner`` for in-process ``t2d`` commands (``runner.invoke(app, args)``)."""
    from typer.testing import CliRunner

    return CliRunner()


@pytest.fixture
def one_thread():
    """One torch thread for the test, restored after (see :func:`tests.helpers.torch_threads`:
    on a loaded 2-core machine two threads can stall each other in spin waits)."""
    with torch_threads(1):
        yield


@pytest.fixture
def empty_cifar(monkeypatch, tmp_path_factory):
    """No CIFAR anywhere: ``T2D_CIFAR_ROOT`` and ``T2D_CACHE`` point at empty folders (outside
    the test's ``tmp_path``) and the decoded CIFAR tensors kept in memory are dropped (before
    and after), so a CIFAR in the user's cache cannot change a grid or a test. Returns the
    empty CIFAR root."""
    from transforms2d.assets import cifar, cifar_backgrounds

    empty = tmp_path_factory.mktemp("no-cifar")
    monkeypatch.setenv("T2D_CIFAR_ROOT", str(empty))
    monkeypatch.setenv("T2D_CACHE", str(tmp_path_factory.mktemp("no-cache")))
    cifar.clear_cache()
    cifar_backgrounds.clear_cache()
    yield empty
    cifar.clear_cache()
    cifar_backgrounds.clear_cache()


@pytest.fixture(scope="session")
def tiny_data():
    """``tiny_data(**kw)``: a :class:`Transforms2D` of the tiny task (4 objects, 16 px) with
    ``kw`` on top (e.g. ``n``, ``transforms``, ``split``, ``seed``, or other ``objects``)."""
    from transforms2d import Transforms2D

    def make(**kw):
        return Transforms2D(**{**TINY, **kw})
    return make


@pytest.fixture(scope="session")
def tiny_dataset(tiny_data):
    """The tiny task's rotated test split: 4 classes, 64 samples, 16 px (read-only: share)."""
    return tiny_data(n=64, transforms=["rotate"], split="test")


@pytest.fixture(scope="session")
def tiny_model():
    """``tiny_model(num_classes=4, seed=0, name="convnet_xs")``: a fresh model initialised
    after ``torch.manual_seed(seed)`` (the same seed gives the same weights)."""
    import torch

    from transforms2d.models import create_model

    def make(num_classes: int = 4, seed: int = 0, name: str = "convnet_xs", **kw):
        torch.manual_seed(seed)
        return create_model(name, num_classes=num_classes, **kw)
    return make


@pytest.fixture(scope="session")
def cifar_root(tmp_path_factory):
    """Small extracted archives: CIFAR-10 with 20 train (18 train + 2 val) and 10 test images
    per class, CIFAR-100 with 10 and 2 (:func:`tests.helpers.cifar.write_cifar`)."""
    path = tmp_path_factory.mktemp("cifar")
    write_cifar(path, "cifar10")
    write_cifar(path, "cifar100", per_class=10, per_class_test=2)
    return path


@pytest.fixture(scope="session")
def cifar_archives(tmp_path_factory):
    """Both datasets, extracted, at the study's smoke sizes: CIFAR-10 with 22 train + 2 val +
    10 test images per class, CIFAR-100 with 9 + 1 + 2."""
    path = tmp_path_factory.mktemp("cifar-study")
    write_cifar(path, "cifar10", per_class=24, per_class_test=10)
    write_cifar(path, "cifar100", per_class=10, per_class_test=2)
    return path


@pytest.fixture
def with_cifar(monkeypatch, empty_cifar, cifar_archives):
    """``T2D_CIFAR_ROOT`` pointed at :func:`cifar_archives` (otherwise as ``empty_cifar``)."""
    monkeypatch.setenv("T2D_CIFAR_ROOT", str(cifar_archives))
    return cifar_archives


@pytest.fixture(scope="session")
def demo_reference(tmp_path_factory):
    """`t2d run demo --profile smoke --seeds 1`, uninterrupted, in a real subprocess (the
    reference bytes that reruns, edits and killed runs are compared with; once per process)."""
    out = tmp_path_factory.mktemp("ref") / "demo"
    proc = t2d("run", "demo", *SMOKE, "--out", str(out))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return out
