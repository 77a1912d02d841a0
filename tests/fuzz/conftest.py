"""Fixtures of the property-based tests (Hypothesis, derandomized, no example database):
an isolated working directory and caches.

Cases per module (each module's docstring splits them per test): test_fuzz_datasets 520,
test_fuzz_specs 408, test_fuzz_cli 470, test_fuzz_assets 290: 1,688 in all (each test
asserts that all of its cases ran; ``pytest -s`` prints ``fuzz NAME: N cases``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers.fuzz import listing, partial_files


@dataclass
class Sandbox:
    """Where a fuzz test may write: ``cases/<k>/`` (a fresh folder per case). The working
    directory and the caches must stay as they were, with no ``*.tmp`` anywhere."""

    cwd: Path
    cache: Path
    cifar: Path
    cases: Path
    _count: itertools.count = field(default_factory=itertools.count)

    def case_dir(self) -> Path:
        d = self.cases / str(next(self._count))
        d.mkdir(parents=True)
        return d

    def check(self, *also: Path) -> None:
        """The property every case ends with: nothing written outside the case folders."""
        assert listing(self.cwd) == set(), f"written in the working directory: {listing(self.cwd)}"
        assert listing(self.cache) == set(), f"written in the cache: {listing(self.cache)}"
        assert listing(self.cifar) == set(), f"written in the CIFAR root: {listing(self.cifar)}"
        assert not partial_files(self.cases, *also), partial_files(self.cases, *also)


@pytest.fixture
def sandbox(monkeypatch, tmp_path, empty_cifar) -> Sandbox:
    """An empty working directory, ``T2D_CACHE`` and ``T2D_CIFAR_ROOT`` pointed at empty
    folders (:func:`empty_cifar`), the Hugging Face libraries offline."""
    import os

    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.setenv(var, "1")
    return Sandbox(cwd=cwd, cache=Path(os.environ["T2D_CACHE"]), cifar=empty_cifar,
                   cases=tmp_path / "cases")
