#!/usr/bin/env bash
# Makes the Debian 12 (bookworm) base image every local image of `make test-deploy` builds on, from
# Debian's packages alone (no image registry needed): debootstrap a minimal root into a folder, tar
# it, `podman import` it. Kept once made: it is made again only when this script changes.
#
#   deploy/images/base.sh [IMAGE]        # default localhost/voiceflow/base:bookworm
#   DEBIAN_MIRROR=http://deb.debian.org/debian (default) DEPLOY_WORK_DIR=.data/deploy (default)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
image=${1:-localhost/voiceflow/base:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=${DEPLOY_WORK_DIR:-$root/.data/deploy}
# What the services need at run time, beside the minimal base: TLS roots, time zones, curl for the
# health checks, hiredis, and the libraries Foundation loads.
packages=ca-certificates,curl,libcurl4,libhiredis0.14,libxml2,tzdata
recipe=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)

log() { printf '[base] %s\n' "$*" >&2; }

if [ "$(podman image inspect --format '{{index .Labels "voiceflow.recipe"}}' "$image" 2>/dev/null)" = "$recipe" ]; then
  log "$image is up to date"
  exit 0
fi

command -v debootstrap >/dev/null || { log "debootstrap is missing (apt-get install debootstrap)"; exit 1; }
rootfs="$work/base-rootfs"
rm -rf "$rootfs"
mkdir -p "$work"
log "debootstrap bookworm from $mirror into $rootfs"
debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
# apt in the images that build on this one uses the same mirror; no caches, no docs.
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" >"$rootfs/etc/apt/sources.list"
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$rootfs/etc/apt/apt.conf.d/90voiceflow"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
log "importing it as $image"
tar --numeric-owner -C "$rootfs" -c . | podman import \
  --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' --change "LABEL voiceflow.recipe=$recipe" - "$image" \
  >"$work/import.log" 2>&1 || { cat "$work/import.log" >&2; exit 1; }
rm -rf "$rootfs"
log "made $image"
