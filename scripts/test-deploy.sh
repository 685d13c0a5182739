#!/usr/bin/env bash
# make test-deploy: the compose deployment (deploy/docker-compose.yml) really run, in containers,
# and tested end to end through its edge.
#
# 1. Containers: Debian's podman with the runc runtime (its own containers.conf: no default
#    rlimits, runc), serving a Docker-compatible API on a socket of its own for Debian's
#    docker-compose. podman runs health checks from systemd timers; where there is no systemd
#    (here), a loop of this script runs them (`podman healthcheck run`) every few seconds.
# 2. Images, from Debian's packages alone: a base made by deploy/images/base.sh (debootstrap),
#    PostgreSQL, Redis, HAProxy and coturn on it, and the services' images from the executables
#    compiled on this machine (`swift build`) with the toolchain's Swift runtime libraries. podman
#    keeps the images and their layers: a second run rebuilds only what changed.
# 3. `docker-compose up -d --scale gateway=3 --scale jobs=2` with a generated env file (random
#    secrets, a self-signed certificate for 127.0.0.1), every container healthy (/ready), then the
#    tests of Tests/deploy through the compose edge (HTTPS on 127.0.0.1:DEPLOY_HTTPS_PORT): they
#    kill, scale and restart containers themselves.
# 4. Always: the containers and volumes go (`down -v`), the podman service stops.
#
#   scripts/test-deploy.sh [pytest args]
#   DEPLOY_WORK_DIR (.data/deploy)   DEPLOY_HTTP_PORT (28080)   DEPLOY_HTTPS_PORT (28443)
#   DEPLOY_TURN_PORT (23478)         DEPLOY_KEEP=1 leaves the deployment up for a look
#   DEPLOY_TIMEOUT (1200: the whole run, seconds)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK=${DEPLOY_WORK_DIR:-$ROOT/.data/deploy}
PROJECT=voiceflow-deploy-test
TAG="test"
REGISTRY=localhost/voiceflow
HTTP_PORT=${DEPLOY_HTTP_PORT:-28080}
HTTPS_PORT=${DEPLOY_HTTPS_PORT:-28443}
TURN_HOST_PORT=${DEPLOY_TURN_PORT:-23478}
SERVICES=(auth rooms messages gateway signaling jobs web)
SOCKET=$WORK/podman.sock
PODMAN_PID=
HEALTH_PID=

log() { printf '[deploy] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# Re-run under a bound on the whole run (killing every process of it past the bound).
if [ -z "${DEPLOY_BOUNDED:-}" ]; then
  DEPLOY_BOUNDED=1 exec timeout --kill-after=30 "${DEPLOY_TIMEOUT:-1200}" "$0" "$@"
fi

# ---------------------------------------------------------------- tools

install_tools() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v runc >/dev/null || missing+=(runc)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  [ -x /usr/lib/podman/netavark ] || command -v netavark >/dev/null || missing+=(netavark)
  [ -x /usr/lib/podman/aardvark-dns ] || command -v aardvark-dns >/dev/null || missing+=(aardvark-dns)
  # netavark sets up the containers' network with iptables (without it: "No such file or directory").
  command -v iptables >/dev/null || missing+=(iptables)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v curl >/dev/null || missing+=(curl)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# podman's settings for this run only (CONTAINERS_CONF): setting rlimits is not permitted in this
# kind of sandbox, and crun fails on its cgroups; runc works.
configure_podman() {
  mkdir -p "$WORK"
  cat >"$WORK/containers.conf" <<'CONF'
[containers]
default_ulimits = []

[engine]
runtime = "runc"
CONF
  export CONTAINERS_CONF=$WORK/containers.conf
}

start_podman_service() {
  rm -f "$SOCKET"
  podman system service --time=0 "unix://$SOCKET" >"$WORK/podman-service.log" 2>&1 &
  PODMAN_PID=$!
  export DOCKER_HOST=unix://$SOCKET
  local waited=0
  until curl -fsS --unix-socket "$SOCKET" http://podman/_ping >/dev/null 2>&1; do
    kill -0 "$PODMAN_PID" 2>/dev/null || { cat "$WORK/podman-service.log" >&2; die "podman system service exited"; }
    waited=$((waited + 1))
    [ $waited -lt 300 ] || die "podman's API did not answer on $SOCKET within 30 s"
    sleep 0.1
  done
}

# What systemd's timers do for podman elsewhere: each running container's health check, now and
# then, so that compose's `condition: service_healthy` and the health states hold.
start_health_checks() {
  (
    while true; do
      for id in $(podman ps -q --filter "label=com.docker.compose.project=$PROJECT" 2>/dev/null); do
        podman healthcheck run "$id" >/dev/null 2>&1 || true
      done
      sleep 3
    done
  ) &
  HEALTH_PID=$!
}

# ---------------------------------------------------------------- images

build_image() { # build_image TAG CONTEXT DOCKERFILE [build args...]
  local tag=$1 context=$2 dockerfile=$3
  shift 3
  log "image $tag"
  podman build -q --layers -t "$tag" -f "$dockerfile" "$@" "$context" >"$WORK/build.log" 2>&1 \
    || { tail -n 30 "$WORK/build.log" >&2; die "could not build $tag"; }
}

# The executables compiled here, with their resource bundles, and the web client: one folder per
# service (its image's build context). Debug symbols are stripped from the copies.
stage_services() {
  log "compiling the services (swift build)"
  swift build >"$WORK/swift-build.log" 2>&1 || { tail -n 30 "$WORK/swift-build.log" >&2; die "swift build failed"; }
  local bin
  bin=$(swift build --show-bin-path)
  web/build.sh >/dev/null
  for service in "${SERVICES[@]}"; do
    local stage=$WORK/stage/$service
    rm -rf "$stage"
    mkdir -p "$stage"
    [ -x "$bin/voiceflow-$service" ] || die "missing $bin/voiceflow-$service"
    strip --strip-debug -o "$stage/voiceflow-$service" "$bin/voiceflow-$service"
    find "$bin" -maxdepth 1 -name '*.resources' -exec cp -R {} "$stage/" \;
    if [ "$service" = web ]; then cp -R "$ROOT/web/dist" "$stage/web"; fi
  done
  # The toolchain's runtime libraries, for the runtime image.
  rm -rf "$WORK/runtime-context"
  mkdir -p "$WORK/runtime-context/swift-runtime"
  local swift_lib
  swift_lib="$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")/lib/swift/linux"
  cp "$swift_lib"/*.so "$WORK/runtime-context/swift-runtime/"
}

build_images() {
  local base=$REGISTRY/base:bookworm
  DEPLOY_WORK_DIR=$WORK deploy/images/base.sh "$base"
  build_image "$REGISTRY/postgres:$TAG" . deploy/images/postgres/Dockerfile --build-arg BASE_IMAGE="$base"
  build_image "$REGISTRY/redis:$TAG" . deploy/images/redis/Dockerfile --build-arg BASE_IMAGE="$base"
  build_image "$REGISTRY/haproxy:$TAG" . deploy/images/haproxy/Dockerfile --build-arg BASE_IMAGE="$base"
  build_image "$REGISTRY/coturn:$TAG" . deploy/coturn/Dockerfile --build-arg RUNTIME_IMAGE="$base"
  stage_services
  build_image "$REGISTRY/runtime:$TAG" "$WORK/runtime-context" deploy/images/runtime/Dockerfile --build-arg BASE_IMAGE="$base"
  for service in "${SERVICES[@]}"; do
    local extra=()
    [ "$service" != jobs ] || extra=(--build-arg EXTRA_PACKAGES=postgresql-client-15)
    build_image "$REGISTRY/$service:$TAG" "$WORK/stage/$service" deploy/images/service/Dockerfile \
      --build-arg RUNTIME_IMAGE="$REGISTRY/runtime:$TAG" --build-arg SERVICE="$service" "${extra[@]}"
  done
}

# ---------------------------------------------------------------- configuration

random_secret() { openssl rand -hex 32; }

# The env file compose reads: the local images, random secrets, an Ed25519 token key, the edge's
# certificate (self-signed for 127.0.0.1; the tests trust it, and only it).
write_env() {
  local keys=$WORK/keys
  mkdir -p "$keys"
  openssl genpkey -algorithm ed25519 -out "$keys/jwt.pem" 2>/dev/null
  local private public
  private=$(openssl pkey -in "$keys/jwt.pem" -outform DER | tail -c 32 | basenc --base64url | tr -d '=')
  public=$(openssl pkey -in "$keys/jwt.pem" -pubout -outform DER | tail -c 32 | basenc --base64url | tr -d '=')
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$keys/edge-key.pem" -out "$keys/edge-cert.pem" 2>/dev/null
  cat "$keys/edge-cert.pem" "$keys/edge-key.pem" >"$keys/edge.pem"
  # Read inside the edge container by its unprivileged haproxy user.
  chmod 0644 "$keys/edge.pem"
  local origin=https://127.0.0.1:$HTTPS_PORT
  cat >"$WORK/deploy.env" <<ENV
APP_ENV=production
POSTGRES_IMAGE=$REGISTRY/postgres:$TAG
REDIS_IMAGE=$REGISTRY/redis:$TAG
HAPROXY_IMAGE=$REGISTRY/haproxy:$TAG
VOICEFLOW_REGISTRY=$REGISTRY
VOICEFLOW_VERSION=$TAG
POSTGRES_USER=voiceflow
POSTGRES_PASSWORD=$(random_secret)
POSTGRES_DB=voiceflow
REDIS_PASSWORD=$(random_secret)
JWT_PRIVATE_KEY=$private
JWT_PUBLIC_KEY=$public
BCRYPT_COST=8
FRONTEND_URL=$origin
SOCKET_CORS_ORIGIN=$origin
EDGE_TLS_CERT_FILE=$keys/edge.pem
EDGE_HTTP_PORT=$HTTP_PORT
EDGE_HTTPS_PORT=$HTTPS_PORT
EDGE_COOKIE_KEY=$(random_secret)
TURN_SECRET=$(random_secret)
TURN_EXTERNAL_IP=127.0.0.1
TURN_PORT=$TURN_HOST_PORT
TURN_RELAY_PORTS=49760-49779
TURN_URLS=turn:127.0.0.1:$TURN_HOST_PORT?transport=udp,turn:127.0.0.1:$TURN_HOST_PORT?transport=tcp
ENV
  chmod 0600 "$WORK/deploy.env"
}

compose() {
  docker-compose -p "$PROJECT" -f deploy/docker-compose.yml --env-file "$WORK/deploy.env" "$@"
}

# ---------------------------------------------------------------- the run

finish() {
  local status=$?
  set +e
  if [ $status -ne 0 ] && [ -f "$WORK/deploy.env" ]; then
    log "failed: the containers' last words"
    compose ps >&2
    log "warnings and errors of the whole run"
    compose logs --no-color 2>&1 | grep -E '"level":"(warning|error|critical)"' | tail -n 200 >&2
    log "the last lines of each container"
    compose logs --no-color --tail 25 >&2 2>&1
  fi
  if [ -z "${DEPLOY_KEEP:-}" ] && [ -f "$WORK/deploy.env" ]; then
    compose down -v --remove-orphans >/dev/null 2>&1
  fi
  [ -z "$HEALTH_PID" ] || kill "$HEALTH_PID" 2>/dev/null
  if [ -z "${DEPLOY_KEEP:-}" ] && [ -n "$PODMAN_PID" ]; then kill "$PODMAN_PID" 2>/dev/null; fi
  wait 2>/dev/null
  if [ $status -eq 0 ]; then log "passed"; else log "FAILED (exit $status)"; fi
  exit $status
}

install_tools
configure_podman
trap finish EXIT
start_podman_service
started=$SECONDS
build_images
log "images ready after $((SECONDS - started)) s"
write_env
compose down -v --remove-orphans >/dev/null 2>&1 || true
start_health_checks

VENV=${VENV:-$ROOT/.data/venv}
PY=$VENV/bin/python
if ! "$PY" -c 'import pytest, requests, socketio, websocket' 2>/dev/null; then
  log "installing the Python test tools into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r Tests/conformance/requirements.txt
fi

log "docker-compose up --scale gateway=3 --scale jobs=2"
compose up -d --no-build --scale gateway=3 --scale jobs=2 >"$WORK/compose-up.log" 2>&1 \
  || { cat "$WORK/compose-up.log" >&2; die "docker-compose up failed"; }

log "tests through the compose edge (https://127.0.0.1:$HTTPS_PORT)"
DEPLOY_PROJECT=$PROJECT DEPLOY_ENV_FILE=$WORK/deploy.env DEPLOY_BASE_URL=https://127.0.0.1:$HTTPS_PORT \
  DEPLOY_HTTP_URL=http://127.0.0.1:$HTTP_PORT DEPLOY_CA_FILE=$WORK/keys/edge-cert.pem DOCKER_HOST=$DOCKER_HOST \
  "$PY" -m pytest -q -p no:cacheprovider Tests/deploy "$@"
