#!/usr/bin/env bash
# Runs the test suite on the embedded SQLite default. Installs the two
# command-line tools the label tests use to read printed QR codes back
# (pdftoppm from poppler-utils, zbarimg from zbar-tools) when they are
# missing and apt-get is available.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
command -v zbarimg >/dev/null || missing+=(zbar-tools)
if ((${#missing[@]})); then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "installing ${missing[*]} for the label tests" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "error: the label tests need ${missing[*]}; install them (Debian: sudo apt-get install ${missing[*]})" >&2
        exit 1
    fi
fi

cargo test --workspace "$@"
