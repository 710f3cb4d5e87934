# One-command entry points. `make test` does all set-up itself on a fresh Debian machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: test lint demo demo-down demo-check bench services venv clean reliability constraints sparkplug-proto

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python >= 3.11 is required (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -c constraints.txt -e '.[dev]'
	@touch $@

venv: $(STAMP)

# The pinned runtime dependencies the image and the venv install (see constraints.txt).
constraints: $(STAMP)
	$(PY) scripts/lock-deps > constraints.txt

# The Sparkplug B payload module, compiled from Eclipse Tahu's sparkplug_b.proto.
sparkplug-proto: $(STAMP)
	PY=$(PY) scripts/gen-sparkplug

services:
	@scripts/install-services --with-v2-stand-in

test: services $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# No venv prerequisite: on a machine with Docker, `make demo` needs only make, a POSIX
# shell and Docker; scripts/demo builds the venv itself for the native path.
# PLANT=path/to/plant.yaml runs another plant (kept in .env for the Docker path).
demo:
	@PLANT="$(PLANT)" PY="$(PY)" scripts/demo $(DEMO_ARGS)

demo-down:
	@PY="$(PY)" scripts/demo --down

# On a machine with Docker: every service healthy and fresh data readable with Grafana's
# read-only token (docs/deployment.md, "Check a Docker machine").
demo-check:
	@scripts/demo --check

bench: services $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# The full fault matrix (long: about an hour plus the soak). Results: docs/reliability.md.
# Shorter: make reliability RELIABILITY_ARGS="--profile ci" (or --soak-s 600).
RELIABILITY_ARGS ?=
reliability: services $(STAMP)
	$(PY) -m reliability --json .run/reliability-results.json $(RELIABILITY_ARGS)

clean:
	rm -rf $(VENV) .run .pytest_cache .mypy_cache .ruff_cache
