"""Shared test set-up: every experiment is registered (importing the study does it)."""

import transforms2d.study  # noqa: F401  (registers demo and e1-e4 with the engine)
