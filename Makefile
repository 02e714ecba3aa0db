# newsmon: `make run` and `make test` do all their own set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run demo test test-fast test-integration lint bench bench-classify bench-poll clean chromium

# setup.py builds the classifier's compiled modules (pipeline/core/_wordscan.c, _scoring.c).
$(STAMP): pyproject.toml setup.py pipeline/core/_wordscan.c pipeline/core/_scoring.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)            ## everything on one machine, polling config/feeds.yaml
	$(BIN)/newsmon run

demo: $(STAMP)           ## the same, offline, on live demo feeds served on 127.0.0.1
	$(BIN)/newsmon run --demo

# The browser test drives Debian's Chromium with Playwright (no browser download).
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	    || echo "could not install chromium: the browser test will skip"; \
	  else echo "chromium missing: the browser test will skip (apt-get install chromium)"; fi; }

test: $(STAMP) chromium  ## the whole suite: fast unit tests and the slow integration tests
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

test-integration: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)          ## end-to-end benchmark: poller -> broker -> worker -> alerts
	$(BIN)/python benchmarks/e2e.py

bench-classify: $(STAMP) ## classification speed with the full topic packs, articles/s per core
	$(BIN)/python benchmarks/classify.py

bench-poll: $(STAMP)     ## poller benchmark: 10,000 feeds on 2,000 hostnames, first and steady cycle
	$(BIN)/python benchmarks/poll_farm.py

clean:
	rm -rf $(VENV) var .pytest_cache
