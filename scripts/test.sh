#!/usr/bin/env bash
# The whole suite: lint, SQLite, PostgreSQL (a throwaway cluster) and the browser tests.
# Under CI=true a part that cannot run fails the run; it is never skipped silently.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export DJANGO_SETTINGS_MODULE=tests.settings
export KEHU_VAR_DIR="$(mktemp -d /tmp/kehu-var.XXXXXX)"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)

need=()
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || need+=(postgresql)
[ -n "$CHROMIUM" ] || need+=(chromium)
command -v wrk >/dev/null 2>&1 || need+=(wrk)  # the load generator of the bench smoke test
fc-list 2>/dev/null | grep -qi "noto sans cjk" || need+=(fonts-noto-cjk)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)  # pdftotext, pdffonts: the PDF tests read the text back
ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0.so.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)  # WeasyPrint's text layout
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing system packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
    CHROMIUM=$(command -v chromium)
  else
    echo "Missing system packages: ${need[*]}. Install them with: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

echo "== lint"
$BIN/ruff check .
$BIN/python manage.py makemigrations --check --dry-run >/dev/null

# The SQLite and PostgreSQL passes run side by side, one per core (each pass is one Python process;
# one after the other they took 10.8 + 12 minutes). Each has its own var directory; the PostgreSQL
# pass prints as it goes, the SQLite pass's output follows when both are done.
PGDIR=$(mktemp -d /tmp/kehu-pg.XXXXXX)
PGPORT=${KEHU_TEST_PGPORT:-54329}
RUNAS=()
if [ "$(id -u)" = 0 ]; then
  id kehutest >/dev/null 2>&1 || useradd -r -m -d /tmp/kehutest-home kehutest
  chown kehutest "$PGDIR"
  RUNAS=(su kehutest -s /bin/bash -c)
fi
pg() { if [ ${#RUNAS[@]} -gt 0 ]; then "${RUNAS[@]}" "$*"; else bash -c "$*"; fi; }
SQLITE_VAR="$(mktemp -d /tmp/kehu-var-sqlite.XXXXXX)"
PG_VAR="$(mktemp -d /tmp/kehu-var-pg.XXXXXX)"
SQLITE_LOG="$PGDIR/sqlite-pass.log"
cleanup() {
  [ -n "${SQLITE_PID:-}" ] && kill "$SQLITE_PID" 2>/dev/null || true
  pg "$PG_BIN/pg_ctl -D $PGDIR/data -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$PGDIR" "$KEHU_VAR_DIR" "$SQLITE_VAR" "$PG_VAR"
}
trap cleanup EXIT
pg "$PG_BIN/initdb -D $PGDIR/data -U kehu --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
pg "$PG_BIN/pg_ctl -D $PGDIR/data -o '-k $PGDIR -c listen_addresses=127.0.0.1 -p $PGPORT -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off' -l $PGDIR/log -w start" >/dev/null

echo "== tests on SQLite (in the background; its output follows the PostgreSQL pass)"
KEHU_VAR_DIR="$SQLITE_VAR" $BIN/python -m pytest -q -m "not browser" -p no:playwright >"$SQLITE_LOG" 2>&1 &
SQLITE_PID=$!

echo "== tests on PostgreSQL"
# own_database: tests that make a SQLite file of their own whatever DATABASE_URL is (the bench smoke
# test, the production start): the SQLite pass runs them, here they repeated it (3.4 minutes)
PG_RC=0
DATABASE_URL="postgres://kehu@127.0.0.1:$PGPORT/postgres" KEHU_VAR_DIR="$PG_VAR" \
  $BIN/python -m pytest -q -m "not browser and not own_database" -p no:playwright || PG_RC=$?
SQLITE_RC=0
wait "$SQLITE_PID" || SQLITE_RC=$?
SQLITE_PID=
echo "== tests on SQLite: the output"
cat "$SQLITE_LOG"
if [ "$SQLITE_RC" != 0 ] || [ "$PG_RC" != 0 ]; then
  echo "== failed: SQLite pass exit $SQLITE_RC, PostgreSQL pass exit $PG_RC" >&2
  exit 1
fi

echo "== browser tests (Chromium)"
KEHU_CHROMIUM="$CHROMIUM" $BIN/python -m pytest -q -m browser
