"""Helpers of the property-based tests in ``tests/fuzz``: the shared Hypothesis settings, the
checks every case must pass, and strategies for garbage values.

The property of every case: the package either returns a valid result or raises a
:class:`~transforms2d.errors.ConfigError` whose message is one line and names the offending
parameter (or file); never another exception, never a file outside the given folders, never a
partial (``*.tmp``) file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms2d.errors import ConfigError

#: Deterministic in CI: a fixed seed derived from each test (derandomize), no example database,
#: no deadline (a loaded machine is slow), and the health checks that a fuzzer of file systems
#: and subprocess-free CLI runs trips without being wrong.
FUZZ = settings(derandomize=True, database=None, deadline=None, print_blob=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much,
                                       HealthCheck.large_base_example])


def run_cases(name: str, count: int, strategy: st.SearchStrategy, check: Callable[[Any], None]
              ) -> int:
    """Run ``check`` on ``count`` generated values of ``strategy`` (Hypothesis, :data:`FUZZ`)
    and return how many cases ran; fails unless all ``count`` ran (the total is the count the
    module docstrings give). Prints ``fuzz NAME: N cases`` (shown with ``pytest -s``)."""
    seen = [0]

    @settings(FUZZ, max_examples=count)
    @given(strategy)
    def prop(value):
        seen[0] += 1
        check(value)

    prop()
    print(f"fuzz {name}: {seen[0]} cases")
    assert seen[0] >= count, f"{name}: only {seen[0]} of {count} cases ran"
    return seen[0]


def config_error(exc: BaseException, names: Iterable[str] = ()) -> str:
    """Check that ``exc`` is a one-line ConfigError naming one of ``names`` (case-insensitive;
    none: any message); returns the message."""
    if not isinstance(exc, ConfigError):
        raise AssertionError(f"{type(exc).__name__} instead of a ConfigError: {exc!r}") from exc
    msg = str(exc)
    assert msg.strip() and len(msg.splitlines()) == 1, f"not one line: {msg!r}"
    names = [str(ConfigError(n)).lower() for n in names]  # line breaks escaped, as in msg
    assert not names or any(n in msg.lower() for n in names), (names, msg)
    return msg


def expect(call: Callable[[], Any], names: Iterable[str] = ()) -> tuple[Any, str | None]:
    """``(result, None)`` if ``call()`` returns, ``(None, message)`` if it raises a one-line
    ConfigError naming one of ``names``; any other exception fails the case."""
    try:
        return call(), None
    except ConfigError as e:
        return None, config_error(e, names)


def listing(folder: Path) -> set[str]:
    """Every path under ``folder`` (relative), to compare before and after a case."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


def partial_files(*folders: Path) -> list[Path]:
    """Temporary files of interrupted atomic writes (``*.tmp``) under ``folders``."""
    return [p for f in folders if f.exists() for p in f.rglob("*.tmp")]


def cli_outcome(result, names: Iterable[str] = ()) -> str:
    """Check a ``CliRunner`` result: exit 0, a one-line ``Error:`` (exit 2: a ConfigError
    printed by the command), a Typer usage error (exit 2: bad option type, unknown option,
    missing argument; Typer's own boxed format), or exit 1 with a report (no exception).
    Never an uncaught exception or a traceback. Returns ``"ok"``, ``"error"``, ``"usage"`` or
    ``"failed"``."""
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        import traceback

        tb = "".join(traceback.format_exception(exc))
        raise AssertionError(f"uncaught {type(exc).__name__}: {exc}\n{tb}")
    out = result.output
    assert "Traceback" not in out, out
    if result.exit_code == 0:
        return "ok"
    if result.exit_code == 2 and out.startswith("Usage:"):
        assert "Error" in out and "Traceback" not in out, out
        return "usage"
    if result.exit_code == 2:
        lines = [line for line in out.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("Error:")]
        assert len(errors) == 1 and errors[0] == lines[-1], f"not one error line: {out!r}"
        names = [str(ConfigError(n)).lower() for n in names]
        assert not names or any(n in errors[0].lower() for n in names), (names, errors[0])
        return "error"
    assert result.exit_code == 1, (result.exit_code, out)
    return "failed"


# --------------------------------------------------------------------------- strategies
def text(max_size: int = 12) -> st.SearchStrategy[str]:
    """Short strings, odd characters included (line breaks, quotes, markup, NUL excluded)."""
    return st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                   max_size=max_size)


FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, -0.0, 0.5, 1.0, -1.0, 1e-300, 1e300, math.nan, math.inf, -math.inf])
INTS = st.integers(-3, 40) | st.sampled_from([-(2 ** 63), 2 ** 31, 2 ** 63, 2 ** 64, 10 ** 30,
                                              10 ** 400])

#: Any JSON-like value (what a hand-edited file or a careless caller passes).
JSON_SCALARS = st.none() | st.booleans() | INTS | FLOATS | text()
GARBAGE = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(text(6), inner, max_size=3), max_leaves=6)

