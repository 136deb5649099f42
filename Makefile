# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-full bench-smoke soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	@$(BIN)/paperboy run

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest

# The kill -9 test, longer: SOAK_KILLS kill -9s of real bot processes mid-round (CI: ~50).
SOAK_KILLS ?= 500
soak: $(STAMP)
	PAPERBOY_SOAK_KILLS=$(SOAK_KILLS) $(BIN)/pytest -s tests/test_kill_posting.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every performance figure with its target and a baseline from the same run (100k and
# 1M synthetic papers, and 100k of the harsh corpus; ~20 min on 2 cores, plus ~6 min once
# to generate the corpora). The table is also written to results.md in the work folder.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# The same, and 2.7M papers (all of arXiv): ~15 min more, and ~14 min once to generate them.
bench-full: $(STAMP)
	$(BIN)/python -m benchmarks.run --full $(BENCH_ARGS)

# The same code at tiny sizes, in seconds: it runs, it proves nothing.
bench-smoke: $(STAMP)
	$(BIN)/python -m benchmarks.run --quick --data $${TMPDIR:-/tmp}/paperboy-bench-smoke

clean:
	rm -rf $(VENV) .pytest_cache
