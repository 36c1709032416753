# The two commands of the README: `make run` and `make test`. Both do every set-up step on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
WEB_SOURCES := $(shell find web/src web/index.html web/vite.config.ts -type f 2>/dev/null)

.PHONY: install run test lint typecheck pytest webtest system-deps demo clean

install: $(STAMP) web-build

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

# The web page is built into the Python package's static folder, which the server serves at `/`.
.PHONY: web-build
web-build: src/datavox/static/index.html

# npm writes node_modules/.package-lock.json on every install: a changed lock file reinstalls.
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund

src/datavox/static/index.html: $(WEB_SOURCES) web/package.json web/node_modules/.package-lock.json
	cd web && npm run build

# Debian packages the tests need (run as root, as on the CI machine): chromium for the browser tests,
# docker-compose (v1, Python) to validate compose.yaml without a container engine.
system-deps:
	@command -v chromium >/dev/null 2>&1 && command -v docker-compose >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium docker-compose >/dev/null)

demo: install
	$(BIN)/datavox demo --if-missing

run: install demo
	$(BIN)/datavox serve

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: install system-deps
	$(BIN)/python -m pytest -q

webtest: web-build
	cd web && npm test

test: lint typecheck webtest pytest

clean:
	rm -rf $(VENV) web/node_modules src/datavox/static
