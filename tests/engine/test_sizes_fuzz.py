"""Sizes typed at the boundary: every size ``--set`` may change, of every experiment's sizes
class, is parsed by its declared type and checked against its declared range before any run
folder is written (:mod:`transforms2d.engine.overrides`).

Properties, for every registered experiment with a size table and every overridable key
(nested ones as ``field.size``):

- each profile's own value has the declared type and range, and renders to ``--set`` text that
  parses back to it;
- malformed text of each kind (a word for a number, a float for an int, non-finite numbers,
  out of range, an unknown name, an empty or extra list item, a malformed pair) and malformed
  typed values (as ``experiment.json`` would hold them) are a one-line ConfigError naming the
  key and its declared type and range;
- valid values of each type, generated within the declared range, round-trip through the
  ``--set`` text and through JSON;
- through ``t2d run``: a malformed value of every key exits 2 with one ``Error:`` line on
  stderr, no traceback, and no output folder.

Cases (Hypothesis, derandomized; 99 keys: demo 12, e1 37, e2 18, e3 16, e4 16): up to 30
malformed texts and 15 valid values per key (fewer where the type has fewer, e.g. a bool),
about 10 malformed typed values per key, one ``t2d run`` per key in-process and one as a
subprocess.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import typing
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.fuzz import FUZZ, config_error
from transforms2d.cli import app
from transforms2d.engine import EXPERIMENTS
from transforms2d.engine.overrides import (
    choices_of,
    coerce,
    describe,
    in_range,
    is_group,
    is_list,
    item_types,
    parse,
    render,
    resolve,
    settable,
    split_optional,
)
from transforms2d.errors import ConfigError
from transforms2d.study.e1 import CIFAR_SIZES
from transforms2d.study.e1 import SIZES as E1_SIZES

TABLES = {name: exp for name, exp in EXPERIMENTS.items() if exp.sizes is not None}
KEYS = [(name, key) for name, exp in TABLES.items()
        for key, (hint, _) in settable(type(exp.sizes["smoke"])).items() if not is_group(hint)]
WORDS = ["x", "two", "", "nan", "inf", "-inf", "1e999", "0x10", "[1]", "1 2"]  # never numbers


def field(name: str, key: str) -> tuple[Any, dict]:
    hint, meta = settable(type(TABLES[name].sizes["smoke"]))[key]
    return hint, dict(meta)


def bad_leaves(hint: Any, meta: dict) -> st.SearchStrategy[str]:
    """Text that is no valid value of the scalar type ``hint`` within ``meta``'s range."""
    if hint is bool:
        return st.sampled_from(["maybe", "2", "", "-1", "truth"])
    if hint is str:
        choices = choices_of(meta)
        names = st.text(st.characters(exclude_characters=",:"), max_size=6).filter(
            lambda t: t.strip().lower() != "none" and (choices is None and not t.strip()
                                                       or choices is not None
                                                       and t.strip() not in choices))
        return st.one_of(st.sampled_from(["", "nope"] if choices else [""]), names)
    out = [st.sampled_from(WORDS + (["2.5", "1e3", "true", "-0.5"] if hint is int else []))]
    lo, hi, above = meta.get("min"), meta.get("max"), meta.get("above")
    if hint is int and lo is not None:
        out.append(st.integers(max_value=lo - 1).map(str))
    if hint is int and hi is not None:
        out.append(st.integers(min_value=hi + 1).map(str))
    if hint is float and lo is not None:
        out.append(st.floats(max_value=lo, exclude_max=True, allow_nan=False,
                             allow_infinity=False).map(repr))
    if hint is float and hi is not None:
        out.append(st.floats(min_value=hi, exclude_min=True, allow_nan=False,
                             allow_infinity=False).map(repr))
    if above is not None:
        out.append(st.floats(max_value=above, allow_nan=False, allow_infinity=False).map(repr))
    return st.one_of(out)


def malformed(hint: Any, meta: dict) -> st.SearchStrategy[str]:
    """Malformed ``--set`` text for a field of declared type ``hint``."""
    optional, hint = split_optional(hint)
    if is_list(hint):
        item = typing.get_args(hint)[0]
        good = valid(item, meta).map(render_item)
        bad = malformed_item(item, meta)
        return st.one_of(st.tuples(good, bad).map(",".join), st.tuples(bad, good).map(",".join),
                         good.map(lambda g: f"{g},,{g}"), good.map(lambda g: f"{g},"))
    bad = bad_leaves(hint, meta)
    return bad.filter(lambda t: t.strip().lower() != "none") if optional else bad


def malformed_item(item: Any, meta: dict) -> st.SearchStrategy[str]:
    """A malformed item of a list: a bad scalar, or a pair with a part missing, one too many or
    one bad."""
    kinds = item_types(item)
    if kinds is None:
        return bad_leaves(item, meta).filter(lambda t: "," not in t)
    parts = [valid(k, meta).map(render) for k in kinds]
    bad = [bad_leaves(k, meta).filter(lambda t: "," not in t and ":" not in t) for k in kinds]
    return st.one_of(st.tuples(*parts[:-1]).map(":".join),
                     st.tuples(*parts, parts[-1]).map(":".join),
                     *(st.tuples(*parts[:i], bad[i], *parts[i + 1:]).map(":".join)
                       for i in range(len(kinds))))


def render_item(value: Any) -> str:
    return render(value, depth=1)


def valid(hint: Any, meta: dict) -> st.SearchStrategy[Any]:
    """Values of ``hint`` within ``meta``'s range."""
    optional, hint = split_optional(hint)
    base = _valid(hint, meta)
    return st.one_of(st.none(), base) if optional else base


def _valid(hint: Any, meta: dict) -> st.SearchStrategy[Any]:
    if is_list(hint):
        return st.lists(valid(typing.get_args(hint)[0], meta), max_size=4).map(tuple)
    kinds = item_types(hint)
    if typing.get_origin(hint) is dict:
        return st.dictionaries(valid(kinds[0], meta), valid(kinds[1], meta), max_size=3)
    if kinds is not None:
        return st.tuples(*(valid(k, meta) for k in kinds))
    if hint is bool:
        return st.booleans()
    if hint is str:
        choices = choices_of(meta)
        return st.sampled_from(sorted(choices)) if choices else st.sampled_from(["a", "b_1"])
    lo, hi = meta.get("min"), meta.get("max")
    if hint is int:
        lo = lo if lo is not None else (meta["above"] + 1 if "above" in meta else -10 ** 6)
        return st.integers(lo, hi if hi is not None else lo + 10 ** 6)
    return st.floats(lo if lo is not None else meta.get("above", -1e6),
                     hi if hi is not None else 1e6, exclude_min="above" in meta,
                     allow_nan=False, allow_infinity=False)


def refused(name: str, key: str, raw: Any) -> str:
    """The one-line error of ``--set key=raw`` on ``name``'s smoke profile; it names the key and
    its declared type and range."""
    hint, meta = field(name, key)
    with pytest.raises(ConfigError) as info:
        resolve(TABLES[name].sizes, "smoke", {key: raw}, name)
    msg = config_error(info.value, [f"{key} takes {describe(hint, meta)}"])
    assert msg.startswith(f"--set {key}="), msg
    return msg


# --------------------------------------------------------------------------- the tables
@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_profile_has_its_declared_types_and_ranges(name):
    for profile, sizes in TABLES[name].sizes.items():
        assert sizes.profile == profile
        for key, (hint, meta) in settable(type(sizes)).items():
            value = sizes
            for part in key.split("."):
                value = getattr(value, part)
            if is_group(hint):
                assert isinstance(value, hint), (profile, key)
                continue
            assert coerce(value, hint) == value and in_range(value, meta), (profile, key, value)
            assert parse(render(value), hint) == value, (profile, key, value)


def test_e1_cifar_sizes_are_a_field_with_the_cifar_tables_values():
    assert all(E1_SIZES[p].cifar == CIFAR_SIZES[p] for p in CIFAR_SIZES)
    assert set(E1_SIZES) == set(CIFAR_SIZES)
    exp = EXPERIMENTS["e1"]
    sizes = exp.sizes_for("smoke", {"cifar.epochs": "3", "finetune.epochs": "2"})
    assert sizes.cifar.epochs == 3 and sizes.epochs == E1_SIZES["smoke"].epochs
    assert sizes.finetune.epochs == 2 and E1_SIZES["smoke"].cifar.epochs == 1
    from transforms2d.study.e1 import grid

    cifar = [c for c in grid.cells(sizes, 1, ("cifar10",)) if ":" in c.axis]
    assert cifar and {c.spec.train["epochs"] for c in cifar} == {3}
    ft = [p for c in grid.cells(sizes, 1, ()) for p in c.spec.probes if p.finetune]
    assert ft and {p.finetune["epochs"] for p in ft} == {2}


# --------------------------------------------------------------------------- malformed
@pytest.mark.parametrize("name, key", KEYS)
def test_malformed_text_is_a_one_line_error_naming_the_field_and_type(name, key):
    hint, meta = field(name, key)

    @settings(FUZZ, max_examples=30)
    @given(malformed(hint, meta))
    def prop(text):
        refused(name, key, text)

    prop()


def bad_typed(hint: Any) -> list[Any]:
    """Typed values (JSON data, as ``experiment.json`` holds them) that are no value of
    ``hint``: the wrong type, a bool for a number, NaN, a list of bad items, a pair with a part
    missing, one too many or in the wrong order."""
    optional, hint = split_optional(hint)
    out = [{"a": 1}, [{"a": 1}]] + ([] if optional else [None]) + [True] * (hint is not bool)
    if is_list(hint):
        item = typing.get_args(hint)[0]
        return out + ["x" * 3] * (item is not str) + [[x] for x in bad_typed(item)
                                                      if x is not None]
    if item_types(hint) is not None:
        return out + [["rand"], ["rand", 40, 1], [40, "rand"], 7]
    return out + [float("nan"), "x" * (hint is not str)] + ([2.5] if hint is not float else []) \
        + ([1] if hint in (bool, str) else [])


@pytest.mark.parametrize("name, key", KEYS)
def test_malformed_typed_values_are_one_line_errors(name, key):
    hint, _ = field(name, key)
    for value in bad_typed(hint):
        refused(name, key, value)


def test_the_issues_cases_are_one_line_errors():
    assert refused("e3", "kind_epochs", "rand,40") == (
        "--set kind_epochs=rand,40: kind_epochs takes a comma list of text:int pairs (text one "
        "of img, rand; int >= 1), e.g. kind_epochs=rand:200.")
    assert refused("e2", "n_translated", "2.5") == (
        "--set n_translated=2.5: n_translated takes an int >= 1 or none, e.g. "
        "n_translated=24000.")
    assert refused("e2", "image_size", "-3") == (
        "--set image_size=-3: image_size takes an int in [8, 4096], e.g. image_size=16.")
    for text in ("rand:40:1", "rand:", ":40", "rand:x", "foo:40", "rand:0", "rand:2.5"):
        refused("e3", "kind_epochs", text)


# --------------------------------------------------------------------------- valid
@pytest.mark.parametrize("name, key", KEYS)
def test_valid_values_round_trip_through_text_and_json(name, key):
    hint, meta = field(name, key)
    exp = TABLES[name]

    @settings(FUZZ, max_examples=15)
    @given(valid(hint, meta))
    def prop(value):
        typed = exp.resolve("smoke", {key: render(value)})[key]
        assert typed == value
        recorded = json.loads(json.dumps({key: typed}))  # as experiment.json holds it
        assert exp.resolve("smoke", recorded) == {key: value}
        sizes = exp.sizes_for("smoke", {key: typed})
        got = sizes
        for part in key.split("."):
            got = getattr(got, part)
        assert got == value and exp.sizes["smoke"] is not sizes

    prop()


def test_valid_text_of_each_kind():
    e3 = TABLES["e3"]
    assert e3.resolve("smoke", {"kind_epochs": "rand:40,img:20"}) == {
        "kind_epochs": (("rand", 40), ("img", 20))}
    assert e3.resolve("smoke", {"kind_epochs": ""}) == {"kind_epochs": ()}
    assert e3.resolve("smoke", {"transforms": "none", "metrics": "l2, cka"}) == {
        "transforms": None, "metrics": ("l2", "cka")}
    e2 = TABLES["e2"]
    assert e2.resolve("smoke", {"budgets": "1,0.5", "stop_train_acc": "1", "keep": "None"}) == {
        "budgets": (1.0, 0.5), "stop_train_acc": 1.0, "keep": None}
    assert TABLES["e1"].resolve("smoke", {"equal_steps": "yes"}) == {"equal_steps": True}


@dataclasses.dataclass(frozen=True, kw_only=True)
class DictSizes:
    """A sizes class with a mapping field (no experiment has one yet)."""

    profile: str = dataclasses.field(metadata={"override": False})
    epochs_by_kind: dict[str, int] = dataclasses.field(metadata={"min": 1})


def test_a_dict_field_takes_key_value_items():
    table = {"p": DictSizes(profile="p", epochs_by_kind={"a": 3})}
    assert resolve(table, "p", {"epochs_by_kind": "a:1, b:2"}, "x") == {
        "epochs_by_kind": {"a": 1, "b": 2}}
    assert resolve(table, "p", {"epochs_by_kind": {"a": 4}}, "x") == {"epochs_by_kind": {"a": 4}}
    for bad in ("a:1,a:2", "a", "a:0", "a:1:2", "a:x", "a:1,"):
        with pytest.raises(ConfigError, match=r"epochs_by_kind takes a comma list of text:int "
                                              r"pairs \(int >= 1\), e\.g\. epochs_by_kind=a:3"):
            resolve(table, "p", {"epochs_by_kind": bad}, "x")


# --------------------------------------------------------------------------- profiles, CLI
def test_an_unknown_profile_is_refused_in_one_place_listing_the_known_ones(runner, tmp_path):
    want = "Unknown profile 'huge' for e1. Valid: paper, gpu, cpu, quick, smoke."
    for call in (lambda: EXPERIMENTS["e1"].sizes_for("huge"),
                 lambda: EXPERIMENTS["e1"].specs("huge", 1),
                 lambda: EXPERIMENTS["e1"].resolve("huge", {"epochs": "2"})):
        with pytest.raises(ConfigError) as info:
            call()
        assert str(info.value) == want
    res = runner.invoke(app, ["run", "e1", "--profile", "huge", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and res.stderr == f"Error: {want}\n"
    assert not (tmp_path / "o").exists()
    from transforms2d.engine.registry import Experiment

    with pytest.raises(ValueError, match="profile 'quick' has no sizes"):
        Experiment("x", lambda s, n: [], lambda r, s: {}, profiles=("quick",),
                   sizes={"smoke": E1_SIZES["smoke"]})


def first_malformed(name: str, key: str) -> str:
    hint, meta = field(name, key)
    optional, hint = split_optional(hint)
    if is_list(hint):
        return "a:b:c,,"
    return {bool: "maybe", str: "nope", int: "2.5", float: "x"}[hint]


def test_run_refuses_a_malformed_value_of_every_key_before_writing(runner, tmp_path):
    for i, (name, key) in enumerate(KEYS):
        out = tmp_path / str(i)
        text = first_malformed(name, key)
        res = runner.invoke(app, ["run", name, "--profile", "smoke", "--set", f"{key}={text}",
                                  "--out", str(out)])
        assert res.exit_code == 2, (name, key, res.output)
        assert "Traceback" not in res.output and res.stdout == "", res.output
        lines = res.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"Error: --set {key}={text}: {key} "
                                                       f"takes "), (name, key, lines)
        assert not out.exists(), (name, key)
    assert not list(tmp_path.iterdir())


def test_the_t2d_command_prints_one_line_for_kind_epochs_rand_40(tmp_path):
    out = tmp_path / "e3"
    proc = subprocess.run([sys.executable, "-m", "transforms2d", "run", "e3", "--profile",
                           "smoke", "--set", "kind_epochs=rand,40", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [
        "Error: --set kind_epochs=rand,40: kind_epochs takes a comma list of text:int pairs "
        "(text one of img, rand; int >= 1), e.g. kind_epochs=rand:200."]
    assert not out.exists()
