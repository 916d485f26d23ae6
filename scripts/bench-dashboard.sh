#!/usr/bin/env bash
# Measures the funders' dashboard latency under load, on a database that
# already contains a log and its projections (see `filiere bench generate`).
#
#   scripts/bench-dashboard.sh FILIERE_BINARY DATABASE_URL [PORT]
#
# On its first run against a database it adds a funder organisation and a
# `funder_viewer` user; each run adds an API token of that organisation.
# It then starts `filiere serve` on 127.0.0.1:PORT and signs in like a
# browser. Each URL is timed with three single requests (curl), then with
# wrk (2 threads, 8 connections, 20 s) and a Lua hook that prints the 50th,
# 95th and 99th percentiles. It needs curl and wrk (Debian package `wrk`),
# and connects to 127.0.0.1 only.
set -euo pipefail

binary=${1:?usage: bench-dashboard.sh FILIERE_BINARY DATABASE_URL [PORT]}
database=${2:?usage: bench-dashboard.sh FILIERE_BINARY DATABASE_URL [PORT]}
port=${3:-18611}
base="http://127.0.0.1:${port}"
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

filiere() { "$binary" --database-url "$database" "$@"; }

organisation="Financeur du banc d'essai"
email="banc-essai@financeur.invalid"
password="banc-essai-tableau-de-bord"
if ! filiere org list | grep -q "	${organisation}\$"; then
    filiere org add "$organisation" --kind funder > /dev/null
    echo "$password" | filiere user add --email "$email" --name "Banc d'essai" \
        --organisation "$organisation" --role funder_viewer --password-stdin > /dev/null
fi
token=$(filiere token create --name "banc d'essai" --organisation "$organisation" \
    --role funder_viewer | grep -o 'fil_[A-Za-z0-9_-]*' | head -n 1)

# The binary is started directly, not through the function, so that $! is
# its own process id and the trap stops the server itself.
"$binary" --database-url "$database" serve --listen "127.0.0.1:${port}" \
    > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do
    curl -sf "${base}/healthz" > /dev/null && break
    sleep 0.5
done

jar="$work/cookies"
form_token=$(curl -s -c "$jar" "${base}/connexion" |
    sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n 1)
curl -s -b "$jar" -c "$jar" -o /dev/null \
    --data-urlencode "csrf_token=${form_token}" --data-urlencode "email=${email}" \
    --data-urlencode "password=${password}" "${base}/connexion"
session=$(awk '$6 == "filiere_session" { print $7 }' "$jar")
if [ -z "$session" ]; then
    echo "sign-in as ${email} failed; the server log follows:" >&2
    cat "$work/server.log" >&2
    exit 1
fi

cat > "$work/percentiles.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, %d requests, %d errors, %d timeouts\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read,
    summary.errors.timeout))
end
LUA

measure() {
    local url=$1 header=$2
    echo "== GET ${url}"
    for _ in 1 2 3; do
        curl -s -o /dev/null -H "$header" \
            -w "single request: %{time_total} s, status %{http_code}, %{size_download} bytes\n" \
            "${base}${url}"
    done
    echo "load average before wrk: $(cut -d' ' -f1-3 /proc/loadavg)"
    wrk -t2 -c8 -d20s --timeout 10s -s "$work/percentiles.lua" -H "$header" "${base}${url}" |
        grep -E 'p50|Requests/sec|Non-2xx'
    echo "load average after wrk: $(cut -d' ' -f1-3 /proc/loadavg)"
}

measure /tableau-de-bord "Cookie: filiere_session=${session}"
measure /api/v1/dashboard "Authorization: Bearer ${token}"
