#!/usr/bin/env bash
# bootstrap.sh: make sure every Debian package the build, the tests and `make run`
# need is installed. As root it installs what is missing with apt-get; otherwise it
# prints the exact apt-get line to run and fails. Quiet and fast when all is there.
set -euo pipefail

# One list for the whole project; later issues add to it here.
PACKAGES=(
    build-essential pkg-config
    libzmq3-dev libpq-dev libssl-dev libjansson-dev libcmocka-dev
    libmicrohttpd-dev libcurl4-openssl-dev
    postgresql postgresql-contrib
    openssl procps
)

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

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
