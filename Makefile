# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-smoke soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/paperboy run

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

clean:
	rm -rf $(VENV) .pytest_cache
