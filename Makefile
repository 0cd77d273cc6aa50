# CDP — one command for the demo, one for the tests. Works on a fresh machine with Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PEOPLE ?= 1000

.PHONY: demo test install install-dev lint run worker beat bench-ingest clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "CDP needs Python 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## demo: venv, install, migrate, demo data (1,000 people), role logins, server on :8000
demo: install
	mkdir -p var
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py demo_setup --people $(PEOPLE)
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## test: lint, import contracts, migrations check, then the whole pytest suite
test: install-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run > /dev/null
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/pytest -q -rs

lint: install-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

run: install
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

worker: install
	$(BIN)/celery -A cdp worker --loglevel=INFO --concurrency=2

beat: install
	$(BIN)/celery -A cdp beat --loglevel=INFO --schedule var/celerybeat-schedule

bench-ingest: install-dev
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) var
