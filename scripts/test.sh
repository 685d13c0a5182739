#!/usr/bin/env bash
# The project's test command (`make test`):
#   1. installs what is missing (the stack's Debian packages; the Python test tools),
#   2. starts a throwaway PostgreSQL and Redis (state in .data/test, free ports) and runs `swift test`
#      against them (DATABASE_URL / REDIS_URL exported), the web client's unit tests (web/test.sh),
#      then the Socket.IO protocol conformance suite (Tests/conformance) against the conformance server,
#   3. starts the whole stack on free ports with that state directory, fuzzes the API through the edge
#      with schemathesis, then runs the end-to-end tests (Tests/e2e) through the edge,
#   4. then the browser tests (Tests/browser) against the same stack: headless Chromium (Debian's
#      chromium and chromium-driver, installed when missing) driven by Selenium.
# Everything it started is stopped whatever happens (trap); it fails if any step failed.
# Knobs: SWIFT_TEST_TIMEOUT (1500 s), E2E_TIMEOUT (900 s), BROWSER_TIMEOUT (600 s), SCHEMATHESIS=0 to
# skip fuzzing, SCHEMATHESIS_EXAMPLES (10), SCHEMATHESIS_SECONDS (150), SWIFT_TEST_FLAGS (e.g. --filter
# Auth), BROWSER_SCREENSHOT_DIR (where the browser tests' screenshots go: .data/test/screenshots;
# BROWSER_SCREENSHOT_DIR=docs/screenshots refreshes the README's).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export VOICEFLOW_STATE_DIR=$ROOT/.data/test
STACK=$ROOT/scripts/stack.sh
# A hang must fail the run, not stall it: generous bounds, far below CI's limit.
SWIFT_TEST_TIMEOUT=${SWIFT_TEST_TIMEOUT:-1500}
E2E_TIMEOUT=${E2E_TIMEOUT:-900}
BROWSER_TIMEOUT=${BROWSER_TIMEOUT:-600}
SCHEMATHESIS_VERSION=4.32.5
# Python tools go into this virtualenv when the system Python lacks them (Debian's Python refuses
# `pip install` outside one). It lives outside .data/test, which every run wipes.
VENV=$ROOT/.data/venv

log() { printf '[test] %s\n' "$*" >&2; }

# A port is free when nothing accepts a connection on it on loopback.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port_from() {
  local port=$1
  while ! port_free "$port"; do port=$((port + 1)); done
  echo "$port"
}

# The first base >= $1, in steps of 100, with base+1 .. base+$2 all free (a block of service ports).
free_block_from() {
  local base=$1 span=$2 offset
  while :; do
    for offset in $(seq 1 "$span"); do
      port_free $((base + offset)) || break
    done
    if port_free $((base + offset)); then echo "$base"; return; fi
    base=$((base + 100))
  done
}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

# Sets PY to a Python that has pytest, requests, the Socket.IO clients, jsonschema, aiortc, selenium
# (Tests/conformance/requirements.txt) and schemathesis, installing them when missing.
python_tools() {
  local wanted='import pytest, requests, websocket, socketio, redis, aiosmtpd, jsonschema, jwt, cryptography, aiortc, av, aiohttp, selenium'
  [ "${SCHEMATHESIS:-1}" = 0 ] || wanted+=', schemathesis'
  for PY in python3 "$VENV/bin/python"; do
    if command -v "$PY" >/dev/null && "$PY" -c "$wanted" 2>/dev/null; then return; fi
  done
  log "installing pytest, requests, jsonschema, aiortc and schemathesis into $VENV"
  if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null \
      || { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null; }
  fi
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r Tests/conformance/requirements.txt "schemathesis==$SCHEMATHESIS_VERSION"
  PY=$VENV/bin/python
}

# Headless Chromium and its WebDriver for the browser tests, from Debian, when missing.
browser_tools() {
  command -v chromium >/dev/null && command -v chromedriver >/dev/null && return
  log "installing chromium and chromium-driver"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null \
    || { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; }
}

SINK_PID=
cleanup() {
  local status=$?
  trap - EXIT INT TERM HUP
  log "stopping the test stack"
  "$STACK" down >/dev/null 2>&1 || true
  if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null || true; fi
  if [ "$status" -eq 0 ]; then log "all tests passed"; else log "FAILED (exit $status)"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

"$STACK" deps
python_tools
browser_tools

# A fresh state for every run: tests must not depend on leftovers.
"$STACK" down >/dev/null 2>&1 || true
rm -rf "$VOICEFLOW_STATE_DIR"
unset DATABASE_URL REDIS_URL
eval "$(PG_PORT=$(free_port_from 55432) REDIS_PORT=$(free_port_from 56379) "$STACK" infra)"
export DATABASE_URL REDIS_URL

log "building (with tests)"
swift build --build-tests

log "Swift tests"
read -r -a swift_test_flags <<<"${SWIFT_TEST_FLAGS:-}"
# Some Swift tests drive third-party servers written in Python (the SMTP sink): they use this one.
VOICEFLOW_PYTHON=$(command -v "$PY") timeout --signal=KILL "$SWIFT_TEST_TIMEOUT" swift test --skip-build "${swift_test_flags[@]}"

log "web client unit tests (web/test.sh: stores, catch-up, optimistic sends, token refresh, the protocol copy)"
web/deps.sh
web/test.sh

log "Socket.IO protocol conformance (Tests/conformance)"
VOICEFLOW_BIN_DIR="$(swift build --show-bin-path)" \
  timeout --signal=KILL "$E2E_TIMEOUT" "$PY" -m pytest -q -p no:cacheprovider Tests/conformance

log "job queue under fire (Tests/jobs): worker processes killed, Redis restarted, SIGTERM drains"
VOICEFLOW_BIN_DIR="$(swift build --show-bin-path)" \
  timeout --signal=KILL "$E2E_TIMEOUT" "$PY" -m pytest -q -p no:cacheprovider Tests/jobs

log "end-to-end: the whole stack on free ports"
EDGE_PORT=$(free_port_from 18080)
SERVICE_PORT_BASE=$(free_block_from 13000 6)
# Two gateways: the end-to-end tests exchange events between them and kill one.
GATEWAYS=${GATEWAYS:-2}
GATEWAY_PORT_BASE=$(free_block_from 18100 "$GATEWAYS")
GATEWAY_HEALTH_PORT_BASE=$(free_block_from 18300 "$GATEWAYS")
export EDGE_PORT SERVICE_PORT_BASE GATEWAY_PORT_BASE GATEWAY_HEALTH_PORT_BASE GATEWAYS
# Short presence expiry, so that a killed gateway's users turn offline within the tests' patience.
export PRESENCE_TTL_SECONDS=3
# Short re-checks, so that repairs of lost membership events and presence drift show within the tests.
export MEMBERSHIP_RECHECK_SECONDS=2 PRESENCE_RECONCILE_SECONDS=2
# A gateway silent this long has its voice sessions ended (the tests expect that within 10 s).
export VOICE_GATEWAY_TIMEOUT_SECONDS=3
# coturn's relay ports, apart from those of a development stack (stack.sh's default 49152-49351).
export TURN_RELAY_PORTS=49352-49451
# Fast hashing; rate limits stay on (a test expects 429 once one address keeps failing to sign in
# to one account), but the per-IP limits are lifted: every test client comes from 127.0.0.1.
export APP_ENV=test BCRYPT_COST=6 RATE_LIMITS_ENABLED=true LOG_LEVEL=info
export RATE_LIMIT_REGISTER_PER_IP=1000000 RATE_LIMIT_LOGIN_PER_IP=1000000 RATE_LIMIT_REFRESH_PER_IP=1000000
export RATE_LIMIT_EMAIL_CHANGES_PER_IP=1000000
export RATE_LIMIT_ROOM_JOIN_PER_IP=1000000 RATE_LIMIT_ROOM_JOIN_PER_MINUTE=1000000 RATE_LIMIT_ROOM_CREATE_PER_HOUR=1000000
export RATE_LIMIT_UPLOADS_PER_HOUR=1000000 RATE_LIMIT_EMAIL_CONFIRM_PER_IP=1000000
# Outgoing email goes to a local SMTP sink (aiosmtpd), which writes each message to a directory.
MAIL_DIR=$VOICEFLOW_STATE_DIR/mail
mkdir -p "$MAIL_DIR"
"$PY" Tests/support/smtp_sink.py --port 0 --maildir "$MAIL_DIR" >"$VOICEFLOW_STATE_DIR/smtp-sink.out" 2>"$VOICEFLOW_STATE_DIR/smtp-sink.log" &
SINK_PID=$!
for _ in $(seq 1 100); do
  grep -q '^READY ' "$VOICEFLOW_STATE_DIR/smtp-sink.out" 2>/dev/null && break
  kill -0 "$SINK_PID" 2>/dev/null || { cat "$VOICEFLOW_STATE_DIR/smtp-sink.log" >&2; log "the SMTP sink did not start"; exit 1; }
  sleep 0.1
done
SMTP_PORT=$(sed -n 's/^READY //p' "$VOICEFLOW_STATE_DIR/smtp-sink.out")
[ -n "$SMTP_PORT" ] || { log "the SMTP sink did not report its port"; exit 1; }
export SMTP_HOST=127.0.0.1 SMTP_PORT SMTP_SECURE=none EMAIL_RATE_LIMIT_PER_MINUTE=100000
"$STACK" up
BASE="http://127.0.0.1:$EDGE_PORT"

if [ "${SCHEMATHESIS:-1}" != 0 ]; then
  log "schemathesis against the API description, through the edge"
  SUFFIX=$(date +%s%N | tail -c 9)
  TOKEN=$(curl -fsS -X POST "$BASE/api/v1/auth/register" -H 'Content-Type: application/json' \
    -d "{\"username\":\"fuzz_$SUFFIX\",\"email\":\"fuzz_$SUFFIX@example.com\",\"password\":\"fuzzing password\",\"confirmPassword\":\"fuzzing password\"}" \
    | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  # Every check (-c all): no 5xx; every response documented (status, content type, schema,
  # headers); what the description allows is accepted and what it forbids refused; undeclared
  # methods answer 405 with Allow. A request that matches the description but breaks a rule the
  # description cannot express (two fields that must agree, a file that is not yours) is answered
  # 422, which the description lists; schemathesis is told that such an answer is not a refusal
  # of valid data, and so is a 415 for a file type outside the upload allowlist.
  SCHEMATHESIS_CONFIG=$VOICEFLOW_STATE_DIR/schemathesis.toml
  cat >"$SCHEMATHESIS_CONFIG" <<'TOML'
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

[[operations]]
include-name = "POST /api/v1/files"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "415", "422", "429", "5xx"]

# A room its creator left with nobody in it is closed and, like every room one is not in, answers
# 404 (its existence is not revealed); the resource-availability heuristic knows deletion but not
# leaving, so it takes that 404 for a lost resource, in the stateful phase as well. It is off
# (--exclude-checks below: `-c all` wins over the configuration file).
TOML
  # Bounded: 10 examples per operation and phase, at most 150 s of generation (a few minutes in all).
  (cd "$VOICEFLOW_STATE_DIR" && timeout --signal=KILL 600 "$PY" -m schemathesis.cli --config-file "$SCHEMATHESIS_CONFIG" \
    run "$BASE/api/v1/openapi.json" -H "Authorization: Bearer $TOKEN" -c all --exclude-checks ensure_resource_availability \
    -n "${SCHEMATHESIS_EXAMPLES:-10}" --max-time "${SCHEMATHESIS_SECONDS:-150}" --continue-on-failure --no-color)
  # Hostile input must not have brought any service down.
  if "$STACK" status | grep -q stopped; then
    "$STACK" status >&2
    log "a service died during the fuzzing run"
    exit 1
  fi
fi

log "end-to-end tests through the edge ($BASE)"
VOICEFLOW_GATEWAY_URLS=$(for index in $(seq 1 "$GATEWAYS"); do printf 'http://127.0.0.1:%s,' $((GATEWAY_PORT_BASE + index)); done)
# The voice tests mint and forge TURN credentials against the stack's coturn.
# shellcheck source=/dev/null
VOICEFLOW_TURN_URLS=$(. "$VOICEFLOW_STATE_DIR/run/stack.env" && printf '%s' "$TURN_URLS")
VOICEFLOW_TURN_SECRET=${TURN_SECRET:-$(cat "$VOICEFLOW_STATE_DIR/keys/turn-secret")}
VOICEFLOW_BASE_URL="$BASE" VOICEFLOW_BIN_DIR="$(swift build --show-bin-path)" VOICEFLOW_RUN_DIR="$VOICEFLOW_STATE_DIR/run" \
  VOICEFLOW_GATEWAY_URLS="${VOICEFLOW_GATEWAY_URLS%,}" VOICEFLOW_MAILDIR="$MAIL_DIR" \
  VOICEFLOW_TURN_URLS="$VOICEFLOW_TURN_URLS" VOICEFLOW_TURN_SECRET="$VOICEFLOW_TURN_SECRET" \
  timeout --signal=KILL "$E2E_TIMEOUT" "$PY" -m pytest -q -p no:cacheprovider Tests/e2e

log "browser tests in headless Chromium (Tests/browser), through the edge ($BASE) with $GATEWAYS gateways"
# Chat, uploads, a gateway killed under a browser (and restarted), notifications, the phone layout,
# voice with fake devices, the screenshots and the budgets (printed at the end). The timeout's
# KILL reaches the whole process group: the browsers and their drivers too.
VOICEFLOW_BASE_URL="$BASE" VOICEFLOW_BIN_DIR="$(swift build --show-bin-path)" VOICEFLOW_RUN_DIR="$VOICEFLOW_STATE_DIR/run" \
  VOICEFLOW_GATEWAY_URLS="${VOICEFLOW_GATEWAY_URLS%,}" \
  BROWSER_SCREENSHOT_DIR="${BROWSER_SCREENSHOT_DIR:-$VOICEFLOW_STATE_DIR/screenshots}" \
  BROWSER_ARTIFACT_DIR="${BROWSER_ARTIFACT_DIR:-$VOICEFLOW_STATE_DIR/browser-failures}" \
  timeout --signal=KILL "$BROWSER_TIMEOUT" "$PY" -m pytest -q -p no:cacheprovider Tests/browser
