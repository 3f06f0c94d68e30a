# Plateforme CléA — the two set-up commands: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app run
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test audit bench install dev translations extract-messages clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev

# Compile the French (and English) catalogues; .mo files are build products.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations

# Refresh translations/messages.pot and merge it into the catalogues (developers).
extract-messages: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	$(BIN)/pybabel update -N -i translations/messages.pot -d translations

run: install translations
	$(FLASK) clea init
	$(FLASK) clea demo
	@echo "Plateforme CléA : http://$(HOST):$(PORT)/ (Ctrl+C arrête le serveur et le planificateur)"
	@trap 'kill 0' INT TERM EXIT; \
	$(FLASK) clea scheduler & \
	$(FLASK) run --host $(HOST) --port $(PORT)

test: dev translations
	$(BIN)/pytest $(PYTEST_ARGS)

# The security scans alone (bandit on app/, pip-audit on the installed packages; `make test`
# runs them too, in tests/integration/test_security_scans.py).
audit: dev
	$(BIN)/pytest -q tests/integration/test_security_scans.py

# The platform at volume, served as in production, against floors → bench/REPORT.md
# (BENCH_N=1000000 for the full run; about 10 minutes at the default 100 000 on 2 cores).
BENCH_N ?= 100000
BENCH_SEED ?= 1
BENCH_DURATION ?= 60
bench: dev translations
	@test -x $(BIN)/gunicorn || $(BIN)/pip install -q gunicorn
	BENCH_N=$(BENCH_N) BENCH_SEED=$(BENCH_SEED) BENCH_DURATION=$(BENCH_DURATION) \
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) instance/clea.db test-artifacts
