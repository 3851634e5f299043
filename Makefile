# One entry point for people and CI. `make run` and `make test` set everything up themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: install install-dev sandbox run test test-fast lint format migrations-check bench bench-tasks screenshots clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

run: install
	$(PY) scripts/run_local.py

# The training sandbox (its user, its TensorFlow runtime) is set up before the tests that use it.
sandbox: install
	SECRET_KEY=setup-only $(PY) manage.py sandbox_setup

test: install-dev sandbox
	$(PY) -m pytest $(PYTEST_ARGS)

# The quick loop (about a minute on two cores): no sandbox runtime, no browser, no real-worker runs.
# Markers come from the fixtures a test uses (tests/conftest.py); `make test` still runs everything.
test-fast: install-dev
	$(PY) -m pytest -m "not sandbox and not browser and not slow" $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	SECRET_KEY=lint-only $(VENV)/bin/mypy

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrations-check: install-dev
	SECRET_KEY=check-only $(PY) manage.py makemigrations --check --dry-run

# The README's pictures (docs/screenshots/), taken by the browser journeys.
screenshots: install-dev sandbox
	$(PY) scripts/screenshots.py

bench: install sandbox
	$(PY) bench/pipeline

bench-tasks: install sandbox
	$(PY) bench/tasks

clean:
	rm -rf $(VENV) var
