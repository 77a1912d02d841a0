"""What the experiments' aggregations share (``transforms2d.study.common``): the figure of the
effects against training budget, on complete, partial and empty budget tables, and every
experiment's aggregate before its runs are done (``t2d report`` on a folder in progress)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from matplotlib.figure import Figure

from tests.helpers import study as fake
from transforms2d.engine import EXPERIMENTS, spec_hash
from transforms2d.reporting.report import check_outputs
from transforms2d.study import e1 as e1_mod
from transforms2d.study.common import budget_figure


def test_budget_figure_draws_each_effect_and_the_lowest_accuracy():
    budget = pd.DataFrame({"epochs": [1, 2, 4], "gap": [0.05, 0.1, 0.12],
                           "other": [math.nan, 0.02, 0.03], "min_train_acc": [0.5, 0.8, 0.97]})
    fig = budget_figure(budget, "E9", "effect", {"gap": 0.13})
    assert isinstance(fig, Figure)
    effects, acc = fig.axes
    lines = {line.get_label(): line for line in effects.get_lines()}
    assert [k for k in lines if not k.startswith("_")] == ["gap", "other"]
    assert list(lines["other"].get_xdata()) == [2, 4]  # the NaN budget is left out
    dashed = [line for line in effects.get_lines() if line.get_linestyle() == "--"]
    assert [list(line.get_ydata()) for line in dashed] == [[0.13, 0.13]]  # gap's reference
    assert effects.get_xscale() == acc.get_xscale() == "log"
    assert list(acc.get_lines()[0].get_ydata()) == [0.5, 0.8, 0.97]
    assert "E9" in fig._suptitle.get_text()


@pytest.mark.parametrize("budget", [
    pd.DataFrame(columns=["epochs", "min_train_acc"]),  # no budget run done
    pd.DataFrame({"epochs": [1, 2], "gap": [math.nan, math.nan],
                  "min_train_acc": [math.nan, math.nan]}),  # the claims' runs not done yet
], ids=["empty", "all-missing"])
def test_budget_figure_of_budgets_without_results(budget):
    assert isinstance(budget_figure(budget, "E9", "effect"), Figure)


@pytest.mark.parametrize("name", ["e1", "e2", "e3", "e4"])
@pytest.mark.parametrize("profile", ["smoke", "quick", "paper"])
def test_aggregate_without_done_runs(name, profile):
    out = check_outputs(EXPERIMENTS[name].aggregate_with([], profile), name)
    assert {c["verdict"] for c in out["claims"]} == {"not run"}


@pytest.mark.parametrize("name", ["e1", "e2", "e3", "e4"])
def test_aggregate_of_a_folder_whose_profile_the_experiment_does_not_know(name):
    out = check_outputs(EXPERIMENTS[name].aggregate_with([], "from-a-newer-version"), name)
    assert {c["verdict"] for c in out["claims"]} == {"not run"}
    assert "profile is unknown to this experiment (no numbers)" in out["markdown"]


def test_e1_aggregate_before_the_claims_runs_are_done():
    """Only the architecture axis' other models are done: no claim has its runs, the budget
    table has no value; the report is still written."""
    z, out = e1_mod.SIZES["smoke"], {}
    for c in e1_mod.cells(e1_mod.SIZES["smoke"], 3):
        if c.axis == "architecture" and c.value != z.model:
            out[spec_hash(c.spec)] = {"hash": spec_hash(c.spec), "spec": c.spec, "result": {
                "pretrain": fake.pretrain(), "probes": {p.name: fake.probe(0.8)
                                                        for p in c.spec.probes}}}
    res = check_outputs(e1_mod.aggregate(list(out.values()), e1_mod.SIZES["smoke"]), "e1")
    assert res["tables"]["e1_budget"]["C1 gap"].isna().all()
    assert "e1_budget" in res["figures"]
