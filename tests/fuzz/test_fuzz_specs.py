"""Fuzzing run specs: ``RunSpec.from_dict`` on mutated real specs, and hand-edited
``spec.json`` files of a real experiment folder read by ``RunStore.load_spec`` and by
``t2d run demo --profile smoke --seeds 1 --out F``.

The seeds are real specs (the first smoke spec of every registered experiment, plus a CIFAR
data dict, a fine-tuning probe and a ViT recipe); each case applies 1-3 mutations (drop a key,
add an unknown key, replace a value by garbage, change its type, put it out of range, NaN).

Property: a one-line ConfigError naming a key on a mutated path (or the edited file), or a
spec that survives ``to_dict`` / ``from_dict`` with the same hash; an edited ``spec.json`` is
refused before anything in the folder is touched (or, when the edit changes nothing after
normalisation, the run is reused); never another exception, nothing written outside the
folder, no ``*.tmp`` file.

Cases (Hypothesis, derandomized): 300 mutated dicts through ``from_dict``, 100 edited
``spec.json`` files through ``load_spec``, 8 edited folders through ``t2d run`` (in-process
``CliRunner``; the folder is computed once per session by the ``demo_reference`` fixture):
408 in all.
"""

from __future__ import annotations

import copy
import json
import math
import shutil

import pytest
from hypothesis import strategies as st

import transforms2d.study  # noqa: F401  (registers the experiments)
from tests.helpers.fuzz import (
    GARBAGE,
    INTS,
    cli_outcome,
    config_error,
    expect,
    listing,
    run_cases,
    text,
)
from transforms2d.cli import app
from transforms2d.engine import EXPERIMENTS, RunSpec, RunStore, canonical_json, spec_hash

SMOKE = ["--profile", "smoke", "--seeds", "1"]


def seed_specs() -> list[dict]:
    """Real specs as plain dicts: the first smoke spec of each experiment, and variants that
    reach the other branches (CIFAR data, fine-tuning, the ViT recipe, model settings)."""
    out = [exp.specs("smoke", 1)[0].to_dict() for exp in EXPERIMENTS.values()]
    demo = copy.deepcopy(out[0])
    demo["probes"][0]["train"] = {"dataset": "cifar", "name": "cifar10", "n": 100,
                                  "transforms": "rotate", "normalize": "half"}
    demo["probes"][0]["finetune"] = {"epochs": 2}
    demo["source_val"] = dict(demo["source"], n=50)
    demo["model_kwargs"] = {"width": 8}
    out.append(RunSpec.from_dict(demo).to_dict())
    vit = copy.deepcopy(out[0])
    vit.update(model="vit_s", train={"epochs": 1, "schedule": "warmup_cosine",
                                     "warmup_epochs": 1, "min_lr": 1e-5})
    out.append(RunSpec.from_dict(vit).to_dict())
    return out


SEEDS = seed_specs()


def paths(obj, prefix=()):
    """Every (path, value) in a JSON tree, the root included."""
    yield prefix, obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from paths(v, (*prefix, i))


def replacement(value):
    """Values to put where ``value`` was: other types, out of range, garbage."""
    options = [GARBAGE, st.sampled_from([None, True, "", [], {}, math.nan, -math.inf])]
    if isinstance(value, bool):
        options.append(st.sampled_from([0, 1, "true", "yes"]))
    elif isinstance(value, int | float):
        near = [-value, value * 10 ** 9, str(value), [value], -1, 0, 2 ** 63, 1e300]
        if abs(value) < 1e300:  # a huge int (a prior mutation's 10 ** 400) has no float beside it
            near.append(value + 0.5)
        options += [st.sampled_from(near), INTS]
    elif isinstance(value, str):
        options += [st.sampled_from([value.upper(), value + "x", " " + value, value + ",",
                                     f"{value},{value}", value[:-1]]), text()]
    elif isinstance(value, list):
        options += [st.just(value[:-1]), st.just([*value, *value]), st.just(value * 3),
                    st.just(tuple(value)), st.just({"0": value})]
    elif isinstance(value, dict):
        options += [st.just(list(value.items())), st.just(list(value))]
    return st.one_of(options)


@st.composite
def mutated(draw):
    """``(dict, names)``: a seed spec after 1-3 mutations, and the keys on mutated paths
    (None: the root was replaced)."""
    d = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    names: set[str] = set()
    for _ in range(draw(st.integers(1, 3))):
        by_depth: dict[int, list] = {}
        for path, _ in paths(d):
            by_depth.setdefault(len(path), []).append(path)
        where = draw(st.sampled_from(by_depth[draw(st.sampled_from(sorted(by_depth)))]))
        parent = d
        for k in where[:-1]:
            parent = parent[k]
        op = draw(st.sampled_from(["drop", "unknown", "replace", "replace", "replace"]))
        names.update(str(k) for k in where if isinstance(k, str))
        if not where:  # the root itself
            op = "unknown" if op == "drop" else op
            if op == "replace":
                return draw(replacement(d)), None  # any message: the whole spec is wrong
        target = parent if not where else parent[where[-1]]
        if op == "unknown" and isinstance(target, dict):
            key = draw(st.sampled_from(["extra", "Model", "seeds", "format "]) | text(5))
            target[key] = draw(GARBAGE)
            names.add(key)
        elif op == "drop" and isinstance(parent, dict | list):
            parent.pop(where[-1])
        elif where:
            parent[where[-1]] = draw(replacement(target))
    return d, names


def spec_names(names):
    """Words that may name the offending key: the keys on the mutated paths (the key and its
    parents), or "spec" (the whole spec replaced)."""
    return () if names is None else [*names, "spec"]


def check_spec(spec: RunSpec) -> None:
    """A built spec is plain, canonical data: it round-trips with the same hash."""
    d = spec.to_dict()
    text_ = json.dumps(d, allow_nan=False)
    again = RunSpec.from_dict(json.loads(text_))
    assert spec_hash(again) == spec_hash(spec)
    assert canonical_json(again) == canonical_json(spec)


# --------------------------------------------------------------------------- from_dict
def test_from_dict_on_mutated_specs(sandbox):
    def check(case):
        d, names = case
        spec, _ = expect(lambda: RunSpec.from_dict(d), spec_names(names))
        if spec is not None:
            check_spec(spec)
        sandbox.check()

    run_cases("RunSpec.from_dict", 300, mutated(), check)


# --------------------------------------------------------------------------- spec.json
@st.composite
def edited_file(draw):
    """New contents of a ``spec.json``: a mutated spec as JSON (sometimes with NaN), or the
    original text damaged (truncated, bytes inserted, emptied, not UTF-8)."""
    kind = draw(st.sampled_from(["json", "json", "json", "truncate", "insert", "empty",
                                 "binary", "same"]))
    if kind == "json":
        d, names = draw(mutated())
        return ("json", d), names
    return (kind, draw(st.integers(0, 4000)), draw(st.binary(max_size=8))), set()


def write_edit(path, edit) -> None:
    kind, *args = edit
    if kind == "json":
        path.write_text(json.dumps(args[0]))  # NaN and Infinity as Python's json writes them
        return
    original = path.read_bytes()
    at, blob = args
    at %= len(original) + 1
    data = {"truncate": original[:at], "insert": original[:at] + blob + original[at:],
            "empty": b"", "binary": b"\xff\xfe" + blob + original, "same": original}[kind]
    path.write_bytes(data)


@pytest.fixture
def run_folder(demo_reference, tmp_path):
    """A copy of the reference demo folder and the hash of one of its runs."""
    folder = tmp_path / "demo"
    shutil.copytree(demo_reference, folder)
    return folder, sorted(p.name for p in (folder / "runs").iterdir())[0]


@pytest.mark.slow  # the reference folder is a real `t2d run` (a subprocess, 15-25 s)
def test_load_spec_on_edited_files(sandbox, run_folder):
    folder, h = run_folder
    path = folder / "runs" / h / "spec.json"
    original = path.read_bytes()
    store = RunStore(folder)

    def check(case):
        edit, names = case
        write_edit(path, edit)
        spec, msg = expect(lambda: store.load_spec(h), ["spec.json"])
        if spec is not None:
            assert spec_hash(spec) == h
            check_spec(spec)
        path.write_bytes(original)
        sandbox.check(folder)

    run_cases("RunStore.load_spec", 100, edited_file(), check)
    # the folder's own spec, untouched, still loads
    assert spec_hash(store.load_spec(h)) == h


def stamps(folder):
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in folder.rglob("*") if p.is_file()}


REPORT_FILES = ("report.md", "claims.json", "experiment.json", "tables", "figures")


@pytest.mark.slow  # the reference folder is a real `t2d run` (a subprocess, 15-25 s)
def test_run_after_editing_spec_json(sandbox, demo_reference, runner):
    """``t2d run`` on a copy of a finished folder whose spec.json was edited: exit 2 with one
    line naming the file and nothing in the folder touched, or (an edit that changes nothing
    after normalisation) every run reused and only the report rewritten."""
    hashes = sorted(p.name for p in (demo_reference / "runs").iterdir())

    def check(case):
        (edit, _), which = case
        folder = sandbox.case_dir() / "demo"
        shutil.copytree(demo_reference, folder)
        path = folder / "runs" / hashes[which % len(hashes)] / "spec.json"
        write_edit(path, edit)
        before, names_before = stamps(folder), listing(folder)
        result = runner.invoke(app, ["run", "demo", *SMOKE, "--out", str(folder)])
        outcome = cli_outcome(result, ["spec.json"])
        after = stamps(folder)
        if outcome == "ok":
            assert "0 computed" in result.output, result.output
            changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
            assert all(k.split("/")[0] in REPORT_FILES for k in changed), changed
        else:
            assert outcome == "error", result.output
            assert after == before and listing(folder) == names_before
        sandbox.check(folder)

    run_cases("t2d run after editing spec.json", 8,
              st.tuples(edited_file(), st.integers(0, 1)), check)


def test_config_error_helper_rejects_multiline():
    """The check itself: a message over two lines is not accepted."""
    from transforms2d.errors import ConfigError

    class Raw(ConfigError):  # bypasses the one-line escaping of ConfigError
        def __str__(self):
            return "two\nlines"

    with pytest.raises(AssertionError):
        config_error(Raw("x"))
