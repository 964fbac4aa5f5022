"""Row counts and checksums per table, computed the same way on an original and on its restore.

- **SQLite**: every row in primary-key (rowid) order, its canonical text `repr(tuple)` (Python's
  sqlite3 gives int / float / str / bytes / None, whose reprs are exact and stable), streamed into
  SHA-256. A restore is a page copy, so the rowids and their order are the same.
- **PostgreSQL**: in SQL, without sorting: the md5 of each row's text (`ROW(r.*)::text`, with the
  session's output settings fixed: UTC, ISO dates, exact floats, hex bytea) and the sum of its first
  64 bits, modulo 2^64 (a multiset hash: the primary key is part of the row, so equal sums mean equal rows
  whatever physical order pg_restore wrote them in; no ORDER BY means no sort of a million rows and
  a scan PostgreSQL may run in parallel). docs/decisions.md has the measurements.

Both read inside one snapshot: SQLite the backup copy, PostgreSQL the transaction whose snapshot
pg_dump was given (`--snapshot`), so the numbers describe exactly what the archive holds.
"""

from __future__ import annotations

import hashlib
import sqlite3

# named in the manifest: an archive whose checksums were computed another way is compared by row
# counts only (a restore by a later Kehu with a changed checksum must still work)
ALGORITHM = {"sqlite": "sha256(repr(row)) in rowid order/1", "postgresql": "sum64(md5(row::text))/1"}

# --- SQLite ----------------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    """The tables that hold rows: virtual tables (FTS5) are left out, their shadow tables are in."""
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                        " ORDER BY name").fetchall()
    return [name for name, sql in rows if not (sql or "").upper().startswith("CREATE VIRTUAL TABLE")]


def _sqlite_order(conn: sqlite3.Connection, table: str) -> str:
    try:
        conn.execute(f"SELECT rowid FROM {_quote(table)} LIMIT 0")
        return "rowid"
    except sqlite3.OperationalError:  # WITHOUT ROWID: the primary key is the b-tree's order
        cols = sorted((pk, name) for _cid, name, _type, _nn, _d, pk in conn.execute(
            f"PRAGMA table_info({_quote(table)})") if pk)
        return ", ".join(_quote(name) for _pk, name in cols)


def sqlite_table_stats(conn: sqlite3.Connection, table: str) -> dict:
    h = hashlib.sha256()
    n = 0
    cur = conn.execute(f"SELECT * FROM {_quote(table)} ORDER BY {_sqlite_order(conn, table)}")
    while rows := cur.fetchmany(5000):
        n += len(rows)
        h.update(("\n".join(map(repr, rows)) + "\n").encode("utf-8", "surrogatepass"))
    return {"rows": n, "checksum": h.hexdigest()[:32]}


def sqlite_stats(conn: sqlite3.Connection) -> dict[str, dict]:
    return {table: sqlite_table_stats(conn, table) for table in sqlite_tables(conn)}


# --- PostgreSQL ------------------------------------------------------------------------------------

# the text of a row depends on these session settings: fixed on every connection that computes stats
PG_SESSION = ("SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
              "SET extra_float_digits = 3; SET bytea_output = 'hex'")

PG_TABLES = """
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY c.relname"""


def pg_prepare(cur) -> None:
    for statement in PG_SESSION.split(";"):
        cur.execute(statement)


def pg_tables(cur) -> list[str]:
    cur.execute(PG_TABLES)
    return [row[0] for row in cur.fetchall()]


def pg_table_stats(cur, table: str) -> dict:
    # one sum of 64 bits: a second sum over the other half of the md5 made PostgreSQL compute the
    # md5 twice (the subquery is inlined) and doubled the time (3.4 s → 7.0 s per million rows)
    cur.execute(
        "SELECT count(*), coalesce(sum(('x' || substr(md5(ROW(r.*)::text), 1, 16))::bit(64)::bigint), 0)"
        f" FROM {_quote(table)} AS r")
    n, a = cur.fetchone()
    return {"rows": int(n), "checksum": f"{int(a) & ((1 << 64) - 1):016x}"}


def pg_stats(cur) -> dict[str, dict]:
    pg_prepare(cur)
    return {table: pg_table_stats(cur, table) for table in pg_tables(cur)}


def compare(expected: dict[str, dict], actual: dict[str, dict], *, checksums: bool = True) -> list[str]:
    """The differences between two {table: {rows, checksum}} maps, one line each (empty: equal).
    checksums=False: the row counts only (checksums of another algorithm)."""
    problems = []
    for table in sorted(set(expected) | set(actual)):
        e, a = expected.get(table), actual.get(table)
        if e is None:
            problems.append(f"{table}: not in the manifest")
        elif a is None:
            problems.append(f"{table}: missing")
        elif e["rows"] != a["rows"]:
            problems.append(f"{table}: {a['rows']} rows, expected {e['rows']}")
        elif checksums and e["checksum"] != a["checksum"]:
            problems.append(f"{table}: checksum {a['checksum']}, expected {e['checksum']}")
    return problems
