"""Runs computed in scratch and committed by the driver (engine/transfer.py), in-process with
real files: what the Ray executor does without a shared store, less Ray (test_ray.py and
test_ray_cluster.py run it on real Ray instances)."""

from __future__ import annotations

import json

import pytest

from tests.helpers.engine import tiny_spec
from transforms2d.engine import LocalExecutor, RunStore, spec_hash
from transforms2d.engine.lease import LEASE
from transforms2d.engine.transfer import (
    SCRATCH_ENV,
    claim_remote,
    commit_reply,
    compute_in_scratch,
)
from transforms2d.engine.verify import verify
from transforms2d.errors import ConfigError


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    folder = tmp_path / "scratch"
    monkeypatch.setenv(SCRATCH_ENV, str(folder))
    return folder


def remote(spec, store: RunStore) -> dict:
    """One run as the Ray executor sends it (no Ray): claim, compute in scratch, commit."""
    lease, stages = claim_remote(spec, store)
    with lease:
        reply = compute_in_scratch(spec.to_dict(), stages, "cpu", 1)
        return commit_reply(store, spec, reply, lease)


def test_a_run_computed_in_scratch_equals_a_local_one(scratch, tmp_path, one_thread):
    spec, h = tiny_spec(), spec_hash(tiny_spec())
    LocalExecutor().run([spec], RunStore(tmp_path / "local"))
    store = RunStore(tmp_path / "out")
    store.claim("t", "smoke", 1, [h])
    assert remote(spec, store) == {"ok": True}
    run = store.run_dir(h)
    assert (run / "result.json").read_bytes() == (
        tmp_path / "local" / "runs" / h / "result.json").read_bytes()
    assert {p.name for p in run.iterdir()} == {"spec.json", "provenance.json", "pretrain.pt",
                                               "probes", "result.json", "log.txt"}
    assert "result committed" in (run / "log.txt").read_text()
    assert verify(store).ok and not (run / LEASE).exists()
    assert not scratch.exists()  # the scratch copy is gone once returned


def test_stored_stages_travel_to_the_worker_and_are_resumed(scratch, tmp_path, one_thread):
    spec, h = tiny_spec(), spec_hash(tiny_spec())
    ref = RunStore(tmp_path / "ref")
    LocalExecutor().run([spec], ref)
    store = RunStore(tmp_path / "out")
    store.run_dir(h).mkdir(parents=True)
    (store.run_dir(h) / "pretrain.pt").write_bytes((ref.run_dir(h) / "pretrain.pt").read_bytes())
    assert remote(spec, store) == {"ok": True}
    assert "pretrain: reusing pretrain.pt" in (store.run_dir(h) / "log.txt").read_text()
    assert (store.run_dir(h) / "result.json").read_bytes() == (
        ref.run_dir(h) / "result.json").read_bytes()


def test_a_bad_returned_file_is_quarantined_and_the_run_fails(scratch, tmp_path, one_thread):
    spec, h = tiny_spec(), spec_hash(tiny_spec())
    store = RunStore(tmp_path / "out")
    lease, stages = claim_remote(spec, store)
    with lease:
        reply = compute_in_scratch(spec.to_dict(), stages, "cpu", 1)
        reply["files"]["pretrain.pt"] = b"truncated"
        out = commit_reply(store, spec, reply, lease)
    assert out["ok"] is False and "pretrain.pt" in out["message"]
    assert store.status(h) == "failed" and not (store.run_dir(h) / "result.json").exists()
    assert [q["file"].split("/")[-1].split(".")[0] for q in store.quarantined(h)] == ["pretrain"]
    assert remote(spec, store) == {"ok": True}  # the rerun computes it again


def test_a_failing_run_returns_the_workers_error(scratch, tmp_path):
    spec = tiny_spec(model="no_such_model")
    store = RunStore(tmp_path / "out")
    out = remote(spec, store)
    assert out["ok"] is False and "Unknown model 'no_such_model'" in out["message"]
    err = json.loads((store.run_dir(spec) / "error.json").read_text())
    assert "in compute" in err["traceback"]
    assert "failure committed" in (store.run_dir(spec) / "log.txt").read_text()


@pytest.mark.parametrize("name", ["../result.json", "lease.json", "spec.json",
                                  "probes/../x.json", "probes/.a.json.tmp", "/etc/passwd"])
def test_commit_refuses_what_is_not_a_file_of_a_run(tmp_path, name):
    store = RunStore(tmp_path / "out")
    store.run_dir("0123456789abcdef").mkdir(parents=True)
    with pytest.raises(ConfigError, match="refused to store"):
        store.commit("0123456789abcdef", {name: b"x"})
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["0123456789abcdef",
                                                                      "runs"]
