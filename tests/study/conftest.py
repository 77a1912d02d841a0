"""The study's grids depend on whether CIFAR is found: every test here starts without it."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_cifar(empty_cifar):
    """An empty CIFAR root: a CIFAR in the user's cache would add the CIFAR cells."""
    return empty_cifar
