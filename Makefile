# The two commands the README promises:
#   make demo   runs the seed's documented flow against the built-in fake org
#   make test   installs everything it needs, then runs every quality gate
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint generated unasync typecheck pytest docs browser bench install clean

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

# The site goes to site/ (mkdocs.yml's site_dir); it needs nothing from the network.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict

# The docs browser check (tests/docs/test_browser.py) drives Debian's chromium.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "chromium is not installed and this is not root: the docs browser check will skip"; \
	fi

test: lint generated typecheck browser pytest docs

bench: $(STAMP)
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) site docs-screenshots .pytest_cache .mypy_cache .ruff_cache
