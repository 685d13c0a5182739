#!/usr/bin/env bash
# The project's test command (`make test`): Swift tests against a private PostgreSQL and Redis, then
# the whole stack on free ports and the end-to-end tests through its edge. Stops everything it
# started, whatever happens, and fails if any step failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export VOICEFLOW_STATE_DIR=$ROOT/.data/test
STACK=$ROOT/scripts/stack.sh
# A hang must fail the run, not stall it: generous bounds, far below CI's limit.
SWIFT_TEST_TIMEOUT=${SWIFT_TEST_TIMEOUT:-1500}
E2E_TIMEOUT=${E2E_TIMEOUT:-900}

log() { printf '[test] %s\n' "$*" >&2; }

free_port_from() {
  local port=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

cleanup() {
  local status=$?
  "$STACK" down >/dev/null 2>&1 || true
  exit $status
}
trap cleanup EXIT INT TERM

"$STACK" deps
if ! python3 -c 'import pytest, requests' 2>/dev/null; then
  log "installing pytest and requests"
  python3 -m pip install -q pytest requests
fi
if ! command -v st >/dev/null 2>&1; then
  log "installing schemathesis"
  python3 -m pip install -q "schemathesis==4.32.5"
fi

# A fresh state for every run: tests must not depend on leftovers.
"$STACK" down >/dev/null 2>&1 || true
rm -rf "$VOICEFLOW_STATE_DIR"
unset DATABASE_URL REDIS_URL
eval "$(PG_PORT=$(free_port_from 55432) REDIS_PORT=$(free_port_from 56379) "$STACK" infra)"
export DATABASE_URL REDIS_URL

log "building"
swift build --build-tests

log "Swift tests"
timeout --signal=KILL "$SWIFT_TEST_TIMEOUT" swift test --skip-build

log "end-to-end: the whole stack on free ports"
EDGE_PORT=$(free_port_from 18080)
export EDGE_PORT SERVICE_PORT_BASE=13000 GATEWAY_PORT_BASE=18100
export BCRYPT_COST=6 RATE_LIMIT_REGISTER_PER_IP=1000000 RATE_LIMIT_LOGIN_PER_IP=1000000 LOG_LEVEL=info
"$STACK" up
BASE="http://127.0.0.1:$EDGE_PORT"

log "schemathesis against the API description, through the edge"
SUFFIX=$(date +%s%N | tail -c 9)
TOKEN=$(curl -fsS -X POST "$BASE/api/v1/auth/register" -H 'Content-Type: application/json' \
  -d "{\"username\":\"fuzz_$SUFFIX\",\"email\":\"fuzz_$SUFFIX@example.com\",\"password\":\"fuzzing password\",\"confirmPassword\":\"fuzzing password\"}" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
# No 5xx, and every response documented: status, content type and schema.
timeout --signal=KILL 600 st run "$BASE/api/v1/openapi.json" -H "Authorization: Bearer $TOKEN" \
  -c not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  -n "${SCHEMATHESIS_EXAMPLES:-10}" --max-time "${SCHEMATHESIS_SECONDS:-150}" --continue-on-failure --no-color
# Hostile input must not have brought any service down.
if "$STACK" status | grep -q stopped; then
  "$STACK" status >&2
  log "a service died during the fuzzing run"
  exit 1
fi

log "end-to-end tests through the edge (after the fuzzing, on the same stack)"
VOICEFLOW_BASE_URL="$BASE" VOICEFLOW_STATE_DIR="$VOICEFLOW_STATE_DIR" VOICEFLOW_BIN_DIR="$(swift build --show-bin-path)" \
  timeout --signal=KILL "$E2E_TIMEOUT" python3 -m pytest -q -p no:cacheprovider Tests/e2e
