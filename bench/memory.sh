#!/usr/bin/env bash
# Whether the server hands memory back after a burst: on the SQLite dataset
# that `bench/run.sh sqlite SCALE` seeded, runs each workload for 10 s with
# wrk, then waits 10 s, printing the server's resident memory at the end of
# the burst and after the pause, and its peak at the end.
#
#   bench/memory.sh [S|M|L] [workload ...]     (default: M, ingest overview inbox)
#
# SERVER_BIN (default the release build) is the server measured.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-M}
shift $(( $# >= 1 ? 1 : 0 ))
workloads=${*:-ingest overview inbox}
port=${PORT:-18081}
stamp="bench/out/seeded-sqlite-$scale"
[ -f "$stamp" ] || { echo "seed first: bench/run.sh sqlite $scale" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
set -a; . "$stamp"; set +a
export BENCH_KEY=$BENCH_SERVER_KEY
export BENCH_FROM=$(date -u -d '365 days ago' +%Y-%m-%d) BENCH_TO=$(date -u -d 'tomorrow' +%Y-%m-%d)

PLAUDIT_DATABASE_URL="sqlite://bench/out/bench-$scale.db" PLAUDIT_LISTEN="127.0.0.1:$port" \
  PLAUDIT_RATE_LIMIT_PER_SECOND=0 PLAUDIT_LOG_LEVEL=warn "${SERVER_BIN:-target/release/plaudit}" serve &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 3000); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

mb() { awk -v k="$1:" '$1 == k {printf "%.0f", $2/1024}' "/proc/$server/status"; }
echo "| workload | at the end of 10 s | 10 s later |"
echo "|---|---|---|"
echo "| (start) | $(mb VmRSS) MB | |"
for w in $workloads; do
  wrk -t2 -c64 -d10s -s "bench/wrk/$w.lua" "http://127.0.0.1:$port" >/dev/null
  end=$(mb VmRSS)
  sleep 10
  echo "| $w | $end MB | $(mb VmRSS) MB |"
done
echo "peak: $(mb VmHWM) MB"
