# One task runner for eventplane. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
EP     := $(BIN)/eventplane
# The brokers `make test` starts when EVENTPLANE_KAFKA_BOOTSTRAP is not set: one per
# pytest-xdist worker, on TEST_KAFKA_PORT + the worker's index. With
# EVENTPLANE_KAFKA_BOOTSTRAP set the tests share that broker and run in one process.
TEST_KAFKA_PORT ?= 14092
# 0 = one process. On a 2-core machine two workers (each with its own broker and
# servers) halve the CPU every broker and server gets, and consumer-group rebalances
# then outlast the tests' waits; use TEST_WORKERS=2 or more where cores are spare.
TEST_WORKERS ?= 0
STAMP  := $(VENV)/.installed

.PHONY: help install dev test fuzz faults test-unit test-integration test-helm helm lint fmt protos bench clean prometheus rules

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml deploy/kafka/pom.xml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[server,dev]'
	$(EP) kafka fetch
	@touch $(STAMP)

install: $(STAMP) ## venv in .venv with eventplane + server and dev extras, Kafka jars via Maven

dev: $(STAMP) ## run the platform: local Kafka + server with all roles (Ctrl-C stops both)
	$(EP) dev

test: $(STAMP) ## unit + integration tests against real local Kafka brokers (one per worker, started and stopped here)
	@set -euo pipefail; \
	if [ -n "$${EVENTPLANE_KAFKA_BOOTSTRAP:-}" ]; then workers=0; else workers=$(TEST_WORKERS); fi; \
	EVENTPLANE_TEST_KAFKA_PORT=$(TEST_KAFKA_PORT) EVENTPLANE_TEST_KAFKA_FRESH=1 \
	  $(BIN)/pytest -n $$workers --dist loadfile -m "not long" tests/unit tests/helm tests/integration tests/observability tests/fuzz tests/faults --durations=25 $(PYTEST_ARGS)

FUZZ_EXAMPLES ?= 200

fuzz: $(STAMP) ## every gRPC method fed FUZZ_EXAMPLES generated requests (default 200) against one real server
	EVENTPLANE_TEST_KAFKA_PORT=$(TEST_KAFKA_PORT) EVENTPLANE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
	  $(BIN)/pytest tests/fuzz --timeout 3600 $(PYTEST_ARGS)

faults: $(STAMP) ## the full fault matrix (tests/faults, long scenarios included), printing a table per scenario
	EVENTPLANE_TEST_KAFKA_PORT=$(TEST_KAFKA_PORT) \
	  $(BIN)/pytest tests/faults -s --timeout 900 $(PYTEST_ARGS)

test-helm: $(STAMP) ## chart + Dockerfile tests: helm lint/template, Kubernetes schemas (builds Helm with go install once)
	$(BIN)/pytest tests/helm $(PYTEST_ARGS)

helm: ## install the pinned Helm into ~/.cache/eventplane/bin (go install, ~3 min the first time)
	@tools/install_helm.sh

prometheus: ## Debian's prometheus + promtool (apt-get, as root or via sudo); the observability tests run this when missing
	tools/install_prometheus.sh

rules: prometheus ## promtool: check and unit-test deploy/prometheus/eventplane-rules.yaml
	promtool check rules deploy/prometheus/eventplane-rules.yaml
	promtool test rules deploy/prometheus/tests/*.yaml

test-unit: $(STAMP) ## unit tests only (nothing running needed)
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

lint: $(STAMP) ## ruff (lint + format check), mypy and the import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

fmt: $(STAMP) ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

protos: $(STAMP) ## regenerate platform/eventplane/_gen from protos/
	$(BIN)/python tools/gen_protos.py

bench: $(STAMP) ## every benchmark, JSON lines (starts a local Kafka on the test port if none is configured)
	@set -euo pipefail; \
	if [ -n "$${EVENTPLANE_KAFKA_BOOTSTRAP:-}" ]; then \
	  $(EP) bench all; \
	else \
	  $(EP) kafka start --port $(TEST_KAFKA_PORT) --fresh; \
	  trap '$(EP) kafka stop --port $(TEST_KAFKA_PORT)' EXIT; \
	  EVENTPLANE_KAFKA_BOOTSTRAP=127.0.0.1:$(TEST_KAFKA_PORT) $(EP) bench all; \
	fi

clean: ## remove the venv and caches (not the Kafka jars or data)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache platform/*.egg-info
