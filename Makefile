# The two commands in the README: `make run` and `make test`.
# Everything else here is what they need: a Python 3.10 virtual environment
# built from pyenv (or any python3.10 on PATH), a trained model, a database.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
STAMP := $(VENV)/.installed
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONWARNINGS := ignore

.PHONY: run test test-fast check schemas setup browser train bench bench-outreach eval eval-threshold eval-cv clean

run: setup
	$(PY) -m bot run

# The quality gate, under a minute: lint and format (ruff), types (mypy on
# bot/, actions/, channels/) and the layer rules (import-linter); all in pyproject.toml.
check: setup
	$(VENV)/bin/ruff check bot actions channels tests benchmarks
	$(VENV)/bin/ruff format --check bot actions channels tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

# The fast tier, under two minutes: no training, no servers, no PostgreSQL or
# Redis, no browser (tests/tiers.py fails a test that needs one without its marker).
test-fast: setup
	$(PY) -m pytest -q -p no:cacheprovider -m "not slow" $(PYTEST_ARGS)

# The JSON Schemas of the settings, the seed file and the rule files, and the
# README's settings table, rewritten from the pydantic models.
schemas: setup
	$(PY) -m bot.schemas write

# Everything: the fast tier on its own first (so a test that needs a server
# without its marker fails here too, not only in `make test-fast`), then the rest.
test: setup browser haproxy
	$(PY) -m bot train
	$(RASA) data validate --domain domain --max-history 3
	$(RASA) test core --stories tests/test_stories.yml --model models/clinic.tar.gz \
		--fail-on-prediction-errors --out var/test-results/core
	$(PY) -m pytest -q -p no:cacheprovider -m "not slow" $(PYTEST_ARGS)
	$(PY) -m pytest -q -p no:cacheprovider -m slow $(PYTEST_ARGS)

bench: setup
	$(PY) -m bot train
	$(PY) -m benchmarks.bench $(BENCH_ARGS)

# Outreach targets of issue 13, each a script that prints its figures:
# 1,000 reminders with two workers, one killed (benchmarks/outreach_reminders.py);
# 20 racing "yes" answers to one freed time (benchmarks/waitlist_race.py, a running assistant).
BENCH_OUTREACH := benchmarks.outreach_reminders benchmarks.waitlist_race
bench-outreach: setup
	$(PY) -m bot train
	@set -e; for bench in $(BENCH_OUTREACH); do echo "== $$bench"; $(PY) -m $$bench; done

# Understanding on the held-out split and the safety sets (python -m bot.nlu_eval):
# per-intent scores, confusions, red-flag recall, false alarms, parse time, the
# floors of tests/nlu/floors.yml (exit 1 below one); var/eval/confusion_matrix.png.
eval: setup
	$(PY) -m bot train
	$(PY) -m bot.nlu_eval $(EVAL_ARGS)

# The fallback threshold, chosen on the validation split only.
eval-threshold: setup
	$(PY) -m bot train
	$(PY) -m bot.nlu_eval threshold

# Intent accuracy by 5-fold cross-validation of the training data (slow).
eval-cv: setup
	$(RASA) test nlu --nlu data/nlu --config config.yml --cross-validation --folds 5 \
		--out var/test-results/nlu-cv

train: setup
	$(PY) -m bot train --force

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@set -e; \
	if [ ! -x "$(PY)" ] || ! "$(PY)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
		rm -rf "$(VENV)"; \
		PY310=""; \
		if command -v pyenv >/dev/null 2>&1; then \
			for candidate in $$(ls -d "$$(pyenv root)"/versions/3.10*/bin/python3.10 2>/dev/null | sort -V -r); do \
				PY310="$$candidate"; break; \
			done; \
		fi; \
		if [ -z "$$PY310" ] && command -v python3.10 >/dev/null 2>&1; then PY310="$$(command -v python3.10)"; fi; \
		if [ -z "$$PY310" ] || ! "$$PY310" -c 'import sys' >/dev/null 2>&1; then \
			echo "Python 3.10 is required (Rasa 3.6 does not run on 3.11)."; \
			echo "Install it with: pyenv install 3.10"; exit 1; \
		fi; \
		echo "Creating $(VENV) from $$PY310"; \
		"$$PY310" -m venv "$(VENV)"; \
	fi
	$(PY) -m pip install -qq --upgrade "pip<25" wheel
	$(PY) -m pip install -qq -c requirements.lock -e ".[test]"
	@touch $(STAMP)

# The chat widget's browser tests drive Debian's Chromium through Playwright
# (no browser download): install it when missing (as root, or with sudo).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Chromium (Debian package) for the browser tests..."; \
		SUDO=""; if [ "$$(id -u)" != 0 ]; then SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

clean:
	rm -rf var models .pytest_cache

# The production shape on this machine (README, "Production shape"): the action
# server, two Rasa instances (PRODUCTION_ARGS="--instances 3") and HAProxy in
# front, on PostgreSQL and Redis from the settings. Ctrl-C stops all.
.PHONY: production soak haproxy
production: setup haproxy
	$(PY) -m bot production $(PRODUCTION_ARGS)

# The fault and load suite with large numbers (tests/scale/): two instances
# behind HAProxy, 20 parallel messages x 50 conversations, Redis and PostgreSQL
# stopped under load, a killed instance, a rolling restart, the stock Redis lock
# store for comparison; prints the table and each target as [MET] or [MISSED].
soak: setup haproxy
	$(PY) -m bot train
	$(PY) -m tests.scale.soak $(SOAK_ARGS)

# HAProxy from Debian's packages, installed when missing (as root, or with sudo).
haproxy:
	@if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then \
		echo "Installing HAProxy (Debian package) for the production shape..."; \
		SUDO=""; if [ "$$(id -u)" != 0 ]; then SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq haproxy >/dev/null; \
	fi
