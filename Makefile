# Gudang developer commands. A fresh Debian machine with python3 and apt (as root) is enough:
#   make run    start RabbitMQ (installing it if missing), the five services and Prometheus,
#               seed a demo world
#   make test   lint, format check and the whole test suite against a real RabbitMQ

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp
PACKAGES := lib gateway services/inventory services/packing services/shipping services/billing
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
APT_INSTALL := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends

.PHONY: help venv rabbitmq prometheus run test test-tools bench chaos lint fmt clean

help:
	@echo "make run       start the platform (venv, RabbitMQ, five services, Prometheus, demo data)"
	@echo "make test      ruff + pytest against a real RabbitMQ"
	@echo "make bench     run the benchmarks"
	@echo "make chaos     crash and cut the platform under load; writes docs/reliability.md"
	@echo "make lint|fmt  ruff check / ruff format"
	@echo "make venv      create or update .venv"
	@echo "make rabbitmq  make sure RabbitMQ with the management plugin runs"
	@echo "make prometheus  install Prometheus (Debian package) when missing"
	@echo "make clean     remove var/ and .venv"

venv: $(STAMP)

$(BIN)/python:
	@if ! $(PYTHON) -m venv $(VENV) >/dev/null 2>&1; then \
	  rm -rf $(VENV); \
	  if command -v apt-get >/dev/null 2>&1; then \
	    pyver=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	    echo "python venv support is missing; installing python$$pyver-venv with apt"; \
	    $(APT_INSTALL) python3-venv "python$$pyver-venv" >/dev/null 2>&1 || \
	      { $(SUDO) apt-get update -qq && $(APT_INSTALL) python3-venv "python$$pyver-venv"; }; \
	  fi; \
	  $(PYTHON) -m venv $(VENV); \
	fi

# Re-install only when the requirements or a package's pyproject.toml changed since the last run.
$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt $(PYPROJECTS)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt \
	  $(addprefix -e ,$(PACKAGES))
	@touch $(STAMP)

rabbitmq:
	@bash scripts/ensure-rabbitmq.sh

# Debian's prometheus for `make run`; without it (no apt, no root) the platform runs anyway.
prometheus:
	@if ! command -v prometheus >/dev/null 2>&1 && [ ! -x /usr/bin/prometheus ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "installing prometheus with apt"; \
	    $(APT_INSTALL) prometheus >/dev/null 2>&1 || \
	      { $(SUDO) apt-get update -qq && $(APT_INSTALL) prometheus >/dev/null; } || \
	      echo "could not install prometheus; make run goes on without it"; \
	  fi; \
	fi

run: venv rabbitmq prometheus
	$(BIN)/python -m scripts.supervisor run

# promtool (Debian package prometheus) checks deploy/prometheus; chromium runs the tablet UI tests;
# poppler-utils (pdftoppm, pdftotext) opens the invoice, label and manifest PDFs in the tests; zbar-tools scans the AWB barcode.
test-tools:
	@missing=""; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	command -v zbarimg >/dev/null 2>&1 || missing="$$missing zbar-tools"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium fonts-liberation"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "installing$$missing with apt"; \
	    $(APT_INSTALL) $$missing >/dev/null 2>&1 || \
	      { $(SUDO) apt-get update -qq && $(APT_INSTALL) $$missing >/dev/null; }; \
	  fi; \
	fi

test: venv rabbitmq test-tools
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# order flow end to end (with the raw nameko baseline), the embedded stores per operation and
# the ordered list indexes' upkeep against litemongo alone, inventory allocation cost as data grows,
# an order import of 10,000 file rows (rows/s, gateway memory), billing: fee postings per
# second and a 100,000-order month's invoice, the pick walk: metres per order, batch picking
# against order by order, on a generated 20 x 40-bin floor; intake with 50 concurrent
# clients; each list route's page time for a merchant with a short and a long history; the
# server's answer time per pick scan while orders flow
bench: venv rabbitmq
	$(BIN)/python -m scripts.bench
	$(BIN)/python -m scripts.bench_steady
	$(BIN)/python -m scripts.bench_store
	$(BIN)/python -m scripts.bench_ordered
	$(BIN)/python -m scripts.bench_inventory
	$(BIN)/python -m scripts.bench_import
	$(BIN)/python -m scripts.bench_billing
	$(BIN)/python -m scripts.bench_walk
	$(BIN)/python -m scripts.bench_intake
	$(BIN)/python -m scripts.bench_lists
	$(BIN)/python -m scripts.bench_scan

# kill -9, cut connections, replay courier reports under a steady order flow; count the damage
chaos: venv rabbitmq
	$(BIN)/python -m scripts.chaos --write docs/reliability.md

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var $(VENV)
