"""Rights and data scope, computed once per user per request and applied in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import F, Func, IntegerField, Q
from django.db.models import Field as ModelField
from django.db.models.lookups import Exact, In, IsNull
from django.db.models.sql.datastructures import Join
from django.db.models.sql.where import AND

from kehu.core.memo import TimedMemory

from .models import SCOPE_RANK, DataScope
from .rights import ALL


@dataclass
class Access:
    rights: frozenset[str]
    scope: str
    user_id: int | None
    department_path: str | None
    superuser: bool = False
    _scope_ids: list[int] | None = field(default=None, repr=False)

    @classmethod
    def for_user(cls, user) -> Access:
        if not user or not user.is_authenticated or not user.is_active:
            return cls(frozenset(), DataScope.OWN, None, None)
        if user.is_superuser:
            return cls(frozenset({ALL}), DataScope.ALL, user.pk, None, superuser=True)
        rights: set[str] = set()
        scope = DataScope.OWN
        for role in user.roles.all():
            rights.update(role.rights or [])
            if SCOPE_RANK[DataScope(role.data_scope)] > SCOPE_RANK[DataScope(scope)]:
                scope = role.data_scope
        path = None
        if scope == DataScope.DEPARTMENT and user.department_id:
            path = user.department.path
        return cls(frozenset(rights), scope, user.pk, path)

    def allows(self, module: str, action: str) -> bool:
        if self.user_id is None:
            return False
        return ALL in self.rights or f"{module}.{action}" in self.rights or f"{module}.*" in self.rights

    def scope_user_ids(self) -> list[int]:
        """Owners whose records this user sees (department scope: own department and below)."""
        if self._scope_ids is None:
            from .models import User

            if self.scope == DataScope.DEPARTMENT and self.department_path:
                ids = list(
                    User.objects.filter(department__path__startswith=self.department_path).values_list(
                        "pk", flat=True
                    )
                )
                self._scope_ids = sorted(set(ids) | {self.user_id})
            else:
                self._scope_ids = [self.user_id]
        return self._scope_ids


def scope_paths(model) -> tuple[str, ...]:
    """The owner fields through which a record of `model` is visible. A record type may be seen
    through more than one path, declared as `scope_paths` (a ticket: its handler or its customer's
    owner, `("handler", "customer__owner")`; an approval: its approver or its requester); the usual
    single path is `scope_owner_field`. The first path is the primary one: the public pool
    (`scope_includes_unowned`), assignment and "mine" refer to it. () = not scoped."""
    paths = getattr(model, "scope_paths", None)
    if paths:
        return tuple(paths)
    field = getattr(model, "scope_owner_field", None)
    return (field,) if field else ()


def scope_key(user, model=None) -> tuple:
    """What `scope_filter`'s SQL depends on for this user besides the model: two users with the
    same key get the same query, so a compiled list query may be reused between them. With a
    `model`, its scope paths are part of the key (the SQL has one condition per path)."""
    access = getattr(user, "access", None) if user is not None else None
    paths = scope_paths(model) if model is not None else ()
    if access is None or access.user_id is None:
        return ("none",)
    if access.scope == DataScope.ALL:
        return ("all",)
    ids = tuple(access.scope_user_ids())
    if len(ids) == 1 and _lists_rows(paths):
        # the scope's SQL holds the rows it lists (_listed_or_rowwise), which change between requests
        return ("listed", object())
    return ("owners", ids, *paths)


def scope_filter(qs, user, owned: bool = False):
    """`qs` narrowed to the user's data scope. `owned=True` tells that the caller keeps only
    records with an owner (a tab or filter on the scope's owner field: "mine", one owner, "not in
    the public pool"): the public pool's `OR owner IS NULL` branch is then left out. Its result is
    the same, but a planner cannot cancel that OR against the caller's `owner IS NOT NULL`, and
    with it the owner index could not be used (808 ms for a supervisor's count on SQLite)."""
    model = qs.model
    paths = scope_paths(model)
    owner_field = paths[0] if paths else None
    access = getattr(user, "access", None) if user is not None else None
    if access is None or access.user_id is None:
        return qs.none()
    if owner_field is None or access.scope == DataScope.ALL:
        return qs
    ids = access.scope_user_ids()
    if len(paths) > 1 and len(ids) > 1:  # a department: many owners, most rows of the table
        return qs.filter(_rowwise(model, paths, ids))
    if _lists_rows(paths):
        condition, branches = _listed_or_rowwise(qs, paths, ids, owned)
        qs = qs.filter(condition)
        if branches:
            # kept on the query (clones copy it) for the id-ordered page (kehu.core.pagination)
            qs.query.scope_branches = branches
        return qs
    if len(paths) > 1:  # visible through any of its paths (a ticket: its handler or its customer's owner)
        # `id IN (ids by path 1 UNION ids by path 2 …)`: each part reads its path's index, and the
        # list walks its order's index testing membership; `path1 IN … OR path2 IN …` made both
        # databases read every row of the scope and sort them (the plan test on a two-path type)
        branches = _path_branches(model, paths, ids[0], owned)
        return qs.filter(pk__in=branches[0].union(*branches[1:]))
    if not getattr(model, "scope_includes_unowned", False) or owned:
        return qs.filter(Q(**{f"{owner_field}_id__in": _literal(ids)}) if len(ids) > 1 else Q(**{f"{owner_field}_id": ids[0]}))
    # with the public pool: the same SQL as `owner_id IN (ids) OR owner_id IS NULL`, but on SQLite a
    # page query walks the index of its order (PageOwner)
    owner, unowned = PageOwner(F(f"{owner_field}_id")), PageOwner(F(f"{owner_field}_id"))
    condition = Q(In(owner, _literal(ids))) if len(ids) > 1 else Q(Exact(owner, ids[0]))
    return qs.filter(condition | Q(IsNull(unowned, True)))


SCOPE_LISTED = 5000  # a single owner's rows of a type seen through several paths listed by id up to this
# A scope found to reach SCOPE_LISTED rows or more is remembered by the process for ten minutes,
# and is tested row by row without listing it again: reading 5,000 ids through Django to learn that
# a rep's tickets are many took 5 of a request's 11 ms (PostgreSQL, 7,000 of 1.5M tickets). Only the
# plan depends on it: both conditions hold for the same rows, so a scope that shrank since is still
# exact, read row by row.
# (kehu/core/memo.py; at most 2,000 scopes, emptied when full)
_wide_scopes = TimedMemory(kept=600.0)


def _lists_rows(paths) -> bool:
    """Whether a single owner's scope over these paths is `_listed_or_rowwise`."""
    return len(paths) > 1 and connection.vendor == "postgresql" and not any("__" in path for path in paths)


def _listed_or_rowwise(qs, paths, ids, owned) -> tuple[Q, list[Q] | None]:
    """A single owner's scope over several paths on PostgreSQL: (the condition, the paths'
    branches). The rows the paths reach are listed by id when fewer than SCOPE_LISTED, else tested
    on each row (_rowwise), and then each path's own condition (`handler_id = 7`, the public pool's
    `owner_id IS NULL`) is returned too: an id-ordered page reads its rows per path from the path's
    `(column, id)` index (kehu.core.pagination, `scope_branches`). As `id IN (path 1 UNION
    path 2 …)` PostgreSQL planned a rep's page (7,000 of 1.5M tickets) as a hash join over the whole
    order's index (30-160 ms), and an agent's (100,000 tickets) built the whole union (220-500 ms);
    row by row, a user who sees nothing walked the whole index (0.6-2.9 s). Listed: 0.1-4 ms for
    the probe, then a page by id; a user with many rows meets a page of them after a few rows
    (rep 4-14 ms, agent 0.5-3 ms). Not kept between querysets: a record created since must show.
    Only for paths that are the record's own columns (a ticket's customer_owner): through a relation
    (`customer__owner`, as feedback had) the probe itself read the owner's customers and their rows
    (~20 ms for a rep's 4,700 customers), slower than the union."""
    model = qs.model
    alive = _alive_only(qs)
    key = (model._meta.db_table, tuple(paths), ids[0], owned, alive, SCOPE_LISTED)
    if key not in _wide_scopes:
        branches = _path_branches(model, paths, ids[0], owned)
        if alive:
            # the live rows' ids come from the paths' indexes alone (partial ones, or with deleted_at
            # beside the id); all rows' ids read the table too (a rep's 3,500 own tickets: 2,300 heap
            # pages, 3-4 ms warm, 240 ms cold). A list of the recycle bin still reads every row's.
            branches = [b.filter(deleted_at__isnull=True) for b in branches]
        found = list(branches[0].union(*branches[1:], all=True)[:SCOPE_LISTED])
        if len(found) < SCOPE_LISTED:
            from kehu.core.filters import IdList

            return Q(pk__in=IdList(sorted(set(found)))), None
        _wide_scopes.remember(key)
    condition = _rowwise(model, paths, ids)
    branches = [(Q(**{f"{path}_id": ids[0]}), _held_by_path_index(model, path)) for path in paths]
    if getattr(model, "scope_includes_unowned", False) and not owned:
        condition |= Q(**{f"{paths[0]}_id__isnull": True})
        branches.append((Q(**{f"{paths[0]}_id__isnull": True}), _held_by_path_index(model, paths[0])))
    return condition, branches


def path_index(model, path: str):
    """The index of `model` on (path, id), which reads a path's rows in id order, or None."""
    return next((index for index in model._meta.indexes if list(index.fields[:2]) == [path, "id"]), None)


def _held_by_path_index(model, path: str) -> frozenset[str]:
    """The columns that the index on (path, id) holds beside its key (`include`; PostgreSQL), but
    deleted_at, which partial indexes are chosen by."""
    index = path_index(model, path)
    if index is None:
        return frozenset()
    return frozenset(model._meta.get_field(name).column for name in index.include) - {"deleted_at"}


class InIndex(Func):
    """A column of a scope path's branch tested where the path's index holds it: `COALESCE(col,
    NULL)`, the same value, which no index answers, so PostgreSQL walks the path's index and tests
    it there (index-only) instead of intersecting with another index whose estimate is off: beside
    a rep's 3,500 own tickets it read all 25,000 assigned ones from the breached tickets' partial
    index, which it expected to hold 4,200 (5 ms per path; 0.5 ms walked)."""

    template = "COALESCE(%(expressions)s, NULL)"


def tested_in_index(qs, columns):
    """`qs` with its conditions on `columns` written through InIndex (see there)."""
    if not columns:
        return qs
    qs = qs.all()
    qs.query.where = _in_index(qs.query.where, columns)
    return qs


def _in_index(node, columns):
    import copy

    from django.db.models.expressions import Col
    from django.db.models.sql.where import WhereNode

    if isinstance(node, WhereNode):
        clone = node.create(connector=node.connector, negated=node.negated)
        clone.children = [_in_index(child, columns) for child in node.children]
        return clone
    from kehu.core.filters import WalkOnly

    lhs = getattr(node, "lhs", None)
    # a column already written through WalkOnly (a filter judged common); any other function of it
    # (LOWER(status)) is left as it is
    column = lhs.get_source_expressions()[0] if isinstance(lhs, WalkOnly) else lhs
    if isinstance(column, Col) and column.target.column in columns:
        node = copy.copy(node)
        node.lhs = InIndex(column)
    return node


def _alive_only(qs) -> bool:
    """Whether `qs` keeps only live rows (`deleted_at IS NULL` among its top conditions, as the
    default manager of a record type with a recycle bin filters)."""
    from django.db.models.lookups import IsNull

    return any(isinstance(c, IsNull) and c.rhs is True and getattr(getattr(c.lhs, "target", None), "name", "") == "deleted_at"
               for c in qs.query.where.children)


def _path_branches(model, paths, user_id: int, owned: bool) -> list:
    """The ids one user reaches through each path, one queryset each (the recycle bin's rows too:
    the list filters), plus the public pool's (`owner IS NULL`) where the type has one and the
    caller did not narrow to owned rows."""
    branches = [model._base_manager.filter(**{f"{path}_id": user_id}).order_by().values_list("pk", flat=True)
                for path in paths]
    if getattr(model, "scope_includes_unowned", False) and not owned:
        branches.append(model._base_manager.filter(**{f"{paths[0]}_id__isnull": True}).order_by()
                        .values_list("pk", flat=True))
    return branches


def _rowwise(model, paths, ids) -> Q:
    """A department's scope over several paths, tested on each row: `+owner_id IN (…) OR
    +handler_id IN (…) OR (SELECT owner_id FROM customer WHERE id = customer_id) IN (…)`. A
    department sees a large share of such a table (a supervisor, 39 % of the bench's tickets), so a
    page walks its order's index and stops after a page of matches, and one record is one row read.
    The union of the paths' ids (what a single owner's scope uses) was built in full for every page
    and every record fetched: 330 ms on PostgreSQL at 150,000 tickets, against 0.4 ms so. No term is
    an index of its own (`+` on SQLite page queries, PageOwner; the relation's owner by a correlated
    subquery), so neither database reads every row of the scope to sort it. Known cost: a department
    that sees almost nothing walks the whole index (PostgreSQL, 150,000 tickets: 0.6 s)."""
    from django.db.models import OuterRef, Subquery

    condition = Q()
    for path in paths:
        if "__" in path:  # through a one-step relation: the related row's owner, read per row
            rel, rest = path.split("__", 1)
            related = model._meta.get_field(rel).related_model
            col = Subquery(related._base_manager.filter(pk=OuterRef(f"{rel}_id")).order_by().values(f"{rest}_id")[:1])
        else:
            col = RowwiseOwner(F(f"{path}_id"))
        condition |= Q(In(col, _literal(ids)))
    return condition


def _literal(ids):
    """A department's owner ids written into the SQL (`IdList`): bound one by one they were prepared by
    Django and adapted by the driver per value, three times per query over a ticket's three paths
    (a supervisor's queue: 3 queries × 3 paths × 37 owners)."""
    from kehu.core.filters import IdList

    return IdList(ids)


def without_rowwise_scope(qs):
    """A copy of `qs` without its row-by-row scope condition (`_rowwise`, the `OR` of the paths),
    for a query that narrows to one path itself (`scope_branches`): beside `handler_id = 7` the OR
    made PostgreSQL guess a handful of rows and sort every ticket of a priority (25 ms, against
    0.2 ms down the path's index)."""
    qs = qs.all()
    where = qs.query.where
    where.children = [child for child in where.children if not _is_rowwise(child)]
    return qs


def filters_hold_a_path(qs, branches) -> bool:
    """Whether one of `qs`'s own conditions is a path of its scope (`scope_branches`) itself: a
    rep's tickets filtered `mine` (`owner_id = 7`) beside a scope of owner, handler or customer's
    owner. Every row the filter keeps is then in the scope, and the page needs no scope at all
    (`without_rowwise_scope`): read per path, the handler's and the customer owner's branches each
    walked the rep's rows again for nothing (PostgreSQL, a rep's 7,000 of 1.5M tickets: 22 ms)."""
    model = qs.model
    held = set()

    def collect(node):
        if getattr(node, "negated", False):
            return
        if getattr(node, "connector", None) == AND and hasattr(node, "children"):
            for child in node.children:
                collect(child)
        elif isinstance(node, Exact) and isinstance(getattr(node.lhs, "target", None), ModelField) \
                and isinstance(node.rhs, int) and not isinstance(node.rhs, bool) and node.lhs.alias == model._meta.db_table:
            held.add((node.lhs.target.column, node.rhs))

    collect(qs.query.where)
    for branch, _in_index in branches:
        if branch.negated or len(branch.children) != 1 or not isinstance(branch.children[0], tuple):
            continue
        name, value = branch.children[0]
        if "__" in name or isinstance(value, bool) or not isinstance(value, int):
            continue  # the public pool's `owner_id__isnull`
        if (model._meta.get_field(name).column, value) in held:
            return True
    return False


def _is_rowwise(node) -> bool:
    return getattr(node, "connector", None) == "OR" and any(
        isinstance(getattr(child, "lhs", None), RowwiseOwner) for child in node.children)


class PageOwner(Func):
    """The owner column of a data scope that includes the public pool (`owner IN (…) OR owner IS
    NULL`). It compiles to the column itself except on SQLite in a page query (ORDER BY … LIMIT)
    without a substring match. There SQLite (with or without ANALYZE figures) planned the OR as a
    MULTI-INDEX OR over the owner index and sorted every row of the scope and of the pool, 10 % of
    the table (a rep's customers by -id: 297 ms, a supervisor's contacts: 546 ms, follow-ups 922 ms
    at 1M). Rows of the pool lie in every order at least as densely as the pool's share, so the page
    walks the order's index instead and checks the scope per row (2-15 ms):

    - the list's own column is written `+owner_id`: the same value, but a term SQLite does not
      consider for an index (https://sqlite.org/optoverview.html#disqualifying_where_clause_terms_using_unary_);
    - a column through a relation (a contact's or follow-up's customer) is read by a correlated
      `(SELECT owner_id FROM customer WHERE id = customer_id)`: a condition on the joined table
      itself made SQLite build a Bloom filter over every customer first (600-800 ms).

    A substring match (`icontains`, the short search terms) keeps the owner index: a rare term would
    walk the whole table in order (a follow-up search: 0.7 s -> 21 s). Counts, totals and other
    queries are not pages and keep the owner index. PostgreSQL's SQL is unchanged. Known cost: a
    range on another indexed column than the order (follow-ups by created date, listed by occurred
    date) is read in full with each row's customer looked up: 0.5 -> 2.5 s for a rep at 1M
    (docs/benchmarks.md, "SQLite scope plans")."""

    template = "%(expressions)s"
    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        query = compiler.query
        # a query that marks itself `walk_in_order` reads a bounded range in order whatever it
        # matches (the short-term search's window of the newest rows, kehu/core/search.py)
        walk = getattr(query, "walk_in_order", False)
        if not walk and (not (query.order_by and query.high_mark is not None) or _matches_substring(query.where)):
            return self.as_sql(compiler, connection, **extra_context)
        col = self.source_expressions[0]
        join = query.alias_map.get(getattr(col, "alias", None))
        if isinstance(join, Join):
            if join.parent_alias != query.base_table or len(join.join_cols) != 1:
                return self.as_sql(compiler, connection, **extra_context)  # not a one-step relation
            ((parent_column, column),) = join.join_cols
            qn = connection.ops.quote_name
            alias = qn("kehu_scope")
            return (f"(SELECT {alias}.{qn(col.target.column)} FROM {qn(join.table_name)} {alias} "
                    f"WHERE {alias}.{qn(column)} = {compiler.quote_name_unless_alias(join.parent_alias)}"
                    f".{qn(parent_column)})"), []
        return self.as_sql(compiler, connection, template="+%(expressions)s", **extra_context)


class RowwiseOwner(PageOwner):
    """A path's column in `_rowwise`'s condition: PageOwner, recognisable by `without_rowwise_scope`."""


SUBSTRING_LOOKUPS = frozenset({"contains", "icontains", "startswith", "istartswith", "endswith", "iendswith",
                               "regex", "iregex"})


def _matches_substring(node) -> bool:
    """`node` (a WHERE tree) holds a substring match, a condition no index answers, that is not
    known to match many rows (kehu.core.search.CommonIContains: those a page meets in its order)."""
    if getattr(node, "lookup_name", None) in SUBSTRING_LOOKUPS and not getattr(node, "known_common", False):
        return True
    return any(_matches_substring(child) for child in getattr(node, "children", ()))
