# Carnet — the two commands of the README are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: install browsers demo serve test test-sqlite test-postgres check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip==26.3"
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Install, load the personas into SQLite (var/carnet.db) and serve on http://127.0.0.1:8000,
## with two worker processes: on SQLite, one keeps serving while the other is in a long
## transaction (docs/operator.md, "Worker processes"); WORKERS=1 make demo for one
WORKERS ?= 2
demo: install
	$(BIN)/carnet demo --reset
	$(BIN)/carnet serve --workers $(WORKERS)

serve: install
	$(BIN)/carnet serve --workers $(WORKERS)

## Debian's Chromium for the browser tests (tests/browser, Playwright drives it; never
## `playwright install`, which downloads a browser of its own)
browsers:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

## Install and run the whole suite on SQLite, then on PostgreSQL (127.0.0.1:5432, db test)
test: install browsers
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: install
	CARNET_TEST_DATABASE_URL=sqlite:// $(BIN)/python -m pytest -q -p no:cacheprovider

test-postgres: install
	CARNET_TEST_DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -q -p no:cacheprovider

## Lint, format, types and layer contracts
check: install
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
