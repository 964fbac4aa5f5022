#!/usr/bin/env bash
# `make bench`: the benchmark suite (issue 4) on SQLite and on a throwaway PostgreSQL cluster.
#   BENCH_SCALE=small|medium|full (10k / 100k / 1M customers; default full)
#   BENCH_DATABASES=sqlite,postgres   BENCH_REQUESTS=100 (per scenario)   BENCH_PGPORT=54349
# Writes docs/benchmarks.md (keeping the hand-written analysis after its marker) and docs/benchmarks.json.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export BENCH_SCALE=${BENCH_SCALE:-full}
DATABASES=${BENCH_DATABASES:-sqlite,postgres}
PGPORT=${BENCH_PGPORT:-54349}
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)

# wrk: a C load generator for the throughput run, so the client leaves the 2 cores to the server
if ! command -v wrk >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
    || echo "wrk could not be installed; the throughput run uses httpx clients" >&2
fi

PGDIR=""
cleanup() {
  if [ -n "$PGDIR" ]; then
    pg "$PG_BIN/pg_ctl -D $PGDIR/data -m fast stop" >/dev/null 2>&1 || true
    rm -rf "$PGDIR"
  fi
}
trap cleanup EXIT
RUNAS=()
pg() { if [ ${#RUNAS[@]} -gt 0 ]; then "${RUNAS[@]}" "$*"; else bash -c "$*"; fi; }

if [[ ",$DATABASES," == *",postgres,"* ]]; then
  if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
    else
      echo "PostgreSQL is missing: sudo apt-get install postgresql" >&2; exit 1
    fi
  fi
  PGDIR=$(mktemp -d /tmp/kehu-bench-pg.XXXXXX)
  if [ "$(id -u)" = 0 ]; then
    id kehutest >/dev/null 2>&1 || useradd -r -m -d /tmp/kehutest-home kehutest
    chown kehutest "$PGDIR"
    RUNAS=(su kehutest -s /bin/bash -c)
  fi
  echo "== PostgreSQL cluster on 127.0.0.1:$PGPORT"
  pg "$PG_BIN/initdb -D $PGDIR/data -U kehu --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
  # durability off (a throwaway cluster, it only speeds up loading); memory sized for a 1M-row table
  pg "$PG_BIN/pg_ctl -D $PGDIR/data -o '-k $PGDIR -c listen_addresses=127.0.0.1 -p $PGPORT -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=512MB -c maintenance_work_mem=512MB -c max_wal_size=4GB' -l $PGDIR/log -w start" >/dev/null
fi

nice -n 10 $BIN/python -m kehu.bench.run --scale "$BENCH_SCALE" --databases "$DATABASES" \
  --pg-url "postgres://kehu@127.0.0.1:$PGPORT/postgres" ${BENCH_ARGS:-}
