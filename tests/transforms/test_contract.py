"""The contract battery (tests/helpers/transform_contract.py) on every registered transform and
``none``: replay, batch independence, empty batch, dtype and shape, range, ``p=0``, identity
parameters and gradcheck, each exception with its reason in :data:`CONTRACTS`."""

from __future__ import annotations

import doctest

import pytest

from tests.helpers import transform_contract as tc
from transforms2d.transforms import PAPER_TRANSFORMS, get_transform, transform_names

NAMES = (*transform_names(), "none")


def contract(name: str) -> tc.Contract:
    return tc.CONTRACTS.get(name, tc.Contract(no_identity="no contract entry", grad=None,
                                              why="no contract entry"))


def test_every_registered_transform_has_a_contract():
    assert set(tc.CONTRACTS) == set(NAMES), "add the new transform to CONTRACTS"
    for name, c in tc.CONTRACTS.items():
        assert (c.identity is None) == bool(c.no_identity), f"{name}: say why there is none"
        assert c.grad == tc.torch.float64 or c.why, f"{name}: say why no float64 gradcheck"


@pytest.mark.parametrize("name", (*PAPER_TRANSFORMS, "none"))
def test_every_applier_has_a_doctest(name):
    """Each op's docstring shows a check of its behaviour (run by ``--doctest-modules``)."""
    apply = get_transform(name).apply
    examples = [e for t in doctest.DocTestFinder().find(apply) for e in t.examples]
    assert any(f"apply_{name}(" in e.source for e in examples), f"{name}: add a doctest"


@pytest.mark.parametrize("name", NAMES)
def test_replay(name):
    tc.check_replay(get_transform(name))


@pytest.mark.parametrize("name", NAMES)
def test_batch_independence(name):
    tc.check_batch_independence(get_transform(name))


@pytest.mark.parametrize("name", NAMES)
def test_empty_batch(name):
    tc.check_empty_batch(get_transform(name))


@pytest.mark.parametrize("name", NAMES)
def test_dtype_and_shape(name):
    tc.check_dtype_and_shape(get_transform(name))


@pytest.mark.parametrize("name", NAMES)
def test_output_range(name):
    tc.check_range(get_transform(name))


@pytest.mark.parametrize("name", [n for n in NAMES if "p" in get_transform(n).defaults])
def test_p_zero_is_identity(name):
    tc.check_p_zero_is_identity(get_transform(name))


@pytest.mark.parametrize("name", NAMES)
def test_identity_parameters(name):
    c = contract(name)
    if c.identity is None:
        pytest.skip(f"no identity parameters: {c.no_identity}")
    tc.check_identity(get_transform(name), c)


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck(name):
    c = contract(name)
    if c.grad is None:
        pytest.skip(f"not differentiable: {c.why}")
    tc.check_gradcheck(get_transform(name), c)
