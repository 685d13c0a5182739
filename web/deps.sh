#!/usr/bin/env bash
# Installs the Debian packages the web client is built with, when any is missing:
# TypeScript (tsc), React 18 with its types, esbuild, and pip when Python lacks it. Node.js is
# expected to be there already.
#
#   web/deps.sh          # as root, or with sudo available
set -euo pipefail

packages=(node-typescript node-react node-react-dom esbuild)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
# build.sh fetches the socket.io-client bundle with `python3 -m pip download`.
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
if ((${#missing[@]} == 0)); then
    exit 0
fi

sudo=()
if ((EUID != 0)); then
    command -v sudo >/dev/null || { echo "web/deps.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
echo "web/deps.sh: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
