#!/usr/bin/env bash
# The local VoiceFlow stack: PostgreSQL, Redis, every service and the HAProxy edge, on loopback.
#
#   scripts/stack.sh run       everything in the foreground; Ctrl-C stops what it started
#   scripts/stack.sh up        the same in the background; returns once every /ready answers
#   scripts/stack.sh down      stops what `up` started
#   scripts/stack.sh status    what runs where
#   scripts/stack.sh logs      follows the logs
#   scripts/stack.sh infra     only PostgreSQL and Redis (prints their URLs as shell assignments)
#   scripts/stack.sh deps      installs the Debian packages the stack needs
#
# Settings (environment): DATABASE_URL / REDIS_URL (use these servers instead of private ones),
# VOICEFLOW_STATE_DIR (default .data), EDGE_PORT (8080), PG_PORT (5432 or the next free one),
# REDIS_PORT (6379 or the next free one), SERVICE_PORT_BASE (3000: auth on +1), GATEWAYS (1),
# GATEWAY_PORT_BASE (8100: gateway N on +N), CONFIG (debug or release), READY_TIMEOUT (180 s).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE_DIR=${VOICEFLOW_STATE_DIR:-$ROOT/.data}
case "$STATE_DIR" in /*) ;; *) STATE_DIR=$ROOT/$STATE_DIR ;; esac
EDGE_PORT=${EDGE_PORT:-8080}
SERVICE_PORT_BASE=${SERVICE_PORT_BASE:-3000}
GATEWAYS=${GATEWAYS:-1}
GATEWAY_PORT_BASE=${GATEWAY_PORT_BASE:-8100}
CONFIG=${CONFIG:-debug}
READY_TIMEOUT=${READY_TIMEOUT:-180}
RUN_DIR=$STATE_DIR/run
LOG_DIR=$STATE_DIR/logs
ENV_FILE=$STATE_DIR/run/stack.env

# Services and their port offsets from SERVICE_PORT_BASE. The gateway is started separately (N copies).
SERVICE_OFFSETS=(auth:1 rooms:2 messages:3 signaling:5 jobs:6)

log() { printf '[stack] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ---------------------------------------------------------------- dependencies

postgres_bin() {
  local dir
  dir=$(find /usr/lib/postgresql -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && echo "$dir"
}

install_deps() {
  local missing=()
  pkg-config --exists hiredis 2>/dev/null || missing+=(libhiredis-dev pkg-config)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v haproxy >/dev/null || missing+=(haproxy)
  [ -n "$(postgres_bin)" ] || missing+=(postgresql)
  command -v curl >/dev/null || missing+=(curl)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# ---------------------------------------------------------------- helpers

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port_from() {
  local port=$1
  while ! port_free "$port"; do port=$((port + 1)); done
  echo "$port"
}

pid_alive() {
  local file=$1
  [ -f "$file" ] && kill -0 "$(cat "$file")" 2>/dev/null
}

# The services whose executables Package.swift declares, in start order (auth first: it creates the key).
declared_services() {
  local entry name
  for entry in "${SERVICE_OFFSETS[@]}"; do
    name=${entry%%:*}
    grep -q "\.executable(name: \"voiceflow-$name\"" "$ROOT/Package.swift" && echo "$name"
  done
  return 0
}

has_gateway() {
  grep -q '\.executable(name: "voiceflow-gateway"' "$ROOT/Package.swift"
}

service_port() {
  local entry
  for entry in "${SERVICE_OFFSETS[@]}"; do
    if [ "${entry%%:*}" = "$1" ]; then echo $((SERVICE_PORT_BASE + ${entry##*:})); return; fi
  done
  die "unknown service $1"
}

# ---------------------------------------------------------------- build

build() {
  log "building ($CONFIG)"
  (cd "$ROOT" && swift build -c "$CONFIG")
  BIN_DIR=$(cd "$ROOT" && swift build -c "$CONFIG" --show-bin-path)
}

# ---------------------------------------------------------------- PostgreSQL

# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user, and lives
# under the state directory when that user can reach it, else under /var/tmp.
pg_data_dir() {
  if [ -n "${PG_DATA:-}" ]; then echo "$PG_DATA"; return; fi
  if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$STATE_DIR" 2>/dev/null; then
    echo "/var/tmp/voiceflow-$(printf '%s' "$STATE_DIR" | cksum | cut -d' ' -f1)/postgres"
  else
    echo "$STATE_DIR/postgres"
  fi
}

pg_run() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local bin data port
  bin=$(postgres_bin) || die "PostgreSQL is not installed"
  data=$(pg_data_dir)
  if [ -f "$RUN_DIR/postgres.port" ] && pg_run "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    port=$(cat "$RUN_DIR/postgres.port")
  else
    port=${PG_PORT:-$(free_port_from 5432)}
    port_free "$port" || die "port $port (PG_PORT) is taken"
    mkdir -p "$(dirname "$data")"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$(dirname "$data")"; fi
    if [ ! -f "$data/PG_VERSION" ]; then
      log "creating a PostgreSQL cluster in $data"
      pg_run "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 >/dev/null
    fi
    pg_run "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
      -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
    echo "$port" >"$RUN_DIR/postgres.port"
    echo "$data" >"$RUN_DIR/postgres.data"
  fi
  pg_run "$bin/psql" -h "$data" -p "$port" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
SELECT 'CREATE ROLE voiceflow LOGIN CREATEDB PASSWORD ''voiceflow'''
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'voiceflow')\gexec
SELECT 'CREATE DATABASE voiceflow OWNER voiceflow'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'voiceflow')\gexec
SQL
  DATABASE_URL="postgresql://voiceflow:voiceflow@127.0.0.1:$port/voiceflow"
}

stop_postgres() {
  [ -f "$RUN_DIR/postgres.data" ] || return 0
  local bin data
  bin=$(postgres_bin) || return 0
  data=$(cat "$RUN_DIR/postgres.data")
  pg_run "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  rm -f "$RUN_DIR/postgres.data" "$RUN_DIR/postgres.port"
}

# ---------------------------------------------------------------- Redis

start_redis() {
  local port
  if pid_alive "$RUN_DIR/redis.pid" && [ -f "$RUN_DIR/redis.port" ]; then
    port=$(cat "$RUN_DIR/redis.port")
  else
    port=${REDIS_PORT:-$(free_port_from 6379)}
    port_free "$port" || die "port $port (REDIS_PORT) is taken"
    mkdir -p "$STATE_DIR/redis"
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes \
      --pidfile "$RUN_DIR/redis.pid" --dir "$STATE_DIR/redis" --logfile "$LOG_DIR/redis.log" \
      --appendonly yes --maxmemory-policy noeviction
    echo "$port" >"$RUN_DIR/redis.port"
    local waited=0
    until redis-cli -p "$port" ping >/dev/null 2>&1; do
      waited=$((waited + 1)); [ $waited -lt 100 ] || die "redis-server did not start (see $LOG_DIR/redis.log)"
      sleep 0.1
    done
  fi
  REDIS_URL="redis://127.0.0.1:$port"
}

stop_redis() {
  if pid_alive "$RUN_DIR/redis.pid"; then
    kill "$(cat "$RUN_DIR/redis.pid")" 2>/dev/null || true
  fi
  rm -f "$RUN_DIR/redis.pid" "$RUN_DIR/redis.port"
}

# ---------------------------------------------------------------- infrastructure

start_infra() {
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  if [ -z "${DATABASE_URL:-}" ]; then start_postgres; fi
  if [ -z "${REDIS_URL:-}" ]; then start_redis; fi
  export DATABASE_URL REDIS_URL
}

# ---------------------------------------------------------------- services

service_env() {
  # The environment every service shares; the caller adds PORT.
  export DATABASE_URL REDIS_URL
  export APP_ENV=${APP_ENV:-development}
  export HOST=127.0.0.1
  export JWT_KEY_FILE=${JWT_KEY_FILE:-$STATE_DIR/keys/jwt-ed25519.pem}
  export AUTH_URL="http://127.0.0.1:$(service_port auth)"
  export FRONTEND_URL=${FRONTEND_URL:-http://127.0.0.1:$EDGE_PORT,http://localhost:$EDGE_PORT}
  export TRUST_PROXY=true
  export FILE_STORAGE_DIR=${FILE_STORAGE_DIR:-$STATE_DIR/files}
}

start_process() {
  local name=$1 port=$2
  if pid_alive "$RUN_DIR/$name.pid"; then return; fi
  port_free "$port" || die "port $port for $name is taken"
  (PORT=$port exec "$BIN_DIR/voiceflow-${name%%-*}" >>"$LOG_DIR/$name.log" 2>&1) &
  echo $! >"$RUN_DIR/$name.pid"
}

wait_ready() {
  local name=$1 url=$2 deadline=$((SECONDS + READY_TIMEOUT))
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    if ! pid_alive "$RUN_DIR/$name.pid"; then
      tail -n 30 "$LOG_DIR/$name.log" >&2 || true
      die "$name exited during start-up (log: $LOG_DIR/$name.log)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -n 30 "$LOG_DIR/$name.log" >&2 || true
      die "$name did not become ready within ${READY_TIMEOUT}s (log: $LOG_DIR/$name.log)"
    fi
    sleep 0.2
  done
}

start_services() {
  service_env
  local name
  for name in $(declared_services); do
    start_process "$name" "$(service_port "$name")"
    wait_ready "$name" "http://127.0.0.1:$(service_port "$name")/ready"
  done
  if has_gateway; then
    local index
    for index in $(seq 1 "$GATEWAYS"); do
      start_process "gateway-$index" $((GATEWAY_PORT_BASE + index))
    done
    for index in $(seq 1 "$GATEWAYS"); do
      wait_ready "gateway-$index" "http://127.0.0.1:$((GATEWAY_PORT_BASE + index))/ready"
    done
  fi
}

start_edge() {
  local config=$RUN_DIR/haproxy.cfg gateways="" index
  if has_gateway; then
    for index in $(seq 1 "$GATEWAYS"); do
      gateways+="    server gateway-$index 127.0.0.1:$((GATEWAY_PORT_BASE + index)) check cookie gateway-$index"$'\n'
    done
  fi
  local substitutions=(-e "s|@EDGE_PORT@|$EDGE_PORT|") entry name declared
  declared=" $(declared_services | tr '\n' ' ')"
  for entry in "${SERVICE_OFFSETS[@]}"; do
    name=${entry%%:*}
    if [[ "$declared" == *" $name "* ]]; then
      substitutions+=(-e "s|^@SERVER:$name@\$|    server $name-1 127.0.0.1:$(service_port "$name") check|")
    else
      substitutions+=(-e "/^@SERVER:$name@\$/d")
    fi
  done
  sed "${substitutions[@]}" "$ROOT/deploy/haproxy/local.cfg.template" \
    | awk -v servers="$gateways" '{ if ($0 == "@GATEWAY_SERVERS@") printf "%s", servers; else print }' >"$config"
  haproxy -c -q -f "$config" || die "the edge configuration is invalid ($config)"
  if pid_alive "$RUN_DIR/haproxy.pid"; then
    # Reload in place: new processes take over, old ones finish their connections.
    haproxy -D -f "$config" -p "$RUN_DIR/haproxy.pid" -sf "$(cat "$RUN_DIR/haproxy.pid")"
  else
    port_free "$EDGE_PORT" || die "port $EDGE_PORT (EDGE_PORT) is taken"
    haproxy -D -f "$config" -p "$RUN_DIR/haproxy.pid" 2>>"$LOG_DIR/haproxy.log"
  fi
  local waited=0
  until curl -fsS -o /dev/null "http://127.0.0.1:$EDGE_PORT/edge/health" 2>/dev/null; do
    waited=$((waited + 1)); [ $waited -lt 100 ] || die "the edge did not start"
    sleep 0.1
  done
}

stop_services() {
  local file
  for file in "$RUN_DIR"/*.pid; do
    [ -e "$file" ] || continue
    case "$(basename "$file")" in redis.pid) continue ;; esac
    if pid_alive "$file"; then kill -TERM "$(cat "$file")" 2>/dev/null || true; fi
  done
  # Give them their graceful shutdown, then make sure.
  local waited=0
  for file in "$RUN_DIR"/*.pid; do
    [ -e "$file" ] || continue
    case "$(basename "$file")" in redis.pid) continue ;; esac
    while pid_alive "$file" && [ $waited -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
    if pid_alive "$file"; then kill -KILL "$(cat "$file")" 2>/dev/null || true; fi
    rm -f "$file"
  done
}

save_env() {
  {
    printf 'DATABASE_URL=%q\n' "$DATABASE_URL"
    printf 'REDIS_URL=%q\n' "$REDIS_URL"
    printf 'EDGE_URL=%q\n' "http://127.0.0.1:$EDGE_PORT"
  } >"$ENV_FILE"
}

summary() {
  log "VoiceFlow is up"
  log "  edge:       http://127.0.0.1:$EDGE_PORT  (API under /api/v1/)"
  local name
  for name in $(declared_services); do log "  $name: http://127.0.0.1:$(service_port "$name")  (/health /ready /metrics)"; done
  log "  PostgreSQL: ${DATABASE_URL//:voiceflow@/:***@}"
  log "  Redis:      ${REDIS_URL//:*@/:***@}"
  log "  logs:       $LOG_DIR"
}

# ---------------------------------------------------------------- commands

cmd_up() {
  install_deps
  build
  start_infra
  save_env
  start_services
  start_edge
  summary
}

cmd_down() {
  stop_services
  [ -f "$RUN_DIR/redis.port" ] && stop_redis
  stop_postgres
  log "stopped"
}

cmd_status() {
  local file
  for file in "$RUN_DIR"/*.pid; do
    [ -e "$file" ] || continue
    if pid_alive "$file"; then echo "$(basename "$file" .pid): running (pid $(cat "$file"))"; else echo "$(basename "$file" .pid): stopped"; fi
  done
  [ -f "$RUN_DIR/postgres.port" ] && echo "postgres: port $(cat "$RUN_DIR/postgres.port")"
  return 0
}

cmd_run() {
  local tail_pid=""
  trap '[ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null; cmd_down; exit 0' INT TERM
  cmd_up
  log "press Ctrl-C to stop"
  tail -n 0 -F "$LOG_DIR"/*.log &
  tail_pid=$!
  wait
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  run) cmd_run ;;
  status) cmd_status ;;
  logs) tail -n 50 -F "$LOG_DIR"/*.log ;;
  infra) install_deps; start_infra; printf 'DATABASE_URL=%q\nREDIS_URL=%q\n' "$DATABASE_URL" "$REDIS_URL" ;;
  deps) install_deps ;;
  *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
