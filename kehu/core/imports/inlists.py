"""A batch's duplicate queries compiled once per run (issue 15, speed).

An import asks, per batch of 1,000 rows, a few queries of the form
`Customer.objects.filter(phone__in=<3,000 phones>).values_list("pk", "phone")`. Django compiles the
`IN` list value by value (resolving, preparing and quoting each parameter): ~15 % of a dry run's
time. `InListQuery` lets Django compile the queryset once per run and list size, with placeholder
values, and then executes that same SQL with the batch's values in their places: the query, its
conditions (the manager's, a partial index's) and its plan are Django's own. The list is padded to a
multiple of `STEP` by repeating its first value (the same set for `IN`), so that batches share a
compiled statement.

Used where the selected columns need no conversion from the database (ids, text): a queryset whose
selected fields the backend would convert is run through Django as before."""

from __future__ import annotations

from django.db import connections, models

STEP = 128
_PLAIN = (models.AutoField, models.BigAutoField, models.IntegerField, models.CharField, models.TextField,
          models.ForeignKey)


class InListQuery:
    """`rows(values)` = `list(build(values))` for a `build` returning a values_list() queryset whose
    condition holds the values (once or more: each `__in` given the same list)."""

    def __init__(self, build):
        self.build = build
        self.compiled: dict[int, tuple | None] = {}

    def rows(self, values) -> list[tuple]:
        values = list(dict.fromkeys(values))
        if not values:
            return list(self.build(values))
        size = -(-len(values) // STEP) * STEP
        found = self.compiled.get(size, False)
        if found is False:
            found = self.compiled[size] = self._compile(size)
        if found is None:  # not a plain statement: Django's own way
            return list(self.build(values))
        alias, sql, params, slots = found
        values += [values[0]] * (size - len(values))
        params = list(params)
        for at, i in slots:
            params[at] = values[i]
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            return [tuple(row) for row in cursor.fetchall()]

    def _compile(self, size):
        marks = [f"\x00kehu-in-{i}\x00" for i in range(size)]
        index = {m: i for i, m in enumerate(marks)}
        qs = self.build(marks)
        query = qs.query
        if not _plain_columns(qs):
            return None
        compiler = query.get_compiler(using=qs.db)
        sql, params = compiler.as_sql()
        slots = [(at, index[p]) for at, p in enumerate(params) if isinstance(p, str) and p in index]
        if not slots or len(slots) % size or any(isinstance(p, str) and "\x00kehu-in-" in p and p not in index
                                                 for p in params):
            return None
        return qs.db, sql, tuple(params), slots


def _plain_columns(qs) -> bool:
    """Whether the queryset is a values_list() of model fields the database gives as Python needs them."""
    query = qs.query
    if query.annotation_select or query.extra_select or not query.values_select or qs._fields is None:
        return False
    connection = connections[qs.db]
    for name in query.values_select:
        f = qs.model._meta.get_field(name if name != "pk" else qs.model._meta.pk.name)
        target = f.target_field if isinstance(f, models.ForeignKey) else f
        if type(target) not in _PLAIN and not isinstance(target, models.CharField):
            return False
        if connection.ops.get_db_converters(models.expressions.Col(qs.model._meta.db_table, target)) or \
                f.get_db_converters(connection):
            return False
    return True
