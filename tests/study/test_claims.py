"""The claim registry (study/claims.py) is the one place a claim is stated: every claim the
committed reproductions judged is registered, under its experiment, with the same text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from transforms2d.study import get_experiment
from transforms2d.study.claims import CLAIMS, claims_of, register_claim

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ["docs/results-cpu-v2", "docs/results-quick"]


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_judged_claim_is_registered_with_its_text(folder):
    judged = json.loads((ROOT / folder / "claims.json").read_text())["claims"]
    assert {c["id"] for c in judged} == set(CLAIMS)
    for c in judged:
        info = CLAIMS[c["id"]]
        assert (c["experiment"], c["claim"]) == (info.experiment, info.text), c["id"]


def test_claims_are_listed_per_experiment_in_the_papers_order():
    assert [c.id for c in claims_of("e1")] == ["C1", "C2", "C3", "C4", "C5"]
    assert [c.id for c in claims_of("e2")] == ["C6", "C6α", "C6β"]


def test_a_claim_id_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        register_claim("C1", "e1", "again", "again", "again")


@pytest.mark.parametrize("name", ["e1", "e2", "e3", "e4"])
def test_each_experiment_judges_exactly_its_registered_claims(name):
    exp = get_experiment(name)
    judged = exp.aggregate_with([], "smoke")["claims"]  # no runs: every claim "not run"
    assert [(c["id"], c["claim"]) for c in judged] == [(c.id, c.text) for c in claims_of(name)]
