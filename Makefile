# Two commands matter: `make demo` and `make test`. Both start from a bare machine with
# Python 3.11+ and make: they create .venv and install what they need.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest system-deps bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dagritme demo

# Real servers for the integration tests: mosquitto, InfluxDB and Chromium from Debian.
system-deps:
	bash scripts/install-system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) system-deps
	$(BIN)/pytest -q -p no:cacheprovider

test: $(STAMP) system-deps lint typecheck pytest

bench: $(STAMP) system-deps
	@for target in detector gateway store dashboard system; do \
		$(BIN)/dagritme bench $$target --json || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache test-artifacts
