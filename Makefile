# The two commands the README promises:
#   make demo   runs the seed's documented flow against the built-in fake org
#   make test   installs everything it needs, then runs every quality gate
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint generated unasync typecheck pytest docs bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/sfbulk demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check sfbulk_sdk tests bench scripts

# The sync twins are generated from the async sources (scripts/unasync.py).
unasync: $(STAMP)
	$(BIN)/python scripts/unasync.py

generated: $(STAMP)
	$(BIN)/python scripts/unasync.py --check

typecheck: $(STAMP)
	$(BIN)/mypy --strict sfbulk_sdk

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir $(VENV)/site

test: lint generated typecheck pytest docs

bench: $(STAMP)
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache
