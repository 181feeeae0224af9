# Two commands do all the set-up on a fresh Debian 12 machine (as root):
#   make demo   boot the cluster fleet in the lab and converge the stack on it
#   make test   linters, unit tests, and the integration tests on booted lab hosts

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
JUDGES := .venv-judges
APT_PACKAGES := systemd-container mmdebstrap tinyproxy iproute2 openssh-client openssl curl \
	util-linux gnupg age pebble nmap git
TOPOLOGY ?= cluster

.PHONY: deps venv demo test lint unit integration bench down clean

deps: venv
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $$missing >/dev/null; \
	fi

venv: $(VENV)/.installed $(JUDGES)/.installed

$(VENV)/.installed: requirements/lab.in requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check \
		-r requirements/lab.in -c requirements/constraints.txt
	touch $@

$(JUDGES)/.installed: requirements/judges.in requirements/judges-constraints.txt
	test -x $(JUDGES)/bin/python || $(PYTHON) -m venv $(JUDGES)
	$(JUDGES)/bin/pip install --quiet --disable-pip-version-check \
		-r requirements/judges.in -c requirements/judges-constraints.txt
	touch $@

demo: deps
	$(BIN)/python -m labkit.demo --topology $(TOPOLOGY)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/yamllint -s .
	find salt -name '*.sls' -print0 | xargs -0 $(BIN)/salt-lint

unit: venv
	$(BIN)/pytest tests/unit

integration: deps
	$(BIN)/pytest tests/integration

test: deps lint
	$(BIN)/pytest tests

down: venv
	./lab down

clean: down
	rm -rf $(VENV) $(JUDGES)

BENCH_ARGS ?=
bench: deps
	$(BIN)/python -m tests.bench.lab_figures --topology $(TOPOLOGY) $(BENCH_ARGS)
