"""The rehearsal of the ``paper`` profile's E2-E4 end to end (E1: test_rehearsal.py)."""

from __future__ import annotations

import pytest

from tests.helpers.rehearsal import check_rehearsal, rehearse

pytestmark = pytest.mark.slow


def test_e2_to_e4_of_the_paper_profile_rehearse_end_to_end(tmp_path, with_cifar):
    """Every run kind of E2 (the scene stand-in and CIFAR-10 sources, object and background
    twins), E3 (invariance on every kind of domain, CIFAR included) and E4, and their reports."""
    out = tmp_path / "rehearsal"
    res = rehearse(out, "e2,e3,e4", with_cifar)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    specs = check_rehearsal(out, ["e2", "e3", "e4"])
    assert {t.twin_factor for s in specs["e2"] for t in s.invariance} == {"object", "background"}
    assert any(t.data.get("dataset") == "cifar" for s in specs["e3"] for t in s.invariance)
    assert {s.model for s in specs["e4"]} == {"resnet18"}
