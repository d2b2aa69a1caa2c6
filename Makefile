# Accord's commands. `make run` starts the app with demo data; `make test` runs lint and the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# `make test` runs the suite on this many pytest-xdist workers ("auto": one per core); TEST_WORKERS=0 runs it in one
# process. Each worker has its own test database, Redis database and media folder, and takes whole files
# (tests/conftest.py).
TEST_WORKERS ?= auto
MAKEMESSAGES := $(BIN)/python manage.py makemessages -l vi --no-location --no-obsolete \
	--ignore=.venv --ignore=tests --ignore=bench --ignore=staticfiles

.PHONY: run test install install-dev lint format messages migrate seed worker beat bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "Accord needs Python 3.11: '$(PYTHON)' was not found." >&2; exit 1; }
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    rm -rf $(VENV); apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); \
	  else echo "Could not create $(VENV). On Debian: sudo apt-get install python3-venv" >&2; exit 1; fi; }
	@$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@ $(VENV)/.installed-app

install: $(VENV)/.installed-app

install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: install
	@$(BIN)/python manage.py migrate --noinput -v0
	@$(BIN)/python manage.py collectstatic --noinput -v0
	@$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Accord is starting at http://$(HOST):$(PORT)/  (stop with Ctrl-C)"
	@$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --durations=25

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh the Vietnamese catalogue from the code, then compile it (needs gettext: apt-get install gettext).
messages: install
	$(MAKEMESSAGES)
	$(BIN)/python manage.py compilemessages -l vi --ignore=.venv

worker: install
	$(BIN)/celery -A config worker --loglevel=INFO

beat: install
	$(BIN)/celery -A config beat --loglevel=INFO --schedule=$(VENV)/celerybeat-schedule

# Every speed target on large data (PostgreSQL and Redis; BENCH_DATABASE_URL, BENCH_REDIS_URL): bench/all.py.
bench: install-dev
	$(BIN)/python bench/all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 .pytest_cache .ruff_cache
