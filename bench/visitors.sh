#!/usr/bin/env bash
# Runs bench/visitors.mjs against a fresh Plaudit on a temporary SQLite file,
# started with the default browser rate limits and 127.0.0.1 as a trusted
# proxy (the script sends each visitor's address as X-Forwarded-For).
#
#   bash bench/visitors.sh            (VISITORS, SECONDS, PACE_MS as in visitors.mjs)
#   SERVER_BIN=target/release/plaudit bash bench/visitors.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${SERVER_BIN:-target/release/plaudit}"
[ -x "$bin" ] || cargo build --release --quiet
dir=$(mktemp -d)
port="${PORT:-18099}"
export PLAUDIT_DATABASE_URL="sqlite://$dir/visitors.db" PLAUDIT_LOG_LEVEL=warn
export PLAUDIT_LISTEN="127.0.0.1:$port" PLAUDIT_TRUSTED_PROXIES='["127.0.0.1"]'
"$bin" migrate
admin=$("$bin" keys create --role admin --name visitors-bench)
public=$("$bin" keys create --role public --name visitors-widget)
"$bin" serve & server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
curl -fs -X POST "http://127.0.0.1:$port/v1/bots" -H "authorization: Bearer $admin" \
  -H 'content-type: application/json' -d '{"name": "Visitors"}' >/dev/null
node bench/visitors.mjs "http://127.0.0.1:$port" "$admin" "$public"
