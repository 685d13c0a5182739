#!/bin/sh
# Starts coturn for docker compose with a configuration written from the environment (a file of
# mode 600: the secret stays off the command line).
#   TURN_SECRET        required: what TURN credentials are signed with, the signaling service's too
#   TURN_EXTERNAL_IP   required: the public address clients reach this host at (relayed candidates
#                      carry it; compose publishes the ports on it)
#   TURN_RELAY_PORTS   relay port range, published by compose (default 49160-49259)
#   TURN_REALM         (default voiceflow)
set -eu

case "${TURN_SECRET:-}" in
  '' | *change-me* | *changeme*)
    echo "TURN_SECRET is empty or a placeholder: set a random one of your own (openssl rand -hex 32)" >&2
    exit 1 ;;
esac
[ -n "${TURN_EXTERNAL_IP:-}" ] || { echo "set TURN_EXTERNAL_IP (the public address of this host)" >&2; exit 1; }
relay_ports=${TURN_RELAY_PORTS:-49160-49259}
min_port=${relay_ports%-*}
max_port=${relay_ports#*-}
case "$min_port$max_port" in
  '' | *[!0-9]*) echo "TURN_RELAY_PORTS must be a range of ports like 49160-49259" >&2; exit 1 ;;
esac

umask 077
config=$(mktemp)
cat >"$config" <<CONFIG
listening-port=3478
external-ip=$TURN_EXTERNAL_IP
min-port=$min_port
max-port=$max_port
realm=${TURN_REALM:-voiceflow}
# TURN REST credentials: username "<expiry>:<userId>", password base64(HMAC-SHA1(secret, username)),
# minted by the signaling service; refused once the expiry has passed.
use-auth-secret
static-auth-secret=$TURN_SECRET
fingerprint
no-cli
no-tls
no-dtls
no-multicast-peers
no-software-attribute
# Relay to clients on the Internet only, never into the compose network or the host's private
# networks (Redis, PostgreSQL and the services are there). Loopback is refused by coturn's default.
denied-peer-ip=0.0.0.0-0.255.255.255
denied-peer-ip=10.0.0.0-10.255.255.255
denied-peer-ip=100.64.0.0-100.127.255.255
denied-peer-ip=169.254.0.0-169.254.255.255
denied-peer-ip=172.16.0.0-172.31.255.255
denied-peer-ip=192.168.0.0-192.168.255.255
denied-peer-ip=fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
denied-peer-ip=fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff
userdb=/var/lib/turn/turndb
pidfile=/tmp/turnserver.pid
log-file=stdout
CONFIG
exec turnserver -c "$config"
