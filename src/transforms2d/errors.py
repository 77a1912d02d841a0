"""Errors raised at the package boundary.

Every error a user can trigger with bad input is a :class:`ConfigError` whose message is one
line that says what is wrong and how to fix it; the CLI prints it without a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Characters that str.splitlines() breaks at, shown escaped (as repr does) in a message.
_LINE_BREAKS = {ord(c): repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


class ConfigError(ValueError):
    """Invalid user input: the message is a single line naming the fix.

    Line breaks in the message (from a user's text: a name, a path) are escaped, so that it
    stays one line:

    >>> str(ConfigError("Unknown transform 'a\\nb'."))
    "Unknown transform 'a\\\\nb'."
    """

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(str(message).translate(_LINE_BREAKS), *args)


def unknown_name(kind: str, name: str, valid: Iterable[str],
                 owner: str | None = None) -> ConfigError:
    """Build the error for an unknown registry name, suggesting the closest valid one.

    >>> str(unknown_name("transform", "rotat", ["rotate", "scale"]))
    "Unknown transform 'rotat'; did you mean 'rotate'? Valid: rotate, scale."
    >>> str(unknown_name("profile", "huge", ["smoke", "quick"], owner="e1"))
    "Unknown profile 'huge' for e1. Valid: smoke, quick."
    """
    valid = list(valid)
    close = difflib.get_close_matches(str(name), valid, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else "."
    whose = f" for {owner}" if owner else ""
    return ConfigError(f"Unknown {kind} '{name}'{whose}{hint} Valid: {', '.join(valid)}.")
