"""Query plans in tests: the plan of a queryset as text, and the check that an index serves it."""

from django.db import connection


def plan(qs) -> str:
    """The query plan of a queryset, as text."""
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        # on tables of a few rows every plan costs the same: forbid what the index must spare
        # (a whole-table scan, a sort) so the planner shows whether an index can serve the query
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_sort = off")
        try:
            cursor.execute("EXPLAIN " + sql, params)
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_sort")


def assert_indexed(qs, index, *, sorted_by_index=True, table="sales_opportunity"):
    """`qs` is read through `index` (one name or several), with no scan of `table` and, unless
    `sorted_by_index` is False, no sort."""
    text = plan(qs)
    assert any(name in text for name in ((index,) if isinstance(index, str) else index)), text
    assert "Seq Scan" not in text and f"SCAN {table}\n" not in text + "\n", text
    if sorted_by_index:
        assert "TEMP B-TREE" not in text and "Sort" not in text.replace("Sort Key", ""), text


def id_list_sql(column: str, ids=None) -> str:
    """How `column` tested against an IdList reads in this database's SQL (kehu.core.filters):
    `col IN (1, 2)` on SQLite, `col = ANY('{1,2}'::bigint[])` on PostgreSQL; with `ids` None, the
    start of it, for a test that only asks whether such a list is there."""
    if connection.vendor == "postgresql":
        start = f"{column} = ANY('{{"
        return start if ids is None else start + ",".join(map(str, ids)) + "}'"
    start = f"{column} IN ("
    return start if ids is None else start + ", ".join(map(str, ids)) + ")"
