#!/usr/bin/env bash
# Builds the browser client into a static folder (web/dist/ unless WEB_DIST says otherwise):
#
#   index.html                      not cacheable; references the hashed assets below
#   assets/socket.io-<hash>.js      the official socket.io-client 4.8.1 browser bundle
#   assets/app-<hash>.js, .css      the application (TypeScript + React 18, bundled by esbuild)
#   assets/favicon-<hash>.svg
#   every file also as a precompressed .gz sibling
#
# It installs nothing: the tools come from Debian (web/deps.sh installs them). The socket.io-client
# bundle is taken from the PyPI wheel nicegui==3.18.0 (`pip download --no-deps`), checked against the
# sha256 pinned below and cached, git-ignored, in web/.vendor/. Offline, point SOCKET_IO_JS at a copy
# of that file (it is checked the same way).
#
#   web/build.sh
#   WEB_DIST=/srv/voiceflow/web web/build.sh
set -euo pipefail

web="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${WEB_DIST:-$web/dist}"
vendor="$web/.vendor"
nodejs=/usr/share/nodejs

socket_io_version=4.8.1
socket_io_wheel=nicegui==3.18.0
socket_io_member=nicegui/static/socket.io.min.js
socket_io_sha256=b0e735814f8dcfecd6cdb8a7ce95a297a7e1e5f2727a29e6f5901801d52fa0c5
js_budget_bytes=$((200 * 1024))

fail() {
    echo "web/build.sh: $*" >&2
    exit 1
}

check_tools() {
    local missing=()
    for tool in node tsc esbuild gzip sha256sum python3; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    for dir in "$nodejs/react" "$nodejs/react-dom" "$nodejs/@types/react" "$nodejs/@types/react-dom"; do
        [[ -d $dir ]] || missing+=("$dir")
    done
    if ((${#missing[@]} > 0)); then
        fail "missing ${missing[*]}; web/deps.sh installs the Debian packages (node-typescript node-react node-react-dom esbuild)"
    fi
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# The socket.io-client bundle, checked, in web/.vendor/ (fetched once).
fetch_socket_io() {
    local cached="$vendor/socket.io-$socket_io_version.min.js"
    if [[ -f $cached && $(sha256_of "$cached") == "$socket_io_sha256" ]]; then
        return
    fi
    mkdir -p "$vendor"
    local work
    work="$(mktemp -d "$vendor/fetch.XXXXXX")"
    trap 'rm -rf "$work"' RETURN
    if [[ -n ${SOCKET_IO_JS:-} ]]; then
        cp "$SOCKET_IO_JS" "$work/socket.io.min.js"
    else
        echo "web/build.sh: fetching socket.io-client $socket_io_version from the $socket_io_wheel wheel"
        python3 -m pip download --no-deps --only-binary=:all: --disable-pip-version-check --quiet \
            --dest "$work" "$socket_io_wheel" || fail "pip download $socket_io_wheel failed"
        python3 - "$work" "$socket_io_member" <<'PY' || fail "the wheel has no $socket_io_member"
import pathlib, sys, zipfile
work, member = pathlib.Path(sys.argv[1]), sys.argv[2]
wheel = next(work.glob("*.whl"))
(work / "socket.io.min.js").write_bytes(zipfile.ZipFile(wheel).read(member))
PY
    fi
    local actual
    actual="$(sha256_of "$work/socket.io.min.js")"
    [[ $actual == "$socket_io_sha256" ]] || fail "socket.io.min.js has sha256 $actual, expected $socket_io_sha256"
    mv "$work/socket.io.min.js" "$cached"
}

# Copies a file into assets/ as <name>-<hash>.<ext> and prints the new name.
hashed_copy() {
    local source="$1" name="$2" ext="$3" assets="$4"
    local hash
    hash="$(sha256_of "$source" | cut -c1-12)"
    cp "$source" "$assets/$name-$hash.$ext"
    echo "$name-$hash.$ext"
}

bundle() {
    local stage="$1"
    local assets="$stage/assets"
    mkdir -p "$assets"

    NODE_PATH="$nodejs" esbuild "$web/src/main.tsx" \
        --bundle --minify \
        --format=iife --target=es2020,chrome100,firefox100,safari15 \
        --jsx=automatic --define:process.env.NODE_ENV='"production"' \
        --outdir="$stage/bundle" --entry-names=app --log-level=warning

    # Names from the content alone (esbuild's own [hash] also depends on where the sources are).
    local app_js app_css socket_io favicon
    app_js="$(hashed_copy "$stage/bundle/app.js" app js "$assets")"
    app_css="$(hashed_copy "$stage/bundle/app.css" app css "$assets")"
    rm -r "$stage/bundle"
    # The bundle's own source map is not shipped: drop the comment that points at it.
    grep -v '^//# sourceMappingURL=' "$vendor/socket.io-$socket_io_version.min.js" >"$stage/socket.io.js"
    socket_io="$(hashed_copy "$stage/socket.io.js" socket.io js "$assets")"
    rm "$stage/socket.io.js"
    favicon="$(hashed_copy "$web/public/favicon.svg" favicon svg "$assets")"

    sed -e "s|{{SOCKET_IO_JS}}|/assets/$socket_io|" -e "s|{{APP_JS}}|/assets/$app_js|" \
        -e "s|{{APP_CSS}}|/assets/$app_css|" -e "s|{{FAVICON}}|/assets/$favicon|" \
        "$web/index.html" >"$stage/index.html"
    if grep -q '{{' "$stage/index.html"; then fail "index.html has a placeholder left"; fi

    find "$stage" -type f \( -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' \) -print0 |
        xargs -0 gzip -9 -n -k
}

report_sizes() {
    local dir="$1" total=0 size
    echo "web/build.sh: built $out"
    for file in "$dir"/index.html "$dir"/assets/*.js "$dir"/assets/*.css; do
        size="$(stat -c %s "$file.gz")"
        printf '  %-40s %8d bytes  %7d gzipped\n' "${file#"$dir"/}" "$(stat -c %s "$file")" "$size"
        [[ $file == *.js ]] && total=$((total + size))
    done
    printf '  JavaScript, gzipped: %d KB (budget %d KB)\n' $((total / 1024)) $((js_budget_bytes / 1024))
    ((total <= js_budget_bytes)) || fail "the JavaScript is over its budget"
}

check_tools
fetch_socket_io
echo "web/build.sh: type-checking"
tsc --noEmit -p "$web/tsconfig.json"

stage="$(mktemp -d "$(dirname "$out")/.dist.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
echo "web/build.sh: bundling"
bundle "$stage"
rm -rf "$out"
mv "$stage" "$out"
chmod 755 "$out"
trap - EXIT
report_sizes "$out"
