#!/usr/bin/env bash
# The local VoiceFlow stack: PostgreSQL, Redis, every service and the HAProxy edge, on loopback.
#
#   scripts/stack.sh run        everything in the foreground; Ctrl-C stops what it started
#   scripts/stack.sh up         the same in the background; returns once every /ready and the edge answer
#   scripts/stack.sh down       stops what `up` started (services, edge, and its own PostgreSQL and Redis)
#   scripts/stack.sh status     what runs where
#   scripts/stack.sh logs [S]   follows the logs (all, or those of service S)
#   scripts/stack.sh infra      only PostgreSQL and Redis; prints DATABASE_URL/REDIS_URL as shell assignments
#   scripts/stack.sh deps       installs the Debian packages the stack needs (only what is missing)
#   scripts/stack.sh edge-config  prints the edge (HAProxy) configuration `up` would use
#
# Settings (environment):
#   DATABASE_URL, REDIS_URL  use these servers instead of starting private ones
#   TURN_URLS                voice uses this TURN server (comma-separated turn: URLs) instead of a
#                            private coturn; it must accept REST credentials signed with TURN_SECRET
#   TURN_SECRET              what TURN credentials are signed with (default: 32 random bytes, generated
#                            once into <state dir>/keys/turn-secret and reused)
#   TURN_PORT (3478 or the next free)   TURN_RELAY_PORTS (49152-49351: coturn's relay port range)
#   STUN_URLS                the STUN servers voice clients are given (default: the private coturn)
#   VOICEFLOW_STATE_DIR      where data, logs and pid files live (default .data, git-ignored)
#   EDGE_PORT (8080)         PG_PORT (5432 or the next free)   REDIS_PORT (6379 or the next free)
#   SERVICE_PORT_BASE (3000: auth +1, rooms +2, messages +3, web +4, signaling +5, jobs +6)
#   WEB_BUILD (1)            build the browser client (web/build.sh) with the services; 0 serves what web/dist holds
#   GATEWAYS (1)             GATEWAY_PORT_BASE (8100: gateway N listens on +N)
#   GATEWAY_HEALTH_PORT_BASE (GATEWAY_PORT_BASE+100: gateway N answers the edge's health checks on +N)
#   CONFIG (debug|release)   SWIFT_BUILD_FLAGS (extra `swift build` flags, e.g. --scratch-path .build-x)
#   VOICEFLOW_BIN_DIR        run prebuilt executables from this directory instead of building
#   READY_TIMEOUT (180)      seconds each service may take to answer /ready
#   EDGE_HANDSHAKES_PER_IP (300)   Socket.IO handshakes one client address may start per 10 s at the edge (then 429)
#   EDGE_GATEWAY_MAXCONN (20000)   connections the edge holds open to one gateway (more wait in its queue, then 503)
# Every other variable (BCRYPT_COST, LOG_LEVEL, RATE_LIMIT_*, ...) passes through to the services.
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
ENV_FILE=$RUN_DIR/stack.env

# The services (besides the gateway, which runs as N copies) and their port offsets from
# SERVICE_PORT_BASE, in start order. A service runs once Package.swift declares its executable
# `voiceflow-<name>`; adding one means adding it here (and its route to the edge template).
SERVICE_OFFSETS=(auth:1 rooms:2 messages:3 web:4 signaling:5 jobs:6)

# What this invocation started (pid file names, "redis", "postgres"): undone if start-up fails.
STARTED=()

log() { printf '[stack] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "need root (or sudo) for: $*"
  fi
}

# ---------------------------------------------------------------- dependencies

postgres_bin() {
  local dir
  dir=$(find /usr/lib/postgresql -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/psql" ] && echo "$dir"
}

# Installs Debian packages; `apt-get update` runs once (VOICEFLOW_APT_UPDATED=1 says it already ran).
apt_install() {
  command -v apt-get >/dev/null || die "missing $*, and this is not a Debian-like system: install them and retry"
  if [ -z "${VOICEFLOW_APT_UPDATED:-}" ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    export VOICEFLOW_APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The system packages the stack needs; a fast no-op when everything is there.
install_deps() {
  local missing=()
  { command -v pkg-config >/dev/null && pkg-config --exists hiredis; } || missing+=(libhiredis-dev pkg-config)
  { command -v redis-server >/dev/null && command -v redis-cli >/dev/null; } || missing+=(redis-server)
  command -v haproxy >/dev/null || missing+=(haproxy)
  postgres_bin >/dev/null || missing+=(postgresql)
  command -v curl >/dev/null || missing+=(curl)
  command -v setsid >/dev/null || missing+=(util-linux)
  command -v turnserver >/dev/null || missing+=(coturn)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    apt_install "${missing[@]}"
  fi
}

# ---------------------------------------------------------------- helpers

# A port is free when nothing accepts a connection on it on loopback.
port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port_from() {
  local port=$1
  while ! port_free "$port"; do port=$((port + 1)); done
  echo "$port"
}

# A UDP port is free when no socket is bound to it, on any address (/proc/net/udp and udp6).
udp_port_free() {
  local hex
  hex=$(printf ':%04X' "$1")
  ! cat /proc/net/udp /proc/net/udp6 2>/dev/null \
    | awk -v port="$hex" 'substr($2, length($2) - 4) == port { found = 1 } END { exit !found }'
}

# True when the pid in $1 is alive and still runs the program we started (pids get reused).
pid_alive() {
  local file=$1 pid cmdline tries=0
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # While a process execs (setsid, then the server it starts) its cmdline reads empty for a moment:
  # that is a live process, not a dead one.
  # (stderr goes first: a process that exits meanwhile makes the open itself fail, quietly.)
  while cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || true) && [ -z "$cmdline" ] && [ $tries -lt 50 ]; do
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.01
    tries=$((tries + 1))
  done
  printf '%s' "$cmdline" | grep -qE 'voiceflow-|haproxy|redis-server|turnserver'
}

# Hides the password of a URL (scheme://user:password@host -> scheme://user:***@host).
redact() {
  printf '%s' "$1" | sed -E 's#^([a-z]+://[^:/@]*):[^@]*@#\1:***@#'
}

# The services whose executables Package.swift declares, in start order.
declared_services() {
  local entry name
  for entry in "${SERVICE_OFFSETS[@]}"; do
    name=${entry%%:*}
    if grep -q "\.executable(name: \"voiceflow-$name\"" "$ROOT/Package.swift"; then echo "$name"; fi
  done
}

has_gateway() {
  grep -q '\.executable(name: "voiceflow-gateway"' "$ROOT/Package.swift"
}

service_port() {
  local entry
  for entry in "${SERVICE_OFFSETS[@]}"; do
    if [ "${entry%%:*}" = "$1" ]; then
      echo $((SERVICE_PORT_BASE + ${entry##*:}))
      return
    fi
  done
  die "unknown service $1"
}

gateway_port() { echo $((GATEWAY_PORT_BASE + $1)); }
# Where gateway N answers /health and /ready on a thread of its own (what the edge checks).
gateway_health_port() { echo $((${GATEWAY_HEALTH_PORT_BASE:-$((GATEWAY_PORT_BASE + 100))} + $1)); }

# ---------------------------------------------------------------- build

# The browser client, into web/dist (what voiceflow-web serves), unless it is newer than its sources.
build_web() {
  [ "${WEB_BUILD:-1}" != 0 ] || return 0
  local dist=$ROOT/web/dist/index.html
  if [ -f "$dist" ] && [ -z "$(find "$ROOT/web/src" "$ROOT/web/public" "$ROOT/web/index.html" "$ROOT/web/build.sh" \
      "$ROOT/web/tsconfig.json" -newer "$dist" -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  "$ROOT/web/deps.sh"
  log "building the web client"
  "$ROOT/web/build.sh" >&2 || die "the web client did not build (web/build.sh)"
}

build() {
  build_web
  if [ -n "${VOICEFLOW_BIN_DIR:-}" ]; then
    BIN_DIR=$VOICEFLOW_BIN_DIR
    log "using the executables in $BIN_DIR (VOICEFLOW_BIN_DIR)"
    return
  fi
  command -v swift >/dev/null || die "the Swift toolchain (6.x) is not on PATH: see https://www.swift.org/install/linux/"
  local flags=()
  read -r -a flags <<<"${SWIFT_BUILD_FLAGS:-}"
  log "building ($CONFIG)"
  (cd "$ROOT" && swift build -c "$CONFIG" "${flags[@]}")
  BIN_DIR=$(cd "$ROOT" && swift build -c "$CONFIG" "${flags[@]}" --show-bin-path)
}

# ---------------------------------------------------------------- PostgreSQL

# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user, and lives
# under the state directory when that user can reach it, else under /var/tmp.
pg_data_dir() {
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
  local bin data port socket log_file
  bin=$(postgres_bin) || die "PostgreSQL is not installed (scripts/stack.sh deps)"
  data=$(pg_data_dir)
  if [ -f "$data/postmaster.pid" ] && pg_run "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    # Ours, from an earlier `up`: reuse it where it listens (lines 4 and 5 of postmaster.pid).
    port=$(sed -n 4p "$data/postmaster.pid")
    socket=$(sed -n 5p "$data/postmaster.pid")
  else
    port=${PG_PORT:-$(free_port_from 5432)}
    port_free "$port" || die "port $port (PG_PORT) is taken"
    if [ ! -f "$data/PG_VERSION" ]; then
      log "creating a PostgreSQL cluster in $data"
      mkdir -p "$data"
      chmod 700 "$data"
      if [ "$(id -u)" -eq 0 ]; then chown postgres: "$data"; fi
      pg_run "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --no-locale >/dev/null
    fi
    # The Unix socket path must stay under ~107 bytes: a deep state directory uses /tmp instead.
    socket=$data
    [ ${#socket} -le 90 ] || socket=/tmp
    if [[ "$data" == "$STATE_DIR"/* ]]; then
      log_file=$LOG_DIR/postgres.log
      touch "$log_file"
      if [ "$(id -u)" -eq 0 ]; then chown postgres "$log_file"; fi
    else
      log_file=$data/server.log
    fi
    pg_run "$bin/pg_ctl" -D "$data" -l "$log_file" -w -t 60 \
      -o "-p $port -k $socket -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null \
      || { tail -n 20 "$log_file" >&2 || true; die "PostgreSQL did not start (log: $log_file)"; }
    STARTED+=(postgres)
  fi
  echo "$port" >"$RUN_DIR/postgres.port"
  echo "$data" >"$RUN_DIR/postgres.data"
  # The application's role and database, once.
  pg_run "$bin/psql" -h "$socket" -p "$port" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
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
  data=$(cat "$RUN_DIR/postgres.data")
  if bin=$(postgres_bin); then
    pg_run "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
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
    rm -f "$RUN_DIR/redis.pid"
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes \
      --pidfile "$RUN_DIR/redis.pid" --dir "$STATE_DIR/redis" --logfile "$LOG_DIR/redis.log" \
      --appendonly yes --maxmemory-policy noeviction
    STARTED+=(redis)
    echo "$port" >"$RUN_DIR/redis.port"
    local waited=0
    until redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; do
      waited=$((waited + 1))
      [ $waited -lt 100 ] || die "redis-server did not start (log: $LOG_DIR/redis.log)"
      sleep 0.1
    done
  fi
  REDIS_URL="redis://127.0.0.1:$port"
}

stop_redis() {
  [ -f "$RUN_DIR/redis.port" ] || return 0
  if pid_alive "$RUN_DIR/redis.pid"; then
    local pid waited=0
    pid=$(cat "$RUN_DIR/redis.pid")
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && [ $waited -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
  fi
  rm -f "$RUN_DIR/redis.pid" "$RUN_DIR/redis.port"
}

# ---------------------------------------------------------------- TURN (coturn)

# The secret TURN credentials are signed with: TURN_SECRET, else the one generated into the state
# directory the first time (32 random bytes as hex, readable by this user only) and reused after.
turn_secret() {
  if [ -n "${TURN_SECRET:-}" ]; then
    printf '%s' "$TURN_SECRET"
    return
  fi
  local file=$STATE_DIR/keys/turn-secret
  if [ ! -s "$file" ]; then
    mkdir -p "$STATE_DIR/keys"
    (umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$file.tmp" && mv -f "$file.tmp" "$file")
  fi
  cat "$file"
}

# coturn's configuration for port $1. It holds the secret, so it is a file of mode 600 rather than
# command-line flags every user of the machine can read.
render_turn_config() {
  local relay_ports=${TURN_RELAY_PORTS:-49152-49351}
  cat <<CONFIG
# Written by scripts/stack.sh: the local stack's TURN server, on loopback only.
listening-ip=127.0.0.1
listening-port=$1
relay-ip=127.0.0.1
min-port=${relay_ports%-*}
max-port=${relay_ports#*-}
realm=voiceflow
# TURN REST credentials: username "<expiry>:<userId>", password base64(HMAC-SHA1(secret, username)),
# refused once the expiry has passed. The signaling service mints them with the same secret.
use-auth-secret
static-auth-secret=$TURN_SECRET
fingerprint
no-cli
no-tls
no-dtls
no-multicast-peers
no-software-attribute
# This stack runs on loopback only, so its peers (browsers and test clients on this machine) have
# loopback addresses, which coturn does not relay to unless told. Never on a TURN server reachable
# from elsewhere: it would relay to the host's own loopback services.
allow-loopback-peers
userdb=$STATE_DIR/coturn/turndb
pidfile=$STATE_DIR/coturn/turnserver.pid
log-file=stdout
CONFIG
}

# Starts coturn on TURN_PORT (3478 or the next free, TCP and UDP), or keeps the one an earlier `up`
# started (restarted if its configuration changed); sets TURN_SECRET, TURN_URLS and STUN_URLS.
# With TURN_URLS set, that server is used and none is started.
start_turn() {
  if [ -n "${TURN_URLS:-}" ] && [ -z "${TURN_SECRET:-}" ]; then
    log "warning: TURN_URLS without TURN_SECRET: credentials are signed with $STATE_DIR/keys/turn-secret, which that server must share"
  fi
  TURN_SECRET=$(turn_secret)
  [ -z "${TURN_URLS:-}" ] || return 0
  local port config=$RUN_DIR/coturn.conf next=$RUN_DIR/coturn.conf.next waited=0
  if pid_alive "$RUN_DIR/coturn.pid" && [ -f "$RUN_DIR/coturn.port" ]; then
    port=${TURN_PORT:-$(cat "$RUN_DIR/coturn.port")}
  elif [ -n "${TURN_PORT:-}" ]; then
    port=$TURN_PORT
  else
    port=3478
    while ! port_free "$port" || ! udp_port_free "$port"; do port=$((port + 1)); done
  fi
  (umask 077 && render_turn_config "$port" >"$next")
  if pid_alive "$RUN_DIR/coturn.pid" && cmp -s "$next" "$config"; then
    rm -f "$next"
  else
    if pid_alive "$RUN_DIR/coturn.pid"; then
      log "coturn's configuration changed: restarting it"
      stop_pid_files "$RUN_DIR/coturn.pid"
    fi
    { port_free "$port" && udp_port_free "$port"; } || die "port $port (TURN_PORT) is taken"
    mv -f "$next" "$config"
    mkdir -p "$STATE_DIR/coturn"
    if [ -s "$LOG_DIR/coturn.log" ]; then mv -f "$LOG_DIR/coturn.log" "$LOG_DIR/coturn.log.1"; fi
    (exec setsid turnserver -c "$config" >>"$LOG_DIR/coturn.log" 2>&1 </dev/null) &
    echo $! >"$RUN_DIR/coturn.pid"
    echo "$port" >"$RUN_DIR/coturn.port"
    STARTED+=(coturn.pid)
    await_exec "$RUN_DIR/coturn.pid"
    # Ready once it accepts TCP connections (it opens its UDP listener before).
    while port_free "$port"; do
      if ! pid_alive "$RUN_DIR/coturn.pid"; then
        tail -n 20 "$LOG_DIR/coturn.log" >&2 || true
        die "coturn exited during start-up (log: $LOG_DIR/coturn.log)"
      fi
      waited=$((waited + 1))
      [ $waited -lt 100 ] || die "coturn did not listen on port $port within 10s (log: $LOG_DIR/coturn.log)"
      sleep 0.1
    done
  fi
  TURN_URLS="turn:127.0.0.1:$port?transport=udp,turn:127.0.0.1:$port?transport=tcp"
  STUN_URLS=${STUN_URLS:-stun:127.0.0.1:$port}
}

# ---------------------------------------------------------------- infrastructure

start_infra() {
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  if [ -z "${DATABASE_URL:-}" ]; then start_postgres; fi
  if [ -z "${REDIS_URL:-}" ]; then start_redis; fi
  export DATABASE_URL REDIS_URL
}

# ---------------------------------------------------------------- services

# The environment every service shares; start_process adds PORT.
service_env() {
  export DATABASE_URL REDIS_URL
  export APP_ENV=${APP_ENV:-${NODE_ENV:-development}}
  export HOST=127.0.0.1
  export JWT_KEY_FILE=${JWT_KEY_FILE:-$STATE_DIR/keys/jwt-ed25519.pem}
  AUTH_URL="http://127.0.0.1:$(service_port auth)"
  ROOMS_URL="http://127.0.0.1:$(service_port rooms)"
  MESSAGES_URL="http://127.0.0.1:$(service_port messages)"
  SIGNALING_URL="http://127.0.0.1:$(service_port signaling)"
  export AUTH_URL ROOMS_URL MESSAGES_URL SIGNALING_URL
  export FRONTEND_URL=${FRONTEND_URL:-http://127.0.0.1:$EDGE_PORT,http://localhost:$EDGE_PORT}
  export SOCKET_CORS_ORIGIN=${SOCKET_CORS_ORIGIN:-$FRONTEND_URL}
  export TRUST_PROXY=${TRUST_PROXY:-true}
  export FILE_STORAGE_DIR=${FILE_STORAGE_DIR:-$STATE_DIR/files}
  export WEB_ROOT=${WEB_ROOT:-$ROOT/web/dist}
  export BACKUP_DIR=${BACKUP_DIR:-$STATE_DIR/backups}
  # Voice: the TURN server (start_turn), the secret its credentials are signed with, STUN.
  export TURN_SECRET TURN_URLS STUN_URLS
}

# Starts `name` (a service, or gateway-N) on `port` in its own session, logging to logs/<name>.log;
# with a third argument, that is its HEALTH_PORT.
start_process() {
  local name=$1 port=$2 health=${3:-} executable
  if pid_alive "$RUN_DIR/$name.pid"; then return; fi
  executable=$BIN_DIR/voiceflow-${name%%-*}
  [ -x "$executable" ] || die "$executable is missing (did the build succeed?)"
  port_free "$port" || die "port $port for $name is taken (set SERVICE_PORT_BASE/GATEWAY_PORT_BASE)"
  [ -z "$health" ] || port_free "$health" || die "port $health for $name's health checks is taken (set GATEWAY_HEALTH_PORT_BASE)"
  # Keep the previous run's log next to it, so this run's log starts clean.
  if [ -s "$LOG_DIR/$name.log" ]; then mv -f "$LOG_DIR/$name.log" "$LOG_DIR/$name.log.1"; fi
  if [ -n "$health" ]; then
    (PORT=$port HEALTH_PORT=$health exec setsid "$executable" >>"$LOG_DIR/$name.log" 2>&1 </dev/null) &
  else
    (PORT=$port exec setsid "$executable" >>"$LOG_DIR/$name.log" 2>&1 </dev/null) &
  fi
  echo $! >"$RUN_DIR/$name.pid"
  echo "$port" >"$RUN_DIR/$name.port"
  STARTED+=("$name.pid")
  await_exec "$RUN_DIR/$name.pid"
}

# A process started with `( exec ... ) &` is a copy of this shell for a moment: wait (briefly) until
# it runs its program, so that pid_alive recognises it.
await_exec() {
  local file=$1 tries=0
  while ! pid_alive "$file" && kill -0 "$(cat "$file")" 2>/dev/null && [ $tries -lt 100 ]; do
    sleep 0.02
    tries=$((tries + 1))
  done
}

# Waits until `url` answers 200; on a crash or a timeout, shows the end of the log and fails.
wait_ready() {
  local name=$1 url=$2 deadline=$((SECONDS + READY_TIMEOUT))
  until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
    if ! pid_alive "$RUN_DIR/$name.pid"; then
      tail -n 30 "$LOG_DIR/$name.log" >&2 || true
      die "$name exited during start-up (log: $LOG_DIR/$name.log)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -n 30 "$LOG_DIR/$name.log" >&2 || true
      die "$name did not answer $url within ${READY_TIMEOUT}s (log: $LOG_DIR/$name.log)"
    fi
    sleep 0.2
  done
}

start_services() {
  service_env
  local name index services
  services=$(declared_services)
  [ -n "$services" ] || die "Package.swift declares no voiceflow-* executable"
  # Auth first: it creates the signing key the other services verify with. The rest start together
  # (migrations are advisory-locked, so parallel starts are safe).
  for name in $services; do
    start_process "$name" "$(service_port "$name")"
    if [ "$name" = auth ]; then wait_ready auth "http://127.0.0.1:$(service_port auth)/ready"; fi
  done
  if has_gateway; then
    for index in $(seq 1 "$GATEWAYS"); do
      start_process "gateway-$index" "$(gateway_port "$index")" "$(gateway_health_port "$index")"
    done
    # Fewer gateways than last time: stop the extra ones (the edge drops them below).
    local file extra=()
    for file in "$RUN_DIR"/gateway-*.pid; do
      [ -e "$file" ] || continue
      index=${file##*/gateway-}
      index=${index%.pid}
      if [ "$index" -gt "$GATEWAYS" ]; then extra+=("$file"); fi
    done
    if [ ${#extra[@]} -gt 0 ]; then stop_pid_files "${extra[@]}"; fi
  fi
  for name in $services; do wait_ready "$name" "http://127.0.0.1:$(service_port "$name")/ready"; done
  if has_gateway; then
    for index in $(seq 1 "$GATEWAYS"); do
      wait_ready "gateway-$index" "http://127.0.0.1:$(gateway_port "$index")/ready"
    done
  fi
}

# Renders the edge configuration from deploy/haproxy/local.cfg.template into the run directory.
render_edge_config() {
  local servers="" checks="" name index substitutions=(-e "/^[[:space:]]*#/!s|@EDGE_PORT@|$EDGE_PORT|")
  substitutions+=(-e "/^[[:space:]]*#/!s|@HANDSHAKES_PER_IP@|${EDGE_HANDSHAKES_PER_IP:-300}|")
  substitutions+=(-e "/^[[:space:]]*#/!s|@GATEWAY_MAXCONN@|${EDGE_GATEWAY_MAXCONN:-20000}|")
  if has_gateway; then
    for index in $(seq 1 "$GATEWAYS"); do
      servers+="    server gateway-$index 127.0.0.1:$(gateway_port "$index") check port $(gateway_health_port "$index") cookie gateway-$index"$'\n'
    done
    checks+="    monitor fail if { nbsrv(gateways) lt 1 }"$'\n'
  fi
  local declared
  declared=" $(declared_services | tr '\n' ' ')"
  for name in "${SERVICE_OFFSETS[@]%%:*}"; do
    if [[ "$declared" == *" $name "* ]] && grep -q "^@SERVER:$name@\$" "$ROOT/deploy/haproxy/local.cfg.template"; then
      substitutions+=(-e "s|^@SERVER:$name@\$|    server $name-1 127.0.0.1:$(service_port "$name") check|")
      checks+="    monitor fail if { nbsrv($name) lt 1 }"$'\n'
    else
      substitutions+=(-e "/^@SERVER:$name@\$/d")
    fi
  done
  sed "${substitutions[@]}" "$ROOT/deploy/haproxy/local.cfg.template" \
    | awk -v servers="$servers" -v checks="$checks" '
        $0 == "@GATEWAY_SERVERS@" { printf "%s", servers; next }
        $0 == "@READY_CHECKS@" { printf "%s", checks; next }
        { print }'
}

start_edge() {
  local config=$RUN_DIR/haproxy.cfg next=$RUN_DIR/haproxy.cfg.next
  render_edge_config >"$next"
  haproxy -c -q -f "$next" || die "the edge configuration is invalid ($next)"
  if pid_alive "$RUN_DIR/haproxy.pid"; then
    if cmp -s "$next" "$config"; then
      rm -f "$next"
    else
      # A changed configuration (say, another GATEWAYS): the new process takes the port over and
      # the old one finishes its connections (-sf).
      mv "$next" "$config"
      local old
      old=$(cat "$RUN_DIR/haproxy.pid")
      (exec setsid haproxy -db -f "$config" -sf "$old" >>"$LOG_DIR/haproxy.log" 2>&1 </dev/null) &
      echo $! >"$RUN_DIR/haproxy.pid"
      await_exec "$RUN_DIR/haproxy.pid"
    fi
  else
    mv "$next" "$config"
    port_free "$EDGE_PORT" || die "port $EDGE_PORT (EDGE_PORT) is taken"
    (exec setsid haproxy -db -f "$config" >>"$LOG_DIR/haproxy.log" 2>&1 </dev/null) &
    echo $! >"$RUN_DIR/haproxy.pid"
    STARTED+=(haproxy.pid)
    await_exec "$RUN_DIR/haproxy.pid"
  fi
  # /edge/health turns 200 once every backend with servers has one that passed its health check.
  local deadline=$((SECONDS + 30))
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$EDGE_PORT/edge/health" 2>/dev/null; do
    if ! pid_alive "$RUN_DIR/haproxy.pid"; then
      tail -n 20 "$LOG_DIR/haproxy.log" >&2 || true
      die "the edge exited (log: $LOG_DIR/haproxy.log)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -n 20 "$LOG_DIR/haproxy.log" >&2 || true
      die "the edge does not reach every service within 30s (log: $LOG_DIR/haproxy.log)"
    fi
    sleep 0.2
  done
}

# Stops the processes of the given pid files: SIGTERM (they drain), then SIGKILL after 15 s.
stop_pid_files() {
  local file deadline=$((SECONDS + 15))
  for file in "$@"; do
    if pid_alive "$file"; then kill -TERM "$(cat "$file")" 2>/dev/null || true; fi
  done
  for file in "$@"; do
    while pid_alive "$file" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    if pid_alive "$file"; then
      log "$(basename "$file" .pid) did not stop in time: killing it"
      kill -KILL "$(cat "$file")" 2>/dev/null || true
    fi
    rm -f "$file" "${file%.pid}.port"
  done
}

# The pid files of the edge and the services (not Redis's, which stop_redis handles).
process_pid_files() {
  local file
  for file in "$RUN_DIR"/*.pid; do
    [ -e "$file" ] && [ "$(basename "$file")" != redis.pid ] && echo "$file"
  done
  return 0
}

# If start-up fails half-way (or is interrupted), stop what this invocation started.
undo_partial_start() {
  local status=${1:-$?} item files=()
  trap - EXIT INT TERM HUP
  if [ "$status" -ne 0 ] && [ ${#STARTED[@]} -gt 0 ]; then
    log "start-up failed: stopping what this run started"
    for item in "${STARTED[@]}"; do
      case "$item" in *.pid) files+=("$RUN_DIR/$item") ;; esac
    done
    if [ ${#files[@]} -gt 0 ]; then stop_pid_files "${files[@]}"; fi
    for item in "${STARTED[@]}"; do
      case "$item" in redis) stop_redis ;; postgres) stop_postgres ;; esac
    done
  fi
  exit "$status"
}

save_env() {
  (
    umask 077
    printf 'DATABASE_URL=%q\n' "$DATABASE_URL"
    printf 'REDIS_URL=%q\n' "$REDIS_URL"
    printf 'EDGE_URL=%q\n' "http://127.0.0.1:$EDGE_PORT"
    printf 'TURN_URLS=%q\n' "$TURN_URLS"
  ) >"$ENV_FILE"
}

summary() {
  local name index
  log "VoiceFlow is up"
  log "  edge:       http://127.0.0.1:$EDGE_PORT   (the API under /api/v1/)"
  for name in $(declared_services); do
    log "  $(printf '%-11s' "$name:") http://127.0.0.1:$(service_port "$name")   (/health /ready /metrics)"
  done
  if has_gateway; then
    for index in $(seq 1 "$GATEWAYS"); do
      log "  $(printf '%-11s' "gateway-$index:") http://127.0.0.1:$(gateway_port "$index")"
    done
  fi
  log "  PostgreSQL: $(redact "$DATABASE_URL")"
  log "  Redis:      $(redact "$REDIS_URL")"
  log "  TURN:       ${TURN_URLS//,/ }"
  log "  logs:       $LOG_DIR"
}

# ---------------------------------------------------------------- commands

cmd_up() {
  trap undo_partial_start EXIT
  trap 'undo_partial_start 130' INT TERM HUP
  install_deps
  build
  start_infra
  start_turn
  save_env
  start_services
  start_edge
  trap - EXIT INT TERM HUP
  summary
}

cmd_down() {
  local files=()
  mapfile -t files < <(process_pid_files)
  if [ ${#files[@]} -eq 0 ] && [ ! -f "$RUN_DIR/redis.port" ] && [ ! -f "$RUN_DIR/postgres.data" ]; then
    log "nothing is running (state: $STATE_DIR)"
    return 0
  fi
  if [ ${#files[@]} -gt 0 ]; then stop_pid_files "${files[@]}"; fi
  stop_redis
  stop_postgres
  rm -f "$ENV_FILE"
  log "stopped"
}

cmd_status() {
  local file name port ready any=""
  for file in "$RUN_DIR"/*.pid; do
    [ -e "$file" ] || continue
    any=1
    name=$(basename "$file" .pid)
    port=$(cat "$RUN_DIR/$name.port" 2>/dev/null || echo "?")
    if ! pid_alive "$file"; then
      printf '%-12s stopped (port %s)\n' "$name" "$port"
      continue
    fi
    ready=""
    case "$name" in
      redis) ;;
      coturn) port="$port, TURN over UDP and TCP" ;;
      haproxy) ready=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$EDGE_PORT/edge/health" || true)
               port=$EDGE_PORT ;;
      *) ready=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/ready" || true) ;;
    esac
    printf '%-12s running (pid %s, port %s)%s\n' "$name" "$(cat "$file")" "$port" "${ready:+, ready: $ready}"
  done
  if [ -f "$RUN_DIR/postgres.port" ]; then
    any=1
    printf '%-12s port %s (data: %s)\n' postgres "$(cat "$RUN_DIR/postgres.port")" "$(cat "$RUN_DIR/postgres.data")"
  fi
  [ -n "$any" ] || echo "nothing is running (state: $STATE_DIR)"
}

cmd_run() {
  local file name reported=" "
  cmd_up
  # From here on, Ctrl-C (or SIGTERM, or the terminal closing) stops everything.
  trap 'trap - INT TERM HUP; [ -n "${TAIL_PID:-}" ] && kill "$TAIL_PID" 2>/dev/null; log "stopping"; cmd_down; exit 0' INT TERM HUP
  log "following the logs; press Ctrl-C to stop"
  tail -n 0 -F "$LOG_DIR"/*.log &
  TAIL_PID=$!
  # Say so when a process dies, once; the rest keeps running.
  while sleep 1; do
    for file in $(process_pid_files); do
      name=$(basename "$file" .pid)
      if ! pid_alive "$file" && [[ "$reported" != *" $name "* ]]; then
        log "$name exited (log: $LOG_DIR/$name.log)"
        reported+="$name "
      fi
    done
  done
}

cmd_logs() {
  local files=()
  if [ -n "${1:-}" ]; then
    files=("$LOG_DIR/$1.log")
    [ -f "${files[0]}" ] || die "no log $1 in $LOG_DIR"
  else
    shopt -s nullglob
    files=("$LOG_DIR"/*.log)
    [ ${#files[@]} -gt 0 ] || die "no logs in $LOG_DIR yet"
  fi
  exec tail -n 50 -F "${files[@]}"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  run) cmd_run ;;
  status) cmd_status ;;
  logs) cmd_logs "${2:-}" ;;
  infra)
    install_deps
    trap undo_partial_start EXIT
    trap 'undo_partial_start 130' INT TERM HUP
    start_infra
    trap - EXIT INT TERM HUP
    printf 'DATABASE_URL=%q\nREDIS_URL=%q\n' "$DATABASE_URL" "$REDIS_URL"
    ;;
  deps) install_deps ;;
  edge-config) render_edge_config ;;
  *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2 ;;
esac
