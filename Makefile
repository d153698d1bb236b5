# LiteHQ Calendar API kit. Every target makes the virtualenv it needs from requirements.txt.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | sha1sum | cut -c1-12)

HOST ?= 127.0.0.1
PORT ?= 8080
REDOCLY := npx --yes @redocly/cli@2.77.0

.PHONY: help venv lint bundle sdk test mock conformance bench bench-scale bench-profile lock clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-*; touch $@

venv: $(STAMP) ## create .venv from the pinned requirements

lint: $(STAMP) ## validate (openapi-spec-validator, prance) and lint (Redocly) the contract
	$(PY) -m tools.spec validate
	$(REDOCLY) lint --config redocly.yaml openapi/openapi.yaml openapi/mock-control.yaml

bundle: $(STAMP) ## write dist/openapi.yaml and dist/openapi.json from the split contract
	$(PY) -m tools.spec bundle

sdk: $(STAMP) ## generate the Python client and TypeScript types from dist/openapi.json into build/sdk/ (TypeScript needs node+npm)
	$(PY) -m tools.sdk

test: $(STAMP) ## the project's own tests, incl. the conformance suite against a fresh mock
	$(PY) -m pytest -q -m "not slow"

mock: $(STAMP) ## serve the demo API on $(HOST):$(PORT) [RATE_LIMIT=off|N|BURST/PER_MIN WEBHOOK_URL=… WEBHOOK_SECRET=whsec_… MOCK_ARGS=…]
	$(PY) -m mock_server --host $(HOST) --port $(PORT) $(if $(RATE_LIMIT),--rate-limit $(RATE_LIMIT)) $(if $(WEBHOOK_URL),--webhook-url '$(WEBHOOK_URL)') $(if $(WEBHOOK_SECRET),--webhook-secret '$(WEBHOOK_SECRET)') $(MOCK_ARGS)

conformance: $(STAMP) ## verdict on a deployment: BASE_URL=… TOKEN=… [READONLY_TOKEN OTHER_TOKEN NOSTRIPE_TOKEN RATE_LIMIT_TOKEN PROFILE=full|safe MAX_EXAMPLES]
	@test -n "$$BASE_URL" -a -n "$$TOKEN" || { echo "usage: make conformance BASE_URL=https://host TOKEN=sk_… [READONLY_TOKEN=… OTHER_TOKEN=… NOSTRIPE_TOKEN=… RATE_LIMIT_TOKEN=… PROFILE=full|safe MAX_EXAMPLES=…]" >&2; exit 2; }
	@# Make exports command-line and environment variables to the recipe, and the CLI reads them
	@# from there: the tokens never appear on a command line or in the log.
	@$(PY) -m conformance $(CONFORMANCE_ARGS)

bench: $(STAMP) ## our mock vs Prism under wrk, side by side (writes bench/results.md)
	command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk; }
	cd bench && npm ci --silent --no-audit --no-fund
	$(PY) bench/compare.py $(BENCH_ARGS)

bench-scale: $(STAMP) ## mock list latency at 1k/100k/1M bookings, RSS at 100k, conformance wall time (writes bench/scale_results.md)
	$(PY) bench/scale.py $(SCALE_ARGS)

bench-profile: $(STAMP) ## py-spy flame graph of the mock under wrk [ENDPOINT=list|create] (writes reports/profile/)
	command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk; }
	$(PY) -m pip install --quiet --disable-pip-version-check py-spy==0.4.3
	$(PY) bench/profile.py --endpoint $(or $(ENDPOINT),list) $(PROFILE_ARGS)

lock: ## re-resolve requirements.txt from requirements.in
	rm -rf /tmp/litehq-lock && $(PYTHON) -m venv /tmp/litehq-lock
	/tmp/litehq-lock/bin/pip install --quiet -r requirements.in
	(echo "# Generated from requirements.in by \`make lock\`; do not edit by hand."; /tmp/litehq-lock/bin/pip freeze) > requirements.txt

clean: ## remove the virtualenv and generated reports
	rm -rf $(VENV) reports build .pytest_cache
