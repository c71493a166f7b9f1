#!/usr/bin/env bash
# Purging half a year of a seeded SQLite dataset while the thumbs workload
# runs, through the server's own retention job.
#
#   bench/purge.sh [S|M|L]
#
# Seeds the scale first if needed (bench/run.sh sqlite SCALE feedback), copies
# the seeded file, serves the copy with the retention job every second, sets
# retention_days=183 on every bot, and drives the feedback workload in
# WINDOW-long runs (default 15s) until the job has purged every bot (one
# `conversations.purged` entry for every bot in the audit log), then once more. The
# thumbs go to the newest 45% of the conversations, which the purge keeps
# (BENCH_FIRST_CONVERSATION); run bench/run.sh with the same variable for the
# comparison without a purge. Prints the purge's time and rate and each window.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-L}
window=${WINDOW:-15s}
port=${PORT:-18081}
stamp="bench/out/seeded-sqlite-$scale"
[ -f "$stamp" ] || bash bench/run.sh sqlite "$scale" feedback
cargo build --release --quiet --bin plaudit --example bench-seed
set -a; . "$stamp"; set +a
export BENCH_KEY=$BENCH_SERVER_KEY
export BENCH_FIRST_CONVERSATION=$(( BENCH_CONVERSATIONS * 55 / 100 ))

copy=bench/out/purge-$scale.db
rm -f "$copy" "$copy-wal" "$copy-shm"
cp bench/out/bench-"$scale".db "$copy"
for f in wal shm; do [ -f bench/out/bench-"$scale".db-$f ] && cp bench/out/bench-"$scale".db-$f "$copy-$f"; done

PLAUDIT_DATABASE_URL="sqlite://$copy" PLAUDIT_LISTEN="127.0.0.1:$port" PLAUDIT_RATE_LIMIT_PER_SECOND=0 \
  PLAUDIT_LOG_LEVEL=warn PLAUDIT_RETENTION_INTERVAL_SECONDS=1 target/release/plaudit serve &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 3000); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

api() { curl -fsS -H "Authorization: Bearer $BENCH_ADMIN_KEY" -H 'Content-Type: application/json' "$@"; }
bots=$(api "http://127.0.0.1:$port/v1/bots?limit=500" | grep -o '"id":"[^"]*"' | cut -d'"' -f4)
nbots=$(echo "$bots" | wc -l)
# The job's entries: one a bot purged, with its counts and when it finished.
purges() { api "http://127.0.0.1:$port/v1/audit-log?action=conversations.purged&limit=500"; }
# Bots purged so far (a bot has an entry for each round that found some).
count_purges() { purges | python3 -c 'import json,sys; print(len({i["target"]["id"] for i in json.load(sys.stdin)["items"]}))'; }
start=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
for b in $bots; do
  api -X PATCH -d '{"retention_days": 183}' "http://127.0.0.1:$port/v1/bots/$b/settings" >/dev/null
done

run_window() {
  local result rps p50 p99 errors
  result=$(wrk -t2 -c64 -d"$window" --timeout 10s --latency -s bench/wrk/feedback.lua "http://127.0.0.1:$port")
  rps=$(echo "$result" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$result" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$result" | awk '$1 == "99%" {print $2}')
  errors=$(echo "$result" | awk '/Non-2xx/ {print $5}')
  echo "| $1 | $rps${errors:+ ($errors non-2xx)} | $p50 | $p99 |"
}

echo
echo "| feedback, sqlite $scale, window | req/s | p50 | p99 |"
echo "|---|---|---|---|"
n=0
done_at=""
while [ -z "$done_at" ]; do
  n=$((n + 1))
  run_window "during the purge ($n)"
  if [ "$(count_purges)" -ge "$nbots" ]; then
    done_at=yes
  fi
done
run_window "after the purge"
echo
purges | START="$start" python3 -c '
import json, os, sys
from datetime import datetime
items = json.load(sys.stdin)["items"]
t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
n = sum(i["after"]["conversations"] for i in items)
m = sum(i["after"]["messages"] for i in items)
secs = (max(t(i["at"]) for i in items) - t(os.environ["START"])).total_seconds()
bots = len({i["target"]["id"] for i in items})
print(f"purged {n:,} conversations ({m:,} messages) of {bots} bots in {secs:.0f} s: {n / secs:,.0f} conversations/s")
'
