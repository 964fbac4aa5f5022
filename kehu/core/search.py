"""Indexed free-text search for any record type's list (issue 17).

A filter set's `search_fields` are matched with `icontains`; without an index that is a walk of
the whole table in the list's order whenever the term is rare or absent (an opportunity search for
a phone fragment: seconds at 1M rows). A filter set that sets `search_indexed = True` gets:

- an index over its own search columns, made by `search_index_operation(table, columns)` in the
  app's migration: a trigram GIN index on `UPPER(column)` per column on PostgreSQL (pg_trgm), an
  FTS5 trigram table kept by triggers on SQLite;
- a probe: the ids of up to PROBE matching rows read through that index. A rare term (fewer
  matches) becomes `id IN (those ids)`, so the page query never walks the table; a common term
  keeps the plain `icontains`, which the list's ordered page query answers after a few rows;
- a search field through a relation (`customer__name`) asks the related record type's own search
  (its index), and becomes `customer_id IN (ids)` the same way.

Terms under three characters have no trigram. On a table of more than SHORT_WINDOW rows, such a
term is probed in the table's newest SHORT_WINDOW rows (an id range, one index range scan; the
list's data scope and filters applied; with a search field through a relation, the newest
RELATED_WINDOW rows joined to their related rows): found there PROBE times or more it
is common and keeps `icontains` (the list's order meets it after a few rows); otherwise the list
shows those matches, and says that older records were not searched (`notices`). On PostgreSQL a
list read by id newest first by someone who sees every row walks the window from its top instead,
when a sample of its newest rows says a page of matches comes soon (_walked_window). A rep's own list
(a few owners, no public pool: KehuFilterSet.narrow_scope) is searched whole instead: it is a small
share of the table, and the table's newest rows would hold only a few dozen of its records. Without that, a
one-character term absent from 5M follow-ups walked them all into the 15-second limit (503), and
"zh" in 1M opportunities (their titles and their customers' names) took 3.5 s. The same window
serves a longer term that a related record type finds too often to list its ids (a phone fragment
in thousands of customers' search text, absent from their names: 1.4 s).

The customers' search, with its own column of words and number prefixes, is
`kehu.customers.forms.search_condition`.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from types import SimpleNamespace

from django.db import connection, migrations, transaction
from django.db.models import BooleanField, Case, CharField, Count, Min, Q, TextField, Value, When
from django.db.models.lookups import (
    Contains,
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    LessThan,
    LessThanOrEqual,
)

from .filters import IdList, WalkOnly
from .memo import TimedMemory

PROBE = 5000
MIN_TERM = 3  # a trigram index cannot serve a shorter substring
SHORT_WINDOW = 30_000  # newest rows searched for a term under MIN_TERM characters (see the module)
# the same through a join (customer__name): each row costs an index lookup of the related row, so
# fewer rows fit the budget (PostgreSQL at 1M, 30,000 opportunities joined to their customers: 74 ms)
RELATED_WINDOW = 10_000


def _fts(table: str) -> str:
    return f"{table}_fts"


def sqlite_sql(table: str, columns: list[str]) -> tuple[list[str], list[str]]:
    """(create, drop) statements of an FTS5 trigram table over `columns` of `table`, kept by triggers."""
    fts, cols = _fts(table), ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    create = [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({cols}, content='{table}', content_rowid='id', "
        "tokenize='trigram')",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]
    drop = [f"DROP TRIGGER IF EXISTS {fts}_{t}" for t in ("ai", "ad", "au")] + [f"DROP TABLE IF EXISTS {fts}"]
    return create, drop


def postgresql_sql(table: str, columns: list[str]) -> tuple[list[str], list[str]]:
    """(create, drop): one trigram GIN index per column on the expression `icontains` compares."""
    create = ["CREATE EXTENSION IF NOT EXISTS pg_trgm"]
    drop = []
    for c in columns:
        name = f"{table}_{c}_trgm"[:63]
        create.append(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ((UPPER({c}::text)) gin_trgm_ops) "
                      "WHERE deleted_at IS NULL")
        drop.append(f"DROP INDEX IF EXISTS {name}")
    create.append(f"ANALYZE {table}")  # statistics of the indexed expressions: the probe's estimate
    return create, drop


def search_index_operation(table: str, columns: list[str]) -> migrations.RunPython:
    """The migration operation that indexes `columns` of `table` for `search_indexed` filter sets."""

    def run(schema_editor, which):
        vendor = schema_editor.connection.vendor
        if vendor in ("sqlite", "postgresql"):
            statements = (sqlite_sql if vendor == "sqlite" else postgresql_sql)(table, columns)[which]
            for sql in statements:
                schema_editor.execute(sql)

    def forwards(apps, schema_editor):
        run(schema_editor, 0)

    def backwards(apps, schema_editor):
        run(schema_editor, 1)

    return migrations.RunPython(forwards, backwards, elidable=False)


# the ends of an e-mail address or domain that most rows share: their trigrams ("com", ".co") are in
# nearly every row's index entries, and intersecting those lists was most of a domain's probe
COMMON_DOMAIN_ENDS = (".com.cn", ".net.cn", ".org.cn", ".gov.cn", ".edu.cn", ".com", ".cn", ".net", ".org",
                      ".edu", ".gov", ".io", ".hk", ".tw")


RECORD_NUMBER = re.compile(r"[a-z]{1,4}\d{8,}", re.IGNORECASE)


def index_pieces(term: str) -> list[str] | None:
    """Shorter parts of `term` for a trigram index to find its candidates with (PostgreSQL), when
    the term's own trigrams would make the index intersect many long lists: None to use the whole
    term. The caller still tests the whole term on each candidate.

    - A run of 8 or more digits (a phone number): its first and last four digits. Every digit
      trigram is in ~4 % of the customers' search text; the nine of a mobile number took 8.8 ms to
      intersect at 1M customers, the four of "1310" and "5957" 4.9 ms, with ~130 candidates.
    - A record's number (a few letters, then 8 digits or more: kh202612079999005078): its first
      and last four characters. The digits' trigrams are in most rows of a text that holds dates
      and numbers; the letters' are rare there. 5M follow-ups' four text columns searched for a
      customer's number at 1M: 19.4 → 7.6 ms.
    - An e-mail domain or address: without its common end (.com, .cn…), when at least three
      letters or digits are left in a row. crystalvalley.com: 10.1 → 5.1 ms.
    Not any long term: a rare word's own trigrams include a rare one, which the index meets at
    once, where its first and last four letters may be common (zhongguorenmin in 1M customers, no
    match: 0.6 ms whole, 7.5 ms by "zhon" and "nmin")."""
    if len(term) >= 8 and term.isdigit() or RECORD_NUMBER.fullmatch(term):
        return [term[:4], term[-4:]]
    lowered = term.lower()
    for end in COMMON_DOMAIN_ENDS:
        if "." in lowered and lowered.endswith(end):
            core = term[:-len(end)]
            run = longest = 0
            for ch in core:
                run = run + 1 if ch.isalnum() else 0
                longest = max(longest, run)
            return [core] if longest >= 3 else None
    return None


# A probe's pattern as PostgreSQL's planner cannot read it: `LIKE (SELECT %s)`, a value the executor
# computes once before the scan. With the literal, the planner tested the pattern on every entry of
# the column's statistics to estimate its matches: the customers' search text keeps a 1,000-value
# histogram (customers migration 0006), and planning a probe took 1.2-1.9 ms of PostgreSQL's CPU
# for a 0.1 ms index scan (pg_stat_statements, mixed load at 1M). A probe needs no estimate: it
# reads the trigram index whatever the count (enable_seqscan off, or the index as the only cheap
# path) and stops at its limit. Planning: 1.9 → 0.15 ms. Only where the estimate decides nothing;
# the search's estimate of a term (customers.forms._pg_estimate) still plans the literal.
OPAQUE = "(SELECT %s::text)"


def indexed_like(expr: str, term: str, pattern: str = "%s") -> tuple[str, list]:
    """(SQL, params) of `expr LIKE '%term%'` for a trigram index on `expr` (PostgreSQL), each
    pattern written through `pattern` ("UPPER(%s)" where the index is on upper-cased text): the
    pieces of `index_pieces` as values the planner does not read (OPAQUE), with the whole term
    tested on each candidate (`expr || ''`, which no index answers), or the whole term alone."""
    pieces = index_pieces(term)
    if not pieces:
        return f"{expr} LIKE {pattern % OPAQUE}", [like_pattern(term)]
    found = [f"{expr} LIKE {pattern % OPAQUE}"] * len(pieces) + [f"({expr} || '') LIKE {pattern % '%s'}"]
    return " AND ".join(found), [*map(like_pattern, pieces), like_pattern(term)]


def like_pattern(term: str) -> str:
    """`%term%` for LIKE ... ESCAPE '\\', the term's own wildcards escaped."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# A term a probe found common (PROBE matches or more) is remembered by the process for ten minutes
# (kehu/core/memo.py), and its next searches skip the probe (known_common): reading 5,000 matches to
# learn that a word is common cost more than the page it decided (PostgreSQL, 机 in 20,000 articles' words:
# 24 ms of 57). Only the plan depends on it, never the rows: a common term is matched on every row
# the page reads (KnownCommon), so a term that became rare since is still found, only more slowly.
_common_terms = TimedMemory(kept=600.0)  # (table, columns, term, PROBE): at most 2,000, emptied when full


def known_common(table: str, columns: list[str], term: str) -> bool:
    """Whether a probe of `term` over `columns` of `table` found it common in the last ten minutes."""
    return (table, tuple(columns), term, PROBE) in _common_terms


def remember_common(table: str, columns: list[str], term: str) -> None:
    _common_terms.remember((table, tuple(columns), term, PROBE))


def probe(table: str, columns: list[str], term: str, limit: int = PROBE) -> list[int]:
    """Ids of up to `limit` rows of `table` (alive or not: the list filters) whose `columns`
    contain `term`, read through the search index. A probe that finds PROBE rows or more is
    remembered (known_common)."""
    ids = _probe(table, columns, term, limit)
    if limit >= PROBE and len(ids) >= PROBE:
        remember_common(table, columns, term)
    return ids


def _rare_ids(model, fields: list[str], term: str) -> list[int] | None:
    """Ids of every row of `model` whose own search `fields` contain `term`, or None when the term
    is common there (remembered, or PROBE matches or more)."""
    table, columns = model._meta.db_table, [model._meta.get_field(f).column for f in fields]
    if known_common(table, columns, term):
        return None
    ids = probe(table, columns, term)
    return ids if len(ids) < PROBE else None


@contextmanager
def pg_planned(*, seqscan: bool = True, parallel: bool = True):
    """The statements inside run, on PostgreSQL, in one transaction planned without sequential
    scans (`seqscan=False`) or parallel workers (`parallel=False`): `SET LOCAL`, gone with the
    transaction, one round trip. Elsewhere nothing is set and no transaction is opened (on SQLite
    it would be a BEGIN IMMEDIATE, the database's write lock, for a read).

    A probe through an index turns both off: a LIMIT without an order invites a sequential scan that
    "stops soon" and reads the whole table for a rare term, and each parallel process repeats the
    probe's work."""
    settings = [name for name, on in (("enable_seqscan = off", not seqscan),
                                      ("max_parallel_workers_per_gather = 0", not parallel)) if on]
    if connection.vendor != "postgresql" or not settings:
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("; ".join(f"SET LOCAL {setting}" for setting in settings))
        yield


def _probe(table: str, columns: list[str], term: str, limit: int) -> list[int]:
    if connection.vendor == "sqlite":
        phrase = '"' + term.replace('"', '""') + '"'
        sql = f"SELECT rowid FROM {_fts(table)} WHERE {_fts(table)} MATCH %s LIMIT %s"
        params = [phrase, limit]
    else:
        conditions = [indexed_like(f"UPPER({c}::text)", term, "UPPER(%s)") for c in columns]
        ors = " OR ".join(f"({condition})" for condition, _params in conditions)
        params = [param for _condition, column_params in conditions for param in column_params]
        sql = f"SELECT id FROM {table} WHERE deleted_at IS NULL AND ({ors})"
        # a LIMIT without an order invites a sequential scan that stops "soon": for a rare term
        # it reads the whole table (5M follow-ups: 5 s). The trigram indexes answer a rare term
        # in ms and a common one with a bitmap (the row estimates of LIKE '%…%' are guesses)
        # Nor in parallel: with its patterns opaque (OPAQUE) a probe over four columns of 5M
        # follow-ups is expected to find 100,000 rows, which PostgreSQL split between two
        # worker processes started for a 2 ms bitmap scan (13 ms).
        with pg_planned(seqscan=False, parallel=False), connection.cursor() as cursor:
            cursor.execute(sql + " LIMIT %s", [*params, limit])
            return [row[0] for row in cursor.fetchall()]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


class KnownCommon:
    """A substring match of a term known to match many rows (the probe found PROBE or more, or it is
    a latin pair). `known_common` tells the SQLite scope (PageOwner, kehu/accounts/scope.py) that a
    page query may walk the list's order, since matches come within a few rows; a plain substring
    match keeps the scope's owner index instead, against the rare term that would walk the whole
    table. On PostgreSQL the match is written `CASE WHEN … THEN TRUE ELSE FALSE END`: the same
    rows, but the planner estimates such a condition true for half the rows, where it took any
    `LIKE '%…%'` for rare (0.5 %). So it sorted all of a rep's 15,800 payments joined to their
    customers for "公司", which three in four of them match (59 ms), instead of walking the rep's
    newest rows to the first 51 matches."""

    known_common = True

    def as_postgresql(self, compiler, connection):
        sql, params = self.as_sql(compiler, connection)
        return f"(CASE WHEN {sql} THEN TRUE ELSE FALSE END)", params


class CommonIContains(KnownCommon, IContains):
    """`icontains` for a term known to be common (KnownCommon). Registered as `common_icontains`
    (kehu/core/apps.py)."""


class CommonContains(KnownCommon, Contains):
    """`contains` for a term known to be common (`search_text`, already lower-case): as above."""


class WithoutTrigrams:
    """A substring match of a term under MIN_TERM characters, which no trigram index can answer:
    PostgreSQL's pg_trgm reads its whole GIN index for it (every row qualifies) and still estimates
    a few hundred, so beside a rep's 5,000 tasks the planner ANDed the owner index with a full read
    of both trigram indexes (1M entries each: 380 ms, against 9 ms reading the rep's tasks). On
    PostgreSQL the column is written `(UPPER(col::text) || '')`, the same value but not the indexed
    expression; the SQL is otherwise `icontains`'s, and SQLite's is unchanged."""

    def process_lhs(self, compiler, connection, lhs=None):
        sql, params = super().process_lhs(compiler, connection, lhs)
        if connection.vendor == "postgresql":
            sql = f"({sql} || '')"
        return sql, params


class ShortIContains(WithoutTrigrams, IContains):
    pass


class ShortCommonIContains(WithoutTrigrams, CommonIContains):
    pass


class ShortContains(WithoutTrigrams, Contains):
    pass


class ShortCommonContains(WithoutTrigrams, CommonContains):
    pass


def register_lookups() -> None:
    for field in (CharField, TextField):
        field.register_lookup(CommonIContains, "common_icontains")
        field.register_lookup(CommonContains, "common_contains")
        field.register_lookup(ShortIContains, "short_icontains")
        field.register_lookup(ShortCommonIContains, "short_common_icontains")
        field.register_lookup(ShortContains, "short_contains")
        field.register_lookup(ShortCommonContains, "short_common_contains")


def _plain(fields: list[str], term: str, common: bool = False) -> Q:
    """Any of `fields` contains `term`, whatever its case. A term with no case (Chinese, digits:
    北, 南宁, 5957) is matched as written where no index is read (a short term, a common one):
    the same rows, without upper-casing every row's text first. PostgreSQL read the newest 30,000
    follow-ups for 南宁 in 32 ms with UPPER, 13 ms without. (An indexed match keeps UPPER: the
    trigram indexes are on the upper-cased text.)"""
    short = len(term) < MIN_TERM
    lookup = "common_icontains" if common else "icontains"
    if (common or short) and term.upper() == term.lower():
        lookup = lookup.replace("icontains", "contains")
    if short:
        lookup = f"short_{lookup}"
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__{lookup}": term})
    return condition


def short_window_probe(queryset, paths: list[str], term: str, window: int | None = None,
                       condition: Q | None = None, start: int | None = None) -> tuple[list[int], int] | None:
    """(ids of up to PROBE rows of `queryset` (the list as its user sees it: data scope and filters
    applied) among the table's newest SHORT_WINDOW rows whose search `paths` contain `term`, the
    window's size), or None when the table has no more rows than the window.

    The window is an id range of the table, not the newest rows of the list: its cost is bounded
    (SHORT_WINDOW rows read through the primary key) whatever the scope. Counting the newest rows of
    a narrow scope instead walked the table for a rep's follow-ups (theirs and the public pool's:
    170 ms at 250k rows)."""
    window = window or SHORT_WINDOW
    start = start if start is not None else window_start(queryset.model, window)
    if start is None:
        return None
    found = queryset.filter(pk__gt=start).filter(_plain(paths, term) if condition is None else condition)
    found = found.order_by("pk")
    # the window is read in id order and each row's scope tested (PageOwner): planned from the
    # scope instead, SQLite read a department's customers and the public pool's first and then
    # their follow-ups in the window (a supervisor's one-character search: 520-690 ms at 5M, 30 ms so)
    found.query.walk_in_order = True
    # not in parallel: each of PostgreSQL's processes tested the whole window (a rep's follow-ups
    # for "zh", none among the newest 30,000: three processes on two cores, 70-76 ms; alone 32-42)
    with pg_planned(parallel=False):
        return list(found.values_list("pk", flat=True)[:PROBE]), window


def window_start(model, window: int) -> int | None:
    """The id above which `model`'s table holds its newest `window` rows (an id range), or None
    when its ids span no more rows than that."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        # two subqueries: SQLite reads MIN or MAX alone from the index end, not both in one SELECT
        cursor.execute(f"SELECT (SELECT MIN(id) FROM {table}), (SELECT MAX(id) FROM {table})")
        low, top = cursor.fetchone()
    if top is None or top - low < window:
        return None
    return top - window


def _walked_window(base, condition: Q, walked: Q, window: int, start: int) -> tuple[bool, Q | None] | None:
    """How a page read by id newest first on PostgreSQL meets `condition` within the table's newest
    `window` rows, judged from the list's newest SAMPLE_ROWS rows there: (False, `walked`: the same
    rows, written for a walk that starts at the window's top and stops at a page of matches), or
    (True, None) when the window holds PROBE matches or more (the term is common: the whole table,
    as the listing found it), or None: list the window's matches (short_window_probe).

    Listing every match first read the whole window: an administrator's invoices for 南宁, 10,000
    invoices joined to their customers, 27 ms to list 186 matches, 7 ms to walk to the first 51.
    A filtered list holds a fraction of the window's rows, and the walk tests the rest too: it is
    chosen only when it is expected to stop within half the window (ids walked = a page / (the list's share of the
    ids × the term's share of the list's rows)). A term the sample does not meet at all is listed."""
    # the newest rows of the list in the window, counted in one query: how many, how many match,
    # and the lowest id (how densely the list's rows lie)
    newest = base.filter(pk__gt=start).order_by("-pk").values("pk")[:SAMPLE_ROWS]
    seen = base.model._default_manager.filter(pk__in=newest).aggregate(
        rows=Count("pk"), matched=Count("pk", filter=condition), low=Min("pk"))
    if seen["rows"] < SAMPLE_ROWS:  # few of the list's rows in the window: listed at once
        return None
    if not seen["matched"]:
        return None
    density = seen["rows"] / (start + window - seen["low"] + 1)  # the list's rows per id
    share = seen["matched"] / seen["rows"]  # the term's matches per row of the list
    if share * density * window >= PROBE:
        return True, None
    if WALKED_PAGE / (density * share) > window / 2:
        return None
    return False, Q(pk__gt=start) & walked


WALKED_PAGE = 51  # a page and the next one's first row
WALKED_ROWS = 30_000  # the rows a page may walk for a related record's rows (search_q)


THROUGH_SAMPLE = 8_000  # the table's newest rows that tell whether a walk meets the related rows soon


def _dense_at_top(base, through: Q) -> bool:
    """Whether the list `base` meets rows of `through` (foreign keys to the related records a
    search found) among the table's newest THROUGH_SAMPLE rows as often as a page walked newest
    first needs to stop within WALKED_ROWS rows. The tables' sizes say how many such rows there
    are, not where: records found among old customers may have only old rows, and the walk would
    then read the whole table. Counted on the id range, with the condition written as a common
    one so that the range is walked (~1 ms), not the foreign key's index."""
    start = window_start(base.model, THROUGH_SAMPLE)
    if start is None:  # a small table: listed
        return False
    seen = base.filter(pk__gt=start).filter(Q(_known_common(through))).order_by().count()
    return seen * WALKED_ROWS >= WALKED_PAGE * THROUGH_SAMPLE


def _known_common(q: Q):
    """`q` as one condition PostgreSQL estimates true for half the rows (KnownCommon's CASE)."""
    return Case(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())


# a search of no particular list: ListReading's questions, all answered no
UNKNOWN_READING = SimpleNamespace(narrow=False, newest_first=False, walks_window=False, walks_own=False)


def search_q(model, fields: list[str], term: str, indexed: bool, notices: list | None = None,
             queryset=None, reading=None) -> Q:
    """The condition of a list search for `term` over `fields` of `model` (see the module). A
    search limited to the newest rows of `queryset` (the list being searched; default: every row)
    appends the window's size to `notices`. `reading` tells how that list is read
    (kehu/core/filters.py: ListReading; default: nothing known): `narrow`, a few owners' own
    records (a rep's), small enough to be searched whole without an index; `newest_first`;
    `walks_window`, a window that may be walked from its top (_walked_window); `walks_own`, a rep's
    list read by id down its `(owner, id)` index. Each is asked only where the plan needs it."""
    reading = reading or UNKNOWN_READING
    own = [f for f in fields if "__" not in f]
    related = [f for f in fields if "__" in f]
    if not indexed or connection.vendor not in ("sqlite", "postgresql"):
        return _plain(fields, term)
    short = len(term) < MIN_TERM
    found_ids, windowed = [], []
    # ids read through `queryset` (a narrow list's own rows) are rows of the list: when every id of
    # the answer is, the answer says so (RowsOfTheList) and the list is read by those ids alone
    listed = reading.narrow and queryset is not None
    outside = False  # an id of the answer that was not read through the list (the own text's probe)
    if own and short:
        windowed += own
    elif own:
        found_ids = _rare_ids(model, own, term)
        if found_ids is None:
            # common in the record's own text: the list's ordered page meets matches after a few
            # rows, whatever the related paths add
            return _plain(fields, term, common=True)
        outside = bool(found_ids)
    ranged, expected = Q(), 0.0
    through_lists: list[tuple[str, IdList]] = []  # (foreign key, the related records' ids found)
    by_fk: dict[str, list[str]] = {}  # a related record type is asked once, whatever its fields searched
    for path in related:
        by_fk.setdefault(path.split("__", 1)[0], []).append(path)
    for fk, paths in by_fk.items():
        path = paths[0]
        key_range = None if short else _related_condition(model, path, term)
        # a short term too: the related type's index may hold it as a word (one or two Chinese
        # characters in the customers' search text); its probe_ids says None when it cannot
        ids = None if key_range is not None else _related_ids(model, path, term)
        if key_range is not None:
            # a range of the foreign key (a customer-number prefix: the customers of a month, or
            # one customer's number), cheaper than listing the related ids and shorter than a list
            # of thousands. Its rows are listed when few (the foreign key's index); else the range is
            # tested where the related text would have been, on the rep's rows or the newest ones,
            # without reading the related record. Before, a prefix of more customers than the probe
            # lists had the related record's text tested for the number, which matched nothing (a
            # rep's list came back empty).
            source = queryset if reading.narrow and queryset is not None else model._default_manager.all()
            own_found = _read_too(found_ids, listed and outside)
            rows = _fewer_than_probe(source.filter(key_range | own_found).order_by(), asked_first=not reading.narrow)
            if rows is not None:
                if own_found:  # the own text's ids read through the list with the range: its rows
                    found_ids, outside = rows, False
                else:
                    found_ids = [*found_ids, *rows]
                    outside = outside or (bool(rows) and not listed)
            else:
                ranged |= key_range
        elif ids is None:
            windowed += paths
        elif ids:
            through_lists.append((fk, IdList(ids)))
            expected += len(ids) * _rows_per_related(model, fk)
    through = Q()  # the rows of the related records found, on any of the foreign keys
    for fk, ids in through_lists:
        through |= Q(**{f"{fk}_id__in": ids})
    condition = Q(pk__in=IdList(found_ids))
    base = model._default_manager.all() if queryset is None else queryset
    if through and connection.vendor == "postgresql" and 0 < expected < PROBE and reading.walks_window and \
            WALKED_PAGE * table_rows(model._meta.db_table) / expected <= WALKED_ROWS and \
            _dense_at_top(base, through):
        # the rows of the related records found are a share of the table that a page read newest
        # first meets within WALKED_ROWS rows: the page walks the primary key and tests each row's
        # foreign key against the ids (hashed), as a common condition (KnownCommon), instead of
        # listing every row of those records first. A 4-digit phone fragment in 3,161 customers:
        # their 3,181 opportunities listed through the foreign key in 10 ms, the walk to the
        # newest 51 in 3.4 ms (about 16,000 rows). Only where the user sees every row: a
        # department's or a rep's page would test each row's scope too. (PROBE rows or more are
        # left to the planner below, which walks them as it is)
        condition = condition | Q(_known_common(through))
    elif through:
        # the rows of the related records found, read once through the foreign key's index: as
        # `customer_id IN (4,000 customers)` beside the list's order and scope, SQLite walked the
        # whole table in id order for a rep whose few matches never filled the page (800k surveys:
        # 50 ms); as one id list the page reads those ids in its order (kehu/accounts/scope.py)
        # unless the tables' sizes tell that they are PROBE or more (a phone fragment in 3,161
        # customers, who have ~9,800 payments: 8 ms of listing to learn it)
        source = queryset if reading.narrow and queryset is not None else model._default_manager.all()
        many = not reading.narrow and expected >= PROBE
        own_found = _read_too(found_ids, listed and outside)
        rows = [] if many else list(source.filter(through | own_found).order_by().values_list("pk", flat=True)[:PROBE])
        if many or len(rows) >= PROBE:
            # SQLite: one id list of the paths (_ids_union), unless the user sees every row and a
            # foreign key has only a partial index: SQLite then walks the table by id to a page,
            # cheaper than reading every row through that index (payments for "4002": 3.5 vs 13 ms)
            if connection.vendor == "sqlite" and (not reading.walks_window or all(
                    model._meta.get_field(fk).db_index for fk, _ids in through_lists)):
                condition = _ids_union(model, found_ids, through_lists)
            else:
                condition = condition | through
        elif own_found:  # the own text's ids read through the list with the related rows: its rows
            condition, outside = Q(pk__in=IdList(sorted(rows))), False
        else:
            condition = Q(pk__in=IdList(sorted(set(found_ids) | set(rows))))
            outside = outside or (bool(rows) and not listed)
    if not windowed and not ranged:
        return _of_the_list(condition, listed and not outside)
    plain = (_plain(windowed, term) if windowed else Q()) | ranged
    if reading.narrow:
        if not windowed:  # the range alone, which the rep's rows already met PROBE times
            return condition | ranged
        if connection.vendor == "postgresql" and reading.walks_own:
            # the page walks the rep's rows newest first down their (owner, id) index and stops at
            # a page of matches: reading them all joined to their customers first cost more
            # whenever matches are not rare (a rep's payments for 南宁 at 1M: 63.6 → 30.1 ms, orders
            # for 北 57.9 → 33.4, contracts for 龘 21.2 → 17.3; orders for zh 35.2 → 39.5). The
            # walk is bounded by the rep's rows, as the read was
            return condition | _plain(windowed, term, common=True) | ranged
        if _common_in_sample(base, plain):
            return condition | _plain(windowed, term, common=True) | ranged
        # the rep's rows read through the scope's owner index, unordered: in the list's order a
        # planner that guesses the term common walks the whole table for a rare one (PostgreSQL, a
        # rep's 5,080 of 1M tasks, "zh": 180 ms by the primary key, 20 ms through the owner)
        # (a wide scope: one tested row by row, SCOPE_LISTED rows or more; a smaller one's rows are
        # joined to their customers at less than the cost of reading the rep's customers)
        wide = bool(getattr(base.query, "scope_branches", None))
        own_rows = (_through_owned_customers(model, windowed, term, reading.owners if wide else ())
                    if windowed else Q()) | ranged
        found = list(base.filter(own_rows).order_by().values_list("pk", flat=True)[:PROBE])
        if len(found) < PROBE:
            return _of_the_list(_with_ids(condition, found), listed and not outside)
        # common among the rep's rows: met within a few rows of the rep's page (KnownCommon)
        return condition | _plain(windowed, term, common=True) | ranged
    # no index answers these paths for this term (under three characters, or common in the
    # related records but not known to be common here): the newest rows only, unless the table
    # is small or the term is common among them
    # a related record's text, or a range of the foreign key standing for it: the smaller window.
    # So too for the list's own text when the search also reads a related type's ids: the window it
    # had beside the join (SQLite at 1M, tickets for 程轩 through 30,000 rows: 18 → 29 ms)
    joined = bool(ranged) or bool(related)
    window = RELATED_WINDOW if joined else SHORT_WINDOW
    walked, start = None, None
    if connection.vendor == "postgresql" and reading.walks_window:
        # the walk's condition is written as a common match (KnownCommon), which PostgreSQL expects
        # often and so walks the window by id; as a plain LIKE it expected a few matches and read
        # the whole window (25 ms). Not on SQLite: the window's listing is marked walk_in_order for
        # its scope, which a page query is not (planned from the scope, it read a department's rows first)
        start = window_start(base.model, window)
        walked = None if start is None else _walked_window(
            base, plain, (_plain(windowed, term, common=True) if windowed else Q()) | _walked(ranged), window, start)
        if walked is not None and not walked[0]:
            if notices is not None:
                notices.append(window)
            return condition | walked[1]
    found = None if walked is not None else short_window_probe(base, windowed, term, window, condition=plain,
                                                               start=start)
    if walked is not None or found is None or len(found[0]) >= PROBE:  # a small table, or common in the window
        # a range common among the newest rows is tested on the rows a newest-first page reads:
        # from its foreign key's index SQLite read the 7,000 orders of this month's customers and
        # sorted them for a page of the newest (an administrator's orders for KH202612: 26 → 15 ms).
        # Another order keeps the index: walking orders by amount for this month's customers met
        # them late (18 → 65 ms)
        return condition | (_plain(windowed, term, common=True) if windowed else Q()) | \
            (_walked(ranged) if reading.newest_first else ranged)
    if notices is not None:
        notices.append(found[1])
    # (under another order than by id the window stays listed: the window read as its id span
    # with the condition was 1-2 ms slower sorted otherwise, and no faster by id while the match
    # was a plain LIKE, which PostgreSQL expects rare: _walked_window writes it as a common one)
    return _with_ids(condition, found[0])


def _read_too(found_ids, wanted: bool) -> Q:
    """The own text's found ids as a condition to read with a narrow list's related rows, so that
    the answer holds rows of the list only (RowsOfTheList); an empty Q otherwise. A rep's tickets
    for a phone fragment: 1,117 tickets hold it in their own text, found across the table."""
    return Q(pk__in=IdList(found_ids)) if wanted and found_ids else Q()


class RowsOfTheList(IdList):
    """A search's answer when every id in it was read through the list being searched (a rep's
    rows, in their data scope): KehuFilterSet.search then reads the list by these ids alone. On
    SQLite a rep's tickets were read by the 133 ids their customers' number prefix found in the
    rep's scope, with the scope's three-path union built again beside them (8 of 13 ms of SQL)."""


def _id_list(condition: Q) -> IdList | None:
    """The ids of a condition that is one `pk__in=IdList`, else None."""
    if not condition.negated and len(condition.children) == 1 and isinstance(condition.children[0], tuple):
        name, value = condition.children[0]
        if name == "pk__in" and isinstance(value, IdList):
            return value
    return None


def _of_the_list(condition: Q, listed: bool) -> Q:
    """`condition` as RowsOfTheList when `listed` and it is one id list."""
    ids = _id_list(condition) if listed else None
    return Q(pk__in=RowsOfTheList(ids)) if ids is not None else condition


def rows_of_the_list(condition: Q) -> IdList | None:
    """The ids of a search's answer that is RowsOfTheList, else None."""
    ids = _id_list(condition)
    return ids if isinstance(ids, RowsOfTheList) else None


def _ids_union(model, found_ids, through_lists: list[tuple[str, IdList]]) -> Q:
    """SQLite: `pk IN found_ids OR fk IN ids…` as one `pk IN (… UNION ALL …)` of the lists' ids.
    As an OR, SQLite read the rows of each list by its index (MULTI-INDEX OR), fetched every one
    from the table to test the rest of the WHERE and sorted them all for the page: a supervisor's
    orders searched for the phone fragment "4002" at 1M customers, 1,188 orders of their own text
    and 6,385 of 3,191 customers, 13.7 ms. As one list the subquery's ids come from the indexes and
    the page walks them in its order: 5.6 ms. The same rows. (docs/decisions.md, stop 52)"""
    parts = []
    for fk, ids in through_lists:
        # the foreign key's own index (the page keeps its live-rows condition), from which the ids
        # are read without the table (6,385 orders: 5.4 ms, 8.2 through the partial index of live
        # rows, which reads each row to test it); where it has only a partial one, that one
        manager = model._base_manager if model._meta.get_field(fk).db_index else model._default_manager
        parts.append(manager.filter(**{f"{fk}_id__in": ids}).order_by().values("pk"))
    if found_ids:
        parts.insert(0, model._base_manager.filter(pk__in=IdList(found_ids)).order_by().values("pk"))
    return Q(pk__in=parts[0].union(*parts[1:], all=True))


def _with_ids(condition: Q, ids) -> Q:
    """`condition | pk IN ids`, one id list when `condition` is one too: an OR of two lists stays
    nested in the WHERE, where filters.merge_id_lists cannot meet it with the scope's own list."""
    mine = _id_list(condition)
    if mine is not None:
        return Q(pk__in=IdList(sorted({*mine.ids, *map(int, ids)})))
    return condition | Q(pk__in=IdList(ids))


def _fewer_than_probe(queryset, asked_first: bool = True) -> list[int] | None:
    """The ids of `queryset`'s rows when they are fewer than PROBE, else None. Whether there is a
    PROBE-th row is asked first (`OFFSET PROBE - 1 LIMIT 1`): a range of the customers' numbers
    usually has more (KH202312: the orders of a month's customers), and reading 5,000 ids through
    Django only to drop them took 3.3 of an order search's 15 ms (PostgreSQL at 1M; the check 0.7 ms).
    A rare range pays one more query (one customer's number: ~0.3 ms). Not `asked_first` for a
    rep's own rows, which are usually fewer: the two queries each built the rep's scope (SQLite, a
    rep's tickets for KH202312, a union of three paths: 11 + 3 ms)."""
    ids = queryset.values_list("pk", flat=True)
    if asked_first and list(ids[PROBE - 1:PROBE]):
        return None
    found = list(ids[:PROBE])
    return found if len(found) < PROBE else None


def _through_owned_customers(model, fields: list[str], term: str, owners: tuple[int, ...]) -> Q:
    """`_plain(fields, term)` for all of a rep's rows, with the customer's fields of a record that
    carries its customer's owner (`customer_owner`, kehu.customers.models.CarriesCustomerOwner)
    matched among the rep's own customers first: `customer_id IN (the rep's customers whose
    name contains the term)`, and the customer read row by row only for a record whose customer is
    somebody else's (a ticket the rep handles). Joined to its customer, each of a rep's 6,885
    tickets was a lookup of the customer (PostgreSQL at 1M, 南宁: 52 ms; this way 18 ms). The
    same rows: a record's `customer_owner` is its customer's owner (kept so by owner_follows, and
    the data scope relies on it too). PostgreSQL only, where it was measured."""
    via = [f for f in fields if f.startswith("customer__")]
    if not via or not owners or connection.vendor != "postgresql" or \
            "customer_owner" not in {f.name for f in model._meta.get_fields()}:
        return _plain(fields, term)
    from django.db.models import Exists, OuterRef

    customer_model = model._meta.get_field("customer").related_model
    theirs = _plain([f.removeprefix("customer__") for f in via], term)
    mine = customer_model._base_manager.filter(theirs, owner_id__in=owners).order_by().values("pk")
    # the live customers from the (owner, name) index alone (1.7 ms for a rep's 4,800; through the
    # owner index and the table: 23 ms cold), the recycle bin's from its own partial index
    live, binned = mine.filter(deleted_at__isnull=True), mine.filter(deleted_at__isnull=False)
    elsewhere = Exists(customer_model._base_manager.filter(theirs, pk=OuterRef("customer_id")))
    own = [f for f in fields if f not in via]
    return (_plain(own, term) if own else Q()) | Q(customer_id__in=live) | Q(customer_id__in=binned) | \
        (~Q(customer_owner_id__in=owners) & Q(elsewhere))


SAMPLE_ROWS = 200  # a rep's rows tested first for a short term (_common_in_sample)
COMMON_IN_SAMPLE = 10  # matches among them that make the term common (5 %)


def _common_in_sample(base, condition: Q) -> bool:
    """Whether `condition` holds for COMMON_IN_SAMPLE or more of SAMPLE_ROWS rows of `base` (a
    rep's list; a short term that no index answers), read in no order from the scope's index. At
    5 % or more the term is common: the list's page meets a page of matches within ~1,000 rows in
    any order. Without the sample, a rep's rows were read until PROBE of them matched to learn it
    (公司 in a rep's 15,800 payments, three in four matching: ~6,700 rows joined to their
    customers). A rarer term is then read whole as before, after the sample's two small queries."""
    # the sample's ids read once through the scope, then tested by id alone: with the scope in both
    # queries SQLite built a rep's ticket union twice (9 ms for 公司, more than the read it saves)
    sample = list(base.order_by().values_list("pk", flat=True)[:SAMPLE_ROWS])
    if len(sample) < SAMPLE_ROWS:  # a few rows: read whole at once
        return False
    rows = base.model._default_manager.filter(pk__in=IdList(sample)).filter(condition)
    return rows.order_by().count() >= COMMON_IN_SAMPLE


_WALKED_LOOKUPS = {"gte": GreaterThanOrEqual, "lte": LessThanOrEqual, "gt": GreaterThan, "lt": LessThan,
                   "exact": Exact}


def _walked(q: Q) -> Q:
    """`q` (column comparisons, e.g. a range of a foreign key) with each column through WalkOnly:
    the same rows, tested on those the page's order reads instead of read from the column's index."""
    out = Q()
    out.connector, out.negated = q.connector, q.negated
    for child in q.children:
        if isinstance(child, Q):
            out.children.append(_walked(child))
            continue
        name, value = child
        field, _sep, lookup = name.rpartition("__")
        if lookup in _WALKED_LOOKUPS and field and "__" not in field:
            out.children.append(_WALKED_LOOKUPS[lookup](WalkOnly(field), value))
        else:
            out.children.append(child)
    return out


def _rows_per_related(model, fk: str) -> float:
    """How many rows of `model` a record of `fk`'s model has on average, from the row counts of
    the two tables (`table_rows` on PostgreSQL, `_analyzed_rows` on SQLite); 0 (unknown) elsewhere
    or before the tables' first ANALYZE. It only chooses a plan."""
    if connection.vendor not in ("postgresql", "sqlite"):
        return 0.0
    counted = table_rows if connection.vendor == "postgresql" else _analyzed_rows
    related = model._meta.get_field(fk).related_model
    rows, per = counted(model._meta.db_table), counted(related._meta.db_table)
    return rows / per if rows > 0 and per > 0 else 0.0


_table_rows = TimedMemory(kept=60.0)


def table_rows(table: str) -> float:
    """PostgreSQL's row count of `table` (`pg_class.reltuples`, kept by ANALYZE and autovacuum; 0
    before the first), read once a minute per process: it only chooses plans, and reading it cost
    a round trip on every search through the customer."""
    rows = _table_rows.get(table)
    if rows is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
            found = cursor.fetchone()
        rows = max(float(found[0] or 0), 0.0) if found else 0.0
        _table_rows.remember(table, rows)
    return rows


def _analyzed_rows(table: str) -> float:
    """SQLite's row count of `table` by its last ANALYZE (`statistics.analyzed_rows`), 0 without
    one; read once a minute per process, as `table_rows`. Without it a phone fragment's 3,000 customers had their
    5,000-odd orders read through Django first, only to learn that they are many (SQLite at 1M, a
    supervisor's orders for 4002: ~5 of 27 ms)."""
    from .statistics import analyzed_rows

    key = ("sqlite_stat1", table)
    rows = _table_rows.get(key)
    if rows is None:
        rows = analyzed_rows(table)
        _table_rows.remember(key, rows)
    return rows


def _related_ids(model, path: str, term: str) -> list[int] | None:
    """Ids of the related records that `path` (fk__field) reaches, found by the related record
    type's own indexed search (its filter set's `probe_ids`), or None when that search cannot give
    them all (no index, or PROBE or more matches)."""
    from .registry import registry

    fk, _rest = path.split("__", 1)
    related_model = model._meta.get_field(fk).related_model
    rt = registry.for_model(related_model)
    probe_ids = getattr(rt.filterset, "probe_ids", None) if rt is not None and rt.filterset else None
    return probe_ids(term) if probe_ids else None


def _related_condition(model, path: str, term: str) -> Q | None:
    """A condition on `model`'s foreign key of `path` from the related record type's filter set
    (`related_condition`, e.g. a customer-number prefix as a range of customer ids), or None."""
    from .registry import registry

    fk, _rest = path.split("__", 1)
    rt = registry.for_model(model._meta.get_field(fk).related_model)
    make = getattr(rt.filterset, "related_condition", None) if rt is not None and rt.filterset else None
    return make(term, fk) if make else None


def probe_ids(filterset_class, term: str) -> list[int] | None:
    """Ids of every row of the filter set's model whose own search columns contain `term`, or None
    when they cannot be read through an index (short term, no index) or are PROBE or more."""
    model = filterset_class._meta.model
    own = [f for f in filterset_class.search_fields if "__" not in f]
    if not (getattr(filterset_class, "search_indexed", False) and own and len(term) >= MIN_TERM
            and connection.vendor in ("sqlite", "postgresql")):
        return None
    return _rare_ids(model, own, term)
