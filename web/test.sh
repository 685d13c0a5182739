#!/usr/bin/env bash
# The web client's unit tests: the test files (test/*.test.ts) are type-checked with the client,
# bundled by esbuild for Node and run by Node's built-in test runner.
#
#   web/test.sh
#   ASYNCAPI_JSON=/path/to/asyncapi.json web/test.sh    # check the protocol copy against another document
set -euo pipefail

web="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$web/.test-build"

for tool in node tsc esbuild; do
    command -v "$tool" >/dev/null || { echo "web/test.sh: missing $tool; web/deps.sh installs it" >&2; exit 1; }
done

tsc --noEmit -p "$web/tsconfig.json"
rm -rf "$out"
NODE_PATH=/usr/share/nodejs esbuild "$web"/test/*.test.ts \
    --bundle --platform=node --format=esm --target=node18 \
    --outdir="$out" --out-extension:.js=.mjs --log-level=warning
node --test "$out"/*.test.mjs
