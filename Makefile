# 颐养 Yiyang — the one-command entry points. `make run` and `make test` work on a fresh
# machine with nothing but Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run install dev test test-fast lint bench bench-import bench-scale load load-cluster fuzz clean translations wheel

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP) $@

install: $(STAMP)

dev: $(DEV_STAMP)

run: $(STAMP)
	$(BIN)/yiyang init
	$(BIN)/yiyang demo
	@echo "颐养 Yiyang: http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	YIYANG_PUBLIC_URL="$${YIYANG_PUBLIC_URL:-http://$(HOST):$(PORT)}" $(BIN)/yiyang run --host $(HOST) --port $(PORT)

# One process unless TEST_WORKERS is set: `make test TEST_WORKERS=2` runs two pytest-xdist workers
# (--dist loadgroup: a worker takes one test file's tests on one database at a time, tests/conftest.py).
TEST_WORKERS ?= 0
test: $(DEV_STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

test-fast: $(DEV_STAMP)
	$(BIN)/python -m pytest -x -q -m "not browser and not slow"

# The application as one wheel in dist/ (deploy/install.sh builds and installs it the same way).
wheel: $(STAMP)
	$(BIN)/pip wheel --quiet --no-deps --wheel-dir dist .

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(DEV_STAMP)
	$(BIN)/python -m benchmarks

# 100,000 elders imported from one CSV: dry run, commit, re-import (docs/import.md). SQLite in a
# temporary folder, or YIYANG_BENCH_IMPORT_URL=postgresql://... (a scratch database).
bench-import: $(DEV_STAMP)
	$(BIN)/python -m benchmarks import

# A city of SCALE elders on PostgreSQL (its own database, yiyang_bench): every list page and list
# API timed as the administrator and a district assessor, each command's time and peak memory.
SCALE ?= 100000
bench-scale: $(DEV_STAMP)
	$(BIN)/python -m benchmarks.scale --elders $(SCALE) $(if $(EXPLAIN),--explain $(EXPLAIN))

clean:
	rm -rf $(VENV) *.egg-info build dist .pytest_cache .mypy_cache .ruff_cache

# 50 simulated assessors for two minutes against gunicorn + PostgreSQL (needs a local server).
load: $(DEV_STAMP)
	$(BIN)/python -m loadtest --users 50 --seconds 120

# The same against two servers and a worker sharing PostgreSQL and Redis (report batches as jobs).
LOAD_REDIS ?= redis://127.0.0.1:6379/14
load-cluster: $(DEV_STAMP)
	$(BIN)/python -m loadtest --users 50 --seconds 120 --servers 2 --redis $(LOAD_REDIS) --no-write

# Re-extract every _()/_l() string, merge it into the English catalog and compile it. New
# strings arrive with an empty msgstr: translate them in translations/en/LC_MESSAGES/messages.po
# and run this again (tests/core/test_core_i18n.py fails until every string is translated).
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ --no-location --sort-output -o translations/messages.pot --ignore-dirs='.venv tests node_modules' .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i translations/messages.pot -d translations -l en
	# No creation date in the catalogs: parallel branches adding strings then merge without conflicts.
	sed -i '/^"POT-Creation-Date:/d' translations/messages.pot translations/en/LC_MESSAGES/messages.po
	$(BIN)/pybabel compile -d translations --statistics

# The API fuzzing run of docs/security.md: about 300 generated requests per operation (>10,000).
fuzz: $(DEV_STAMP)
	YIYANG_FUZZ_EXAMPLES=300 $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/security/test_security_api_fuzz.py -k sqlite
