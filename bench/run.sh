#!/usr/bin/env bash
# Seeds a dataset, starts the release server on it, drives each workload with
# wrk over loopback, and prints req/s, p50, p99, the server's peak RSS, the
# machine's CPU busy and iowait shares during the workload, and the server's
# CPU time a request (a batch for ingest, a conversation for the export).
#
#   bench/run.sh [sqlite|postgres] [S|M|L] [workload ...]
#
# Workloads: feedback upvote ingest overview inbox export (default: all).
# DURATION (default 15s), CONNECTIONS (64), THREADS (2) and TIMEOUT (10s: a
# slower answer counts as timed out, not in the latencies) tune wrk;
# EXPORT_DAYS=N limits the export workload to the N days before today;
# PLAUDIT_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test)
# is the PostgreSQL server, used in a schema of its own; SERVER_BIN (default
# the release build) is the server measured, for A/B runs against another
# build on the same dataset. WEBHOOK=1 subscribes one webhook to every event,
# delivered to a minimal local receiver (bench/receiver.mjs, node) that
# answers 200, and reports after each workload the deliveries a second: over
# the workload until the backlog drained, and while it drained alone.
set -euo pipefail
cd "$(dirname "$0")/.."
engine=${1:-sqlite}
scale=${2:-M}
shift $(( $# >= 2 ? 2 : $# ))
workloads=${*:-feedback upvote ingest overview inbox export}
duration=${DURATION:-15s}
connections=${CONNECTIONS:-64}
threads=${THREADS:-2}
port=${PORT:-18080}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

mkdir -p bench/out
case "$engine" in
  sqlite) url="sqlite://bench/out/bench-$scale.db" ;;
  postgres)
    pg=${PLAUDIT_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
    schema="bench_$(echo "$scale" | tr 'A-Z' 'a-z')"
    url="$pg?options=-csearch_path%3D$schema" ;;
  *) echo "engine: sqlite or postgres" >&2; exit 2 ;;
esac

cargo build --release --quiet --bin plaudit --example bench-seed
stamp="bench/out/seeded-$engine-$scale"
if [ ! -f "$stamp" ]; then
  echo "seeding $engine at scale $scale ..." >&2
  if [ "$engine" = postgres ]; then
    psql "$pg" -qc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema"
  else
    rm -f bench/out/bench-"$scale".db*
  fi
  start=$(date +%s)
  parallel=4
  [ "$engine" = postgres ] && parallel=${SEED_PARALLEL:-16}
  target/release/examples/bench-seed --scale "$scale" --database-url "$url" --parallel "$parallel" >&2 &
  seeder=$!
  if [ "$engine" = postgres ]; then
    # The planner's statistics as the tables grow: without them (autovacuum
    # off, or not yet run) the seeder's lookups turn into scans and seeding
    # slows to a crawl. The first after 3 s, then every 15 s.
    waited=0
    while kill -0 "$seeder" 2>/dev/null; do
      sleep 1
      waited=$((waited + 1))
      if [ "$waited" = 3 ] || [ $((waited % 15)) = 0 ]; then
        psql "$pg" -q -c "SET search_path = $schema" -c "ANALYZE" 2>/dev/null || true
      fi
    done
  fi
  wait "$seeder"
  if [ "$engine" = postgres ]; then
    psql "$pg" -q -c "SET search_path = $schema" -c "VACUUM (FREEZE, ANALYZE)"
  fi
  echo "seeded in $(( $(date +%s) - start )) s" >&2
  cp bench/out/env "$stamp"
fi
set -a; . "$stamp"; set +a
export BENCH_KEY=$BENCH_SERVER_KEY
export BENCH_FROM=$(date -u -d '365 days ago' +%Y-%m-%d) BENCH_TO=$(date -u -d 'tomorrow' +%Y-%m-%d)

receiver_port=$((port + 10))
receiver=""
if [ "${WEBHOOK:-}" = 1 ]; then
  node bench/receiver.mjs "$receiver_port" &
  receiver=$!
  export PLAUDIT_WEBHOOKS_ALLOW_HTTP=true PLAUDIT_WEBHOOKS_ALLOW_PRIVATE=true
fi
PLAUDIT_DATABASE_URL="$url" PLAUDIT_LISTEN="127.0.0.1:$port" PLAUDIT_RATE_LIMIT_PER_SECOND=0 \
  PLAUDIT_LOG_LEVEL=warn PLAUDIT_POSTGRES_MAX_CONNECTIONS=${PG_POOL:-32} "${SERVER_BIN:-target/release/plaudit}" serve &
server=$!
# A webhook run removes its webhook when done: other runs measure without one.
drop_webhooks() {
  for id in $(curl -fs -H "Authorization: Bearer $BENCH_ADMIN_KEY" "http://127.0.0.1:$port/v1/webhooks" \
      | grep -o '"id":"[^"]*"' | cut -d'"' -f4); do
    curl -fs -o /dev/null -X DELETE -H "Authorization: Bearer $BENCH_ADMIN_KEY" "http://127.0.0.1:$port/v1/webhooks/$id"
  done
}
stop() {
  [ -n "$receiver" ] && drop_webhooks
  kill $server $receiver 2>/dev/null
  wait $server 2>/dev/null
}
trap stop EXIT
# The first start on an older file migrates it first (seconds to a minute at L).
for _ in $(seq 1 3000); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
if [ -n "$receiver" ]; then
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$receiver_port/count" >/dev/null && break; sleep 0.1; done
  # Any webhook left from an earlier run goes; one takes every event.
  drop_webhooks
  curl -fs -o /dev/null -H "Authorization: Bearer $BENCH_ADMIN_KEY" -H 'content-type: application/json' \
    -d "{\"url\": \"http://127.0.0.1:$receiver_port/hook\", \"events\": [\"feedback.created\", \"feedback.updated\",
         \"feedback.retracted\", \"feedback.reviewed\", \"vote.created\", \"csat.answered\", \"golden_example.created\",
         \"golden_example.deleted\", \"conversation.ended\"]}" "http://127.0.0.1:$port/v1/webhooks"
fi
delivered() { curl -fsS "http://127.0.0.1:$receiver_port/count"; }
pending() { curl -fs "http://127.0.0.1:$port/metrics" | awk '$1 == "plaudit_webhook_deliveries_pending" {print $2}'; }
# After a workload: waits until no delivery is pending (at most 10 min) and
# prints the deliveries a second over the workload and its drain, and over
# the drain alone.
webhook_rates() {
  local now ended count_end left
  ended=$(date +%s.%N); count_end=$(delivered)
  for _ in $(seq 1 6000); do left=$(pending); [ "${left:-1}" = 0 ] && break; sleep 0.1; done
  now=$(date +%s.%N)
  awk -v a="$1" -v e="$ended" -v z="$now" -v c0="$2" -v ce="$count_end" -v c1="$(delivered)" \
    'BEGIN { printf "%d delivered, %.0f/s until drained (%.1f s after the load), %.0f/s draining", c1 - c0,
             (c1 - c0) / (z - a), z - e, (z - e > 0.2) ? (c1 - ce) / (z - e) : 0 }'
}

peak_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$server/status"; }
# The machine's CPU time (all cores, server and wrk alike) since the last
# mark: busy and waiting on the disk, in percent. A run whose iowait is high
# was bound by the disk (pages not in memory), not by the CPU.
cpu_ticks() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $6, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
mark_cpu() { read -r busy0 wait0 total0 < <(cpu_ticks); }
cpu_use() {
  read -r busy1 wait1 total1 < <(cpu_ticks)
  awk -v b=$((busy1 - busy0)) -v w=$((wait1 - wait0)) -v t=$((total1 - total0)) \
    'BEGIN { if (t == 0) t = 1; printf "%.0f%% / %.0f%%", 100 * b / t, 100 * w / t }'
}
reset_peak() { echo 5 > "/proc/$server/clear_refs" 2>/dev/null || true; }
# The server's own CPU time (user and system, in clock ticks) since the last
# mark, shared out over the requests (or conversations) of the workload: what
# a request costs the server, whatever else the machine was doing.
ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
mark_server() { server0=$(ticks); }
server_cpu() {
  awk -v t=$(( $(ticks) - server0 )) -v hz="$(getconf CLK_TCK)" -v n="$1" \
    'BEGIN { if (n == 0) { print "-"; exit } printf "%.0f µs", 1e6 * t / hz / n }'
}

echo
echo "| workload ($engine, $scale) | req/s | p50 | p99 | peak RSS | CPU busy / iowait | server CPU each |"
echo "|---|---|---|---|---|---|---|"
for w in $workloads; do
  reset_peak
  mark_cpu
  mark_server
  if [ "$w" = export ]; then
    # EXPORT_DAYS=N exports only the conversations of the N days before
    # today (today's hold those the ingest workload wrote, 500 events each).
    query="format=jsonl"
    [ -n "${EXPORT_DAYS:-}" ] && query="$query&from=$(date -u -d "$EXPORT_DAYS days ago" +%Y-%m-%d)&to=$(date -u +%Y-%m-%d)"
    start=$(date +%s.%N)
    stats=$(curl -s -H "Authorization: Bearer $BENCH_KEY" "http://127.0.0.1:$port/v1/exports/conversations?$query" \
      | wc -lc)
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    set -- $stats
    rate=$(awk -v n="$1" -v s="$secs" 'BEGIN { printf "%.0f conversations/s", n / s }')
    echo "| export ($1 conversations, $2 bytes, ${secs%.*} s) | $rate | - | - | $(peak_mb) MB | $(cpu_use) | $(server_cpu "$1") |"
    continue
  fi
  [ -n "$receiver" ] && { load_start=$(date +%s.%N); load_count=$(delivered); }
  result=$(wrk -t"$threads" -c"$connections" -d"$duration" --timeout "${TIMEOUT:-10s}" --latency -s "bench/wrk/$w.lua" "http://127.0.0.1:$port")
  rps=$(echo "$result" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$result" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$result" | awk '$1 == "99%" {print $2}')
  requests=$(echo "$result" | awk '/requests in/ {print $1}')
  errors=$(echo "$result" | awk '/Non-2xx/ {print $5}')
  note=""
  [ -n "$errors" ] && note=" ($errors non-2xx)"
  timeouts=$(echo "$result" | awk '/Socket errors/ {print $NF}')
  [ -n "$timeouts" ] && [ "$timeouts" != 0 ] && note="$note ($timeouts timed out)"
  [ "$w" = ingest ] && note="$note = $(awk -v r="$rps" 'BEGIN { printf "%.0f", r * 500 }') events/s"
  [ -n "$receiver" ] && note="$note; webhook: $(webhook_rates "$load_start" "$load_count")"
  echo "| $w | $rps$note | $p50 | $p99 | $(peak_mb) MB | $(cpu_use) | $(server_cpu "${requests:-0}") |"
done
