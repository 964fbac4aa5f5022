"""Bulk inserts of new records for imports: the rows `bulk_create` would write, sent as PostgreSQL's
COPY, or on SQLite by executemany into a temporary staging table and one INSERT ... SELECT, instead
of Django's multi-row INSERT statements (issue 15, speed).

Each field's value is what bulk_create sends: `pre_save(obj, add=True)` (auto_now dates), then
`get_db_prep_save` — skipped only where it is the identity (a str for a text field, an int for an
integer or a foreign key, a bool, None). Ids are drawn first (PostgreSQL: the table's sequence;
SQLite: after the larger of the table's largest id and its AUTOINCREMENT counter, inside the
caller's transaction, which holds SQLite's write lock from its start: `transaction_mode` IMMEDIATE)
and set on the objects, as bulk_create sets them. Models with pre_init/post_init-style
particularities are not special here: no signals are sent, as bulk_create sends none."""

from __future__ import annotations

import datetime
import zlib

from django.conf import settings
from django.db import connections, models, router
from django.utils import timezone

_IDENTITY = {
    models.CharField: str, models.TextField: str, models.EmailField: str, models.URLField: str,
    models.SlugField: str, models.IntegerField: int, models.PositiveIntegerField: int,
    models.BigIntegerField: int, models.SmallIntegerField: int, models.PositiveSmallIntegerField: int,
    models.BooleanField: bool,
}


def insert(model, objs: list) -> None:
    """INSERT the new `objs` of `model` and give them their ids (as bulk_create does)."""
    if not objs:
        return
    alias = router.db_for_write(model)
    connection = connections[alias]
    opts = model._meta
    pk = opts.pk
    fields = [f for f in opts.concrete_fields if f is not pk and not f.generated]
    now = timezone.now()  # the batch's auto_now / auto_now_add time: one moment for the rows written together
    getters = [_getter(f, connection, now) for f in fields]
    ids = allocate_ids(model, len(objs), connection)
    rows = []
    prepare = related_check(model)
    for obj, new_id in zip(objs, ids, strict=True):
        prepare(obj)
        rows.append((new_id, *[get(obj) for get in getters]))
        setattr(obj, pk.attname, new_id)
        obj._state.adding = False
        obj._state.db = alias
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in [pk, *fields])
    table = qn(opts.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            # through a staging table, then one INSERT ... SELECT: a full-text index (FTS5) writes
            # its pending terms at every statement's savepoint, so an executemany straight into a
            # table with a search trigger wrote a segment per row and merged them (10,000 customers
            # with their contacts: 2.9 s; staged: 0.68 s, docs/benchmarks.md "Import")
            # named after its columns: a connection that outlives a migration never reuses an old one
            stage = qn(f"kehu_stage_{opts.db_table}_{zlib.crc32(columns.encode()):08x}")
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({columns})")  # no types: values as given
            marks = ", ".join(["%s"] * (len(fields) + 1))
            try:
                cursor.executemany(f"INSERT INTO temp.{stage} VALUES ({marks})", rows)
                cursor.execute(f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM temp.{stage}")
            finally:
                cursor.execute(f"DELETE FROM temp.{stage}")


def allocate_ids(model, n: int, connection=None) -> list[int]:
    connection = connection or connections[router.db_for_write(model)]
    opts = model._meta
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                           [opts.db_table, opts.pk.column, n])
            return sorted(row[0] for row in cursor.fetchall())
        qn = connection.ops.quote_name
        cursor.execute(f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
                       f"coalesce((SELECT max({qn(opts.pk.column)}) FROM {qn(opts.db_table)}), 0))",
                       [opts.db_table])
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + n))


def related_check(model):
    """`obj._prepare_related_fields_for_save("bulk_create")` (what bulk_create asks of each object:
    no unsaved related object; an id from an object saved since it was set), answered from the
    instance's dict and cache where it would change nothing: each cached related object saved and
    holding the id the instance holds. Any other object goes through Django's method."""
    opts = model._meta
    if any(f.is_relation and hasattr(f, "fk_field") for f in opts.private_fields):  # a generic foreign key
        return _prepare_related
    checks = []
    for f in opts.concrete_fields:
        if not f.is_relation:
            continue
        target = f.target_field
        if target is not target.model._meta.pk or f.attname == f.name:
            return _prepare_related
        checks.append((f.cache_name, f.attname, target.attname, f.empty_values))

    def prepare(obj):
        cache, d = obj._state.fields_cache, obj.__dict__
        for cache_name, attname, target, empty in checks:
            related = cache.get(cache_name)
            if related is None:  # not cached, or None: Django skips it
                continue
            value = d.get(attname, _MISSING)
            if value is _MISSING or value in empty or related.__dict__.get(target, _MISSING) != value:
                return _prepare_related(obj)  # the related id is None (unsaved) or another: Django's own
        return None

    return prepare


def _prepare_related(obj):
    obj._prepare_related_fields_for_save(operation_name="bulk_create")


_MISSING = object()


def _fast_prep(f, connection):
    """get_db_prep_save of a value the batch does not repeat, the common case first, or None.

    A time of the moment (a `default=timezone.now` column) differs on every row: an aware UTC
    datetime, which DateTimeField.get_prep_value passes as it is and the backend adapts (SQLite:
    made naive in the connection's UTC and written as text; PostgreSQL: given to the driver as it
    is). Anything else goes through the field."""
    if type(f) is not models.DateTimeField or not settings.USE_TZ:
        return None
    utc = datetime.UTC
    prep = f.get_db_prep_save
    if connection.vendor == "sqlite" and connection.timezone is utc:
        def fast(value):
            if value.__class__ is datetime.datetime and value.tzinfo is utc:
                return str(value.replace(tzinfo=None))
            return prep(value, connection)
    elif connection.vendor == "postgresql":
        def fast(value):
            if value.__class__ is datetime.datetime and value.tzinfo is utc:
                return value
            return prep(value, connection)
    else:
        return None
    return fast


def _getter(f, connection, now):
    """The value of `f` that bulk_create would send for an object. Conversions are remembered per
    value for the batch: most columns of an import repeat a few values (a default amount, the batch's
    time, a date of the file), and converting them (dates, decimals, JSON) was a fifth of a row's time."""
    attname = f.attname
    auto = isinstance(f, models.DateField) and (f.auto_now or f.auto_now_add)
    pre_save = not auto and type(f).pre_save not in (models.Field.pre_save, models.DateField.pre_save,
                                                     models.DateTimeField.pre_save)
    if auto:
        auto = now if isinstance(f, models.DateTimeField) else timezone.localdate(now)
    kind = _IDENTITY.get(type(f))
    if isinstance(f, models.ForeignKey):
        kind = _IDENTITY.get(type(f.target_field), kind) if not isinstance(f.target_field, models.AutoField) else int
    prep = f.get_db_prep_save
    fast = _fast_prep(f, connection)
    memo: dict = {}

    def get(obj):
        if auto:
            value = obj.__dict__[attname] = auto  # what pre_save(obj, add=True) sets
        else:
            value = f.pre_save(obj, True) if pre_save else obj.__dict__[attname]
        if value is None or (kind is not None and value.__class__ is kind):
            return value
        if fast is not None:
            return fast(value)
        try:
            key = (value.__class__, value)
            found = memo.get(key, memo)
        except TypeError:  # unhashable (a JSON value): converted each time, but for an empty one
            if (value.__class__ is dict or value.__class__ is list) and not value:
                key = (value.__class__, ())
                found = memo.get(key, memo)
                if found is memo:
                    found = memo[key] = prep(value.__class__(), connection)
                return found
            return prep(value, connection)
        if found is memo:
            found = prep(value, connection)
            if len(memo) < 10000:
                memo[key] = found
        return found

    return get
