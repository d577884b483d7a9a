#!/usr/bin/env bash
# bootstrap.sh: make sure every Debian package the build, the tests and `make run`
# need is installed. As root it installs what is missing with apt-get; otherwise it
# prints the exact apt-get line to run and fails. Then it installs the npm
# dependencies of tests/openapi (the OpenAPI check of tests/run.sh) when they are
# missing or older than their lock file. Quiet and fast when all is there.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

# One list for the whole project; later issues add to it here.
PACKAGES=(
    build-essential pkg-config
    libzmq3-dev libpq-dev libssl-dev libjansson-dev libcmocka-dev
    libmicrohttpd-dev libcurl4-openssl-dev
    postgresql postgresql-contrib
    openssl procps valgrind
    clang libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
# node and npm run tests/openapi/check.mjs. They may come from elsewhere than
# Debian (nodesource, nvm), so look for the commands, not for the packages.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
    line="apt-get install -y --no-install-recommends ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "bootstrap: missing Debian packages; run as root:" >&2
        echo "  apt-get update && $line" >&2
        exit 1
    fi
    echo "bootstrap: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Update the package index only when an install fails on a stale or empty one.
    if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/coal-bootstrap.log 2>&1; then
        apt-get update >>/tmp/coal-bootstrap.log 2>&1
        apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/coal-bootstrap.log 2>&1 || {
            tail -20 /tmp/coal-bootstrap.log >&2
            echo "bootstrap: apt-get failed; full log in /tmp/coal-bootstrap.log" >&2
            exit 1
        }
    fi
    echo "bootstrap: done" >&2
fi

# The bus needs libzmq 4.3.2 or later with CURVE (libcommon/lc_curve.h); the
# services check again at start.
if ! pkg-config --atleast-version=4.3.2 libzmq; then
    echo "bootstrap: libzmq $(pkg-config --modversion libzmq 2>/dev/null || echo '?') is too old:" \
        "the bus needs 4.3.2 or later (Debian 11 and 12 ship 4.3.4)" >&2
    exit 1
fi

# tests/openapi's npm packages, exactly as locked. npm ci replaces node_modules;
# touching it afterwards records when it matched the lock file.
OPENAPI=$ROOT/tests/openapi
if [ ! -d "$OPENAPI/node_modules" ] || [ "$OPENAPI/package-lock.json" -nt "$OPENAPI/node_modules" ]; then
    echo "bootstrap: installing tests/openapi's npm packages" >&2
    if ! npm ci --prefix "$OPENAPI" --no-audit --no-fund >/tmp/coal-bootstrap-npm.log 2>&1; then
        tail -20 /tmp/coal-bootstrap-npm.log >&2
        echo "bootstrap: npm ci failed; full log in /tmp/coal-bootstrap-npm.log" >&2
        exit 1
    fi
    touch "$OPENAPI/node_modules"
fi
