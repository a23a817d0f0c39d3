# shopkpi workspace. `make help` lists the targets; every target calls the shopkpi CLI.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CLIENT ?= demo
PERIOD ?=
SCALE ?= 1
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

## help: list the targets
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed 's/^## /  /'

# The default install is the lock (pinned, hashed: the same stack next year); pyproject.toml keeps the floors.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

## lock: re-resolve requirements.lock from pyproject.toml's floors (uv; commit the result with the change that needs it)
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra test --generate-hashes --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 -o requirements.lock

## setup: create .venv and install the project (done automatically by the other targets)
setup: $(STAMP)

## demo: generate the demo client, ingest it and run the notebooks for its latest complete week
demo: $(STAMP)
	@scripts/system-deps
	$(BIN)/shopkpi demo --client $(CLIENT) --scale $(SCALE)
	$(BIN)/shopkpi ingest --client $(CLIENT)
	$(BIN)/shopkpi run --client $(CLIENT) $(if $(PERIOD),--period $(PERIOD))
	@echo
	@echo "Done. Reports: outputs/$(CLIENT)/<period>/*.html   Artifacts: outputs/$(CLIENT)/<period>/artifacts/"
	@echo "Dashboard: make serve      JupyterLab: make lab"

## ingest: ingest data/$(CLIENT)/raw/ into the client's store
ingest: $(STAMP)
	$(BIN)/shopkpi ingest --client $(CLIENT)

## run: run the notebooks for CLIENT (default demo) and PERIOD (default: latest complete week)
run: $(STAMP)
	$(BIN)/shopkpi run --client $(CLIENT) $(if $(PERIOD),--period $(PERIOD))

## batch: run every client in params/ (the Monday batch); FORCE=1 re-runs unchanged clients
batch: $(STAMP)
	$(BIN)/shopkpi batch --all $(if $(PERIOD),--period $(PERIOD)) $(if $(FORCE),--force)

## serve: serve CLIENT's dashboard with Voila on 127.0.0.1 (prints a link with its token)
serve: $(STAMP)
	$(BIN)/shopkpi serve --client $(CLIENT)

## lab: open JupyterLab with the project's kernel
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 notebooks/

## test: run the whole test suite (library, notebooks, browser)
test: $(STAMP)
	$(BIN)/python -m pytest

## test-fast: the unit layer only (no demo pipeline, notebooks or browser; about a minute)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not pipeline and not notebook and not browser"

## lint: ruff's checks on the library and tests (CI runs it before the tests)
lint: $(STAMP)
	$(BIN)/ruff check lib tests

## format: ruff's formatter on the library and tests
format: $(STAMP)
	$(BIN)/ruff format lib tests

## bench: benchmarks (ingestion of a 3M-line orders export vs pyarrow's CSV reader; forecasting 10,000 series vs statsmodels ETS; the batch with 1 and 2 workers; the dashboard's first render vs a minimal Voila page; run `make demo` first)
bench: $(STAMP)
	$(BIN)/shopkpi bench ingest --workdir /tmp/shopkpi-bench
	$(BIN)/shopkpi bench forecast --repeats 2 --ets-sample 16
	$(BIN)/shopkpi bench batch --clients 6
	$(BIN)/shopkpi bench dashboard --client $(CLIENT) --repeats 5

## clean-outputs: delete generated outputs (client data under data/ is kept)
clean-outputs:
	rm -rf outputs/*/
