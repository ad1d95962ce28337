# Progress Sync — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-real lint typecheck unit jstest bench chaos lock clean tools

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Progress Sync needs Python 3.11 or newer (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

SDK_STAMP := $(VENV)/.sdk-installed
# The Python SDK is tested as users get it: a built wheel that takes in shared/domain.
$(SDK_STAMP): $(STAMP) clients/python/pyproject.toml $(wildcard clients/python/src/progress_sync_client/*.py) $(wildcard shared/domain/*.py)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall ./clients/python
	@touch $(SDK_STAMP)

JS := clients/js
JS_STAMP := $(JS)/node_modules/.installed
# The browser SDK's own locked dependencies (npm ci), only when its lock file changes.
$(JS_STAMP): $(JS)/package.json $(JS)/package-lock.json
	cd $(JS) && npm ci --no-audit --no-fund --silent
	@touch $(JS_STAMP)

# The browser SDK: types, unit tests against the golden vectors, the bundle-size bound.
jstest: $(JS_STAMP)
	cd $(JS) && npm run --silent typecheck && npm test --silent

JS_BUNDLE := $(JS)/dist/progress-sync.js
# The SDK bundle the demo page loads; without npm, `make run` still runs and the page says so.
$(JS_BUNDLE): $(JS)/package-lock.json $(wildcard $(JS)/src/*.ts)
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(JS_STAMP) \
	  && cd $(JS) && npm run --silent build; \
	else echo "npm is not installed: the demo page will say the SDK is not built"; fi

run: $(STAMP) $(JS_BUNDLE)
	$(BIN)/progressctl run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP) $(SDK_STAMP)
	$(BIN)/mypy
	cd clients/python && ../../$(BIN)/mypy --config-file pyproject.toml -p progress_sync_client

# Tools some tests use, installed when this machine allows it (root + apt): promtool and the
# Prometheus server (Debian's prometheus), and Chromium for the browser SDK's tests.
tools:
	@command -v promtool >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends prometheus) >/dev/null 2>&1; } \
	  || echo "promtool is not installed: the alert-rule check will be skipped"
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends chromium) >/dev/null 2>&1; } \
	  || echo "chromium is not installed: the browser tests will be skipped"

test: lint typecheck tools jstest
	$(BIN)/pytest

# The suite on the real servers: Apache Kafka (KRaft) and a MongoDB replica set in containers,
# the images of docker-compose.yml, frozen servers by docker pause. Without a Docker engine it
# skips, saying why (and exits 0). PYTEST_ARGS picks tests, e.g. PYTEST_ARGS=tests/e2e.
test-real: $(STAMP)
	@if problem=$$($(BIN)/python -m tests.support.docker_engine); then \
	  PROGRESS_TEST_BACKEND=testcontainers $(BIN)/pytest $(PYTEST_ARGS); \
	else echo "make test-real: skipped: $$problem"; fi

unit: $(STAMP)
	$(BIN)/pytest -m unit

PEER_VENV := var/peer-venv
PEER_STAMP := $(PEER_VENV)/.installed
# The bench's peer (bench/peer/, Quix Streams) in a venv of its own, hash-locked apart: its
# pins of pydantic and pydantic-settings are below requirements.lock's. Only `make bench` needs it.
$(PEER_STAMP): requirements-peer.lock
	@test -x $(PEER_VENV)/bin/python || $(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-peer.lock
	@touch $(PEER_STAMP)

# BASELINE=<commit>: the same sections on a worktree of that commit too, figures side by side.
bench: $(STAMP) $(PEER_STAMP)
	$(BIN)/python -m bench $(if $(FULL),--full,) $(if $(RUNS),--runs $(RUNS),) $(if $(BASELINE),--baseline $(BASELINE),)

# The fault and fuzz campaign (not part of `make test`): QUICK=1 for about 2 minutes.
chaos: $(STAMP)
	$(BIN)/python -m chaos $(if $(QUICK),--quick,) $(CHAOS_ARGS)

# Three hash-locked sets. Two from pyproject.toml: requirements.lock (development: the runtime, the
# embedded servers and the tools; what `make` installs and the tests run on) and
# requirements-runtime.lock (the runtime dependencies only, at the very same versions; what
# deploy/Dockerfile installs). uv keeps the pins already in a lock unless pyproject forbids them.
# The third, requirements-peer.lock from bench/peer/requirements.in: the bench's peer alone.
lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra embedded --python-version 3.11 --generate-hashes -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --constraint requirements.lock --python-version 3.11 --generate-hashes -o requirements-runtime.lock
	$(BIN)/uv pip compile bench/peer/requirements.in --python-version 3.11 --generate-hashes -o requirements-peer.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache $(JS)/node_modules $(JS)/dist
