# Set-up and everyday commands. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck demo vectors bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

run: $(STAMP)
	bash scripts/run_demo_service.sh

demo: $(STAMP)
	bash scripts/demo.sh

test: $(STAMP) lint typecheck
	$(BIN)/pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

vectors: $(STAMP)
	$(BIN)/python -m scripts.make_vectors

# Side-by-side benchmarks; rewrites bench/RESULTS.md and its plots (about 15 minutes on 2 cores;
# BENCH_QUICK=1 for a smoke run). wrk is the load generator when it installs, else httpx.
bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	-command -v wrk >/dev/null 2>&1 || apt-get install -y -q wrk >/dev/null 2>&1
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .pytest_cache .ruff_cache
