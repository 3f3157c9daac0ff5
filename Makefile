# congso: `make run` (the demo) and `make test` (the whole suite) on a fresh Debian machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# one test process per core: most of the suite waits on brokers, browsers and services
PYTEST_WORKERS ?= 2

.PHONY: run test lint bench rabbitmq venv clean

$(STAMP): pyproject.toml scripts/bootstrap-python.sh
	scripts/bootstrap-python.sh "$(PYTHON)" "$(VENV)"
	touch $(STAMP)

venv: $(STAMP)

## run: all three services in one process on embedded defaults, with demo data
run: $(STAMP)
	$(PY) -m services

## rabbitmq: make sure a RabbitMQ server answers on 127.0.0.1:5672
rabbitmq: $(STAMP)
	scripts/ensure-rabbitmq.sh "$(PY)"

## test: the whole suite against the real RabbitMQ (and Debian's Chromium for the kiosk)
test: $(STAMP) rabbitmq
	scripts/ensure-tools.sh chromium
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

## lint: ruff
lint: $(STAMP)
	$(PY) -m ruff check shared services tests bench devkit

## bench: throughput figures, written to docs/BENCHMARKS.md
bench: $(STAMP) rabbitmq
	scripts/ensure-tools.sh wrk
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
