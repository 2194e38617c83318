# Two commands set everything up on a fresh machine:
#   make run   - create .venv, install the pinned dependencies, run every stage on its default.yaml
#   make test  - the same set-up, then the whole test suite
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
JOBS ?= 1

.PHONY: setup run test test-fast lint format lab lock clean-outputs benchmarks

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/hw batch --defaults -j $(JOBS)
	@echo "Index of runs: $${HW_OUTPUTS:-$(CURDIR)/outputs}/index.html"

test: setup
	$(BIN)/python -m pytest

# The unit tests only: no notebook is executed (under a minute or two).
test-fast: setup
	$(BIN)/python -m pytest -m "not slow" -q

# ruff, configured in pyproject.toml: lint and the formatting check (`make format` applies it);
# then import-linter's contracts in pyproject.toml (layers, independent stages, no import cycle).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lab: setup
	$(BIN)/jupyter lab notebooks

# Regenerate the lock file and environment.yml after editing pyproject.toml.
lock:
	$(BIN)/python -m pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --no-header -o requirements.lock
	$(BIN)/python -m hwutils.envfile requirements.lock environment.yml

benchmarks: setup
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done
