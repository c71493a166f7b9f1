#!/usr/bin/env bash
# Saves screenshots of Plaudit pages to docs/screenshots/, over fresh demo data.
#
#   tests/browser/screenshots.sh                   # every scene
#   tests/browser/screenshots.sh overview demo     # the scenes given
#
# Builds the debug binary, starts `plaudit demo` on a free port with a
# throw-away database, signs in with the admin key it prints, takes the
# screenshots in headless Chromium (the scenes are in screenshots.mjs), stops it.
set -euo pipefail
cd "$(dirname "$0")/../.."

[ -d tests/browser/node_modules ] || (cd tests/browser && npm ci --no-audit --no-fund)
cargo build --quiet
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

PLAUDIT_LOG_LEVEL=warn target/debug/plaudit demo --db "$work/demo.db" --listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 120); do
  grep -q 'Demo chat:' "$work/out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/err" >&2; exit 1; }
  sleep 0.5
done
base=$(sed -n 's|.*Demo chat: *\(http://[^ ]*\)/demo.*|\1|p' "$work/out")
[ -n "$base" ] || { echo "plaudit demo did not start" >&2; cat "$work/err" >&2; exit 1; }
key=$(sed -n 's|.*Admin key: *\(plk_[^ ]*\).*|\1|p' "$work/out")
[ -n "$key" ] || { echo "plaudit demo printed no admin key" >&2; exit 1; }

node tests/browser/screenshots.mjs "$base" "$key" docs/screenshots "$@"
