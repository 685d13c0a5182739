# VoiceFlow: `make run` starts the whole stack, `make test` runs every test. See README.md.
# The work is done by scripts/stack.sh (the local stack) and scripts/test.sh (the test command);
# both take their settings from the environment, e.g. `EDGE_PORT=9090 GATEWAYS=2 make up`.
.DEFAULT_GOAL := help
STACK := scripts/stack.sh
CONFIG ?= debug
export CONFIG

.PHONY: help run up down status logs build test test-deploy deps

help: ## list the targets
	@echo "VoiceFlow (settings via environment: see scripts/stack.sh)"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

run: ## install what is missing, build, run everything on 127.0.0.1:8080 in the foreground (Ctrl-C stops it)
	@$(STACK) run

up: ## the same in the background; returns once every service is ready
	@$(STACK) up

down: ## stop what `make up` started
	@$(STACK) down

status: ## what runs where
	@$(STACK) status

logs: ## follow the logs (S=auth for one service)
	@$(STACK) logs $(S)

deps: ## install the Debian packages the stack needs (only what is missing)
	@$(STACK) deps

build: ## build every executable (CONFIG=release for an optimised build) and the web client
	web/deps.sh
	web/build.sh
	swift build -c $(CONFIG)

test: ## every test: Swift tests on a private PostgreSQL and Redis, then end-to-end tests through the edge
	@scripts/test.sh

test-deploy: ## the compose deployment run for real in containers (podman): images, scale, failures
	@scripts/test-deploy.sh
