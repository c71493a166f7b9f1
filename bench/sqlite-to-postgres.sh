#!/usr/bin/env bash
# Copies a seeded SQLite benchmark database into a PostgreSQL schema, table by
# table with COPY, so that both engines are measured on the very same rows.
# Seeding through the store costs several round trips an event on PostgreSQL
# (about 50 minutes at scale L); this takes a few.
#
#   bench/sqlite-to-postgres.sh SCALE
#
# Reads bench/out/bench-SCALE.db (seeded by `bench/run.sh sqlite SCALE`),
# fills the schema bench_scale in PLAUDIT_BENCH_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/test) and marks it seeded for run.sh.
# Needs the sqlite3 command-line shell (apt-get install sqlite3).
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:?usage: bench/sqlite-to-postgres.sh S|M|L}
db="bench/out/bench-$scale.db"
pg=${PLAUDIT_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
schema="bench_$(echo "$scale" | tr 'A-Z' 'a-z')"
[ -f "$db" ] && [ -f "bench/out/seeded-sqlite-$scale" ] || { echo "seed SQLite first: bench/run.sh sqlite $scale" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is missing: apt-get install sqlite3" >&2; exit 1; }

# Built as run.sh builds it (with the seeder), so that neither rebuilds the other's binary.
cargo build --release --quiet --bin plaudit --example bench-seed
url="$pg?options=-csearch_path%3D$schema"
psql "$pg" -qc "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema"
PLAUDIT_DATABASE_URL="$url" target/release/plaudit migrate

# The schema's tables and columns, as the migrations made them; the same
# migrations made the SQLite file, so the names match.
tables=$(psql "$pg" -AtF' ' -c "
  SELECT table_name, string_agg(column_name, ',' ORDER BY ordinal_position)
  FROM information_schema.columns
  WHERE table_schema = '$schema' AND table_name <> 'plaudit_migrations'
    AND table_name IN (SELECT table_name FROM information_schema.tables
                       WHERE table_schema = '$schema' AND table_type = 'BASE TABLE')
  GROUP BY table_name ORDER BY table_name")
start=$(date +%s)
# Foreign keys are not checked while loading (the rows come from a database
# that enforced them); rows the migrations inserted are replaced.
export PGOPTIONS="-c session_replication_role=replica -c search_path=$schema"
psql "$pg" -qc "TRUNCATE $(echo "$tables" | cut -d' ' -f1 | paste -sd,)"
while read -r table columns; do
  psql "$pg" -qc "\\copy $table ($columns) FROM PROGRAM 'sqlite3 -csv $db \"SELECT $columns FROM $table\"' WITH (FORMAT csv)"
  # Identity columns continue after the copied rows.
  if [[ ",$columns," == *",seq,"* ]]; then
    psql "$pg" -qAt -c "SELECT setval(pg_get_serial_sequence('$table', 'seq'), GREATEST(COALESCE(MAX(seq), 0), 1)) FROM $table" >/dev/null
  fi
  echo "$table: $(psql "$pg" -qAt -c "SELECT count(*) FROM $table") rows" >&2
done <<< "$tables"
unset PGOPTIONS
# A database that has been running a while has its rows' visibility settled;
# freshly copied rows would each be rewritten by the first reads and writes
# to touch them (hint bits, then the visibility map), skewing the first runs.
psql "$pg" -q -c "SET search_path = $schema" -c "VACUUM (FREEZE, ANALYZE)"
psql "$pg" -qc "CHECKPOINT"
echo "copied in $(( $(date +%s) - start )) s" >&2

# The keys and sizes are the SQLite dataset's: the same rows.
sed "s|^BENCH_DATABASE_URL=.*|BENCH_DATABASE_URL=$url|" "bench/out/seeded-sqlite-$scale" > "bench/out/seeded-postgres-$scale"
