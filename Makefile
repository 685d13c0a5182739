# VoiceFlow: `make run` starts the whole stack, `make test` runs every test. See README.md.
.DEFAULT_GOAL := help
STACK := scripts/stack.sh

.PHONY: help run up down status logs build test deps

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

run: ## build and run everything in the foreground on 127.0.0.1:8080 (Ctrl-C stops it)
	@$(STACK) run

up: ## the same in the background; returns once every service is ready
	@$(STACK) up

down: ## stop what `make up` started
	@$(STACK) down

status: ## what runs where
	@$(STACK) status

logs: ## follow the logs
	@$(STACK) logs

deps: ## install the Debian packages the stack needs
	@$(STACK) deps

build: ## build every target
	swift build

test: ## every test: Swift tests on a private PostgreSQL and Redis, then end-to-end tests through the edge
	@scripts/test.sh
