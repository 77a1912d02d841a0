# Quick start:  make reproduce   (the main job)      make test   (the test suite; make test-fast:
# the suite without the tests marked slow)
# Each target creates or refreshes .venv by itself.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install reproduce preview test test-fast lint bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# One pip call: torch and torchvision come pinned as a pair by the [timm] extra (PyPI's
	@# torchvision does not import beside the 2.13.0 CPU wheel), so nothing is installed twice.
	$(PY) -m pip install --quiet -e ".[dev,hub,ray,timm]"
	touch $(STAMP)

install: $(STAMP)

# Main job: the four experiments at the quick profile, then results/REPORT.md (resumable).
reproduce: $(STAMP)
	$(VENV)/bin/t2d reproduce --profile quick --out results

# Figure 1 of the paper: objects under each registered transform.
preview: $(STAMP)
	$(VENV)/bin/t2d preview --transforms all --per-row 8 --out results/fig1.png

# The whole suite (what CI runs) and the quick lane (everything not marked slow, about a minute
# on 2 cores). pytest-xdist runs PYTEST_WORKERS processes; --dist loadfile keeps each file on
# one worker, so a module's expensive fixtures (a Ray instance, a trained checkpoint) are built
# once.
PYTEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile

test: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks tools
	$(PYTEST)

test-fast: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks tools
	$(PYTEST) -m "not slow"

bench: $(STAMP)
	$(PY) benchmarks/bench_generator.py

clean:
	rm -rf $(VENV) results .pytest_cache
