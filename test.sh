#!/usr/bin/env bash
# Runs every test: unit tests, pax-exam integration tests, and the distribution driven by real clients.
# Installs the real clients the tests use (swaks, python3) from Debian's packages when they are missing.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v swaks >/dev/null || missing+=(swaks)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}" >&2
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

exec mvn -B verify "$@"
