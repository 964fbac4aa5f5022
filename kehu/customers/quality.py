"""Data quality 数据校验: duplicate groups across the whole customer table, records missing required or
recommended fields, invalid phones and e-mails left from before validation, and the weekly e-mail.

The scan (`run_scan`, a background job) is set-based: each kind of duplicate is one
`INSERT INTO customers_qualityissue … SELECT … WHERE key IN (SELECT key … GROUP BY key HAVING
COUNT(*) > 1)` over the columns the duplicate rules already index (the E.164 phone, LOWER(email),
the cleaned name), so the database groups a million customers without a row going through Python.
Similar names (北京华为技术有限公司 / 华为技术(北京)有限公司) are the one kind scored in Python: the
stored name keys are read once in index order and only the keys of one block (same first characters)
are compared, with rapidfuzz (`scan_similar_names`).
Invalid values: the rows whose phone is not in phonenumbers' own national pattern of the default
region (KEHU_PHONE_REGION, a regular expression the database applies) and whose e-mail is not in a
plain form are few; only those are checked in Python (phonenumbers, Django's validate_email).
Missing fields are counted per owner in one aggregate, so the page adds up the owners of a user's
data scope. Duplicate groups and invalid values are `QualityIssue` rows, read through
`Customer.objects.visible_to(user)`: a supervisor sees the groups of their department's customers.
"""

from __future__ import annotations

import datetime
import itertools
import logging
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core import phones
from kehu.core.filters import WalkOnly

from . import normalize
from .models import Contact, Customer, QualityDismissal, QualityIssue, QualityScan

log = logging.getLogger(__name__)

DUPLICATE_KINDS = (QualityIssue.Kind.DUP_PHONE, QualityIssue.Kind.DUP_EMAIL, QualityIssue.Kind.DUP_NAME,
                   QualityIssue.Kind.DUP_SIMILAR)
INVALID_KINDS = (QualityIssue.Kind.BAD_PHONE, QualityIssue.Kind.BAD_EMAIL)
STALE_MINUTES = 30  # a running scan older than this lost its worker

# what a customer should have besides its required fields: (key, label, condition for "missing")
RECOMMENDED = [
    # WalkOnly: SQLite judges `email = ''` by the e-mail index's two rows per value, reads the
    # 225,000 customers without one from it and sorts them (300 ms at 1M with a one-month filter)
    ("contact_details", gettext_lazy("Phone or e-mail"), Q(Exact(WalkOnly("phone"), "")) & Q(Exact(WalkOnly("email"), ""))),
    ("contact_person", gettext_lazy("A contact person"), None),  # NOT EXISTS a contact: built in missing_q
    ("industry", gettext_lazy("Industry"), Q(industry__isnull=True)),
    ("type", gettext_lazy("Customer type"), Q(type__isnull=True)),
    ("level", gettext_lazy("Level"), Q(level__isnull=True)),
    ("source", gettext_lazy("Source"), Q(source__isnull=True)),
    ("region", gettext_lazy("Sales region"), Q(region__isnull=True)),
    ("city", gettext_lazy("City"), Q(city="")),
]


def required_custom_fields() -> list:
    from kehu.core.customfields import fields_for

    return [cf for cf in fields_for(Customer._meta.label_lower) if cf.required]


def missing_fields() -> list[tuple[str, str, bool]]:
    """(key, label, required) of every field the page counts: the required custom fields, then the
    recommended fields."""
    out = [(cf.key, cf.display_label, True) for cf in required_custom_fields()]
    return out + [(key, str(label), False) for key, label, _q in RECOMMENDED]


def missing_q(key: str) -> Q | None:
    """The condition "customer lacks `key`" (the list's `missing` filter and the scan's counts)."""
    if key.startswith("cf_"):
        cf = next((cf for cf in required_custom_fields() if cf.key == key), None)
        if cf is None:
            return None
        name = cf.name
        return ~Q(custom_fields__has_key=name) | Q(**{f"custom_fields__{name}": ""}) | Q(
            **{f"custom_fields__{name}__isnull": True})
    if key == "contact_person":
        return ~Exists(Contact.objects.filter(customer_id=OuterRef("pk")))
    return next((q for k, _label, q in RECOMMENDED if k == key), None)


# --- the scan --------------------------------------------------------------------------------------

def _insert_duplicates(cursor, scan_id: int, kind: str, key_sql: str, field: str) -> None:
    c, i = Customer._meta.db_table, QualityIssue._meta.db_table
    alive = "deleted_at IS NULL"
    cursor.execute(
        f"INSERT INTO {i} (scan_id, kind, {connection.ops.quote_name('key')}, customer_id, contact_id, field) "
        f"SELECT %s, %s, {key_sql}, id, NULL, %s FROM {c} "
        f"WHERE {alive} AND {key_sql} IN (SELECT {key_sql} FROM {c} WHERE {alive} AND {field} <> '' "
        f"GROUP BY {key_sql} HAVING COUNT(*) > 1)",
        [scan_id, kind, field])


def scan_duplicates(scan: QualityScan) -> dict:
    """The duplicate groups of the whole table: the exact keys written by the database itself, the
    similar names scored within blocks of name keys (scan_similar_names)."""
    with connection.cursor() as cursor:
        _insert_duplicates(cursor, scan.pk, QualityIssue.Kind.DUP_PHONE, "phone", "phone")
        _insert_duplicates(cursor, scan.pk, QualityIssue.Kind.DUP_EMAIL, "LOWER(email)", "email")
        _insert_duplicates(cursor, scan.pk, QualityIssue.Kind.DUP_NAME, "name", "name")
    scan_similar_names(scan)
    rows = QualityIssue.objects.filter(scan=scan, kind__in=DUPLICATE_KINDS).values("kind").annotate(
        rows=Count("id"), groups=Count("key", distinct=True))
    by_kind = {r["kind"]: r for r in rows}
    return {"groups": {k: by_kind.get(k, {}).get("groups", 0) for k in DUPLICATE_KINDS},
            "in_groups": {k: by_kind.get(k, {}).get("rows", 0) for k in DUPLICATE_KINDS}}


# --- similar names ------------------------------------------------------------------------------
# Names are compared by their keys (Customer.name_key, normalize.name_key: the name without legal
# form, its place moved behind), which save() fills once per customer and cust_name_key_idx keeps in
# order. The scan walks that index once; keys sharing their first BLOCK_PREFIX characters form a
# block, split by place, and only the keys of one block and place are scored against each other
# (rapidfuzz's ratio, the create-time rule's SIMILAR_NAME_SCORE). A block of more than BLOCK_LIMIT
# distinct keys is cut by one character more, so no block costs more than BLOCK_LIMIT² / 2
# comparisons whatever the table's size. A group is a key and the keys whose similarity to it is at
# or over the threshold (normalize.similarity: also the same numbers and, for Latin names, word by
# word), never a chain of pairs; one key shared by differently written names is a group too
# (北京华为技术有限公司 and 华为技术(北京)有限公司 have the key 华为技术|北京). A group whose customers
# all have the same name is the same-name kind's and is not repeated.
# What blocking misses: two keys that differ in their first two characters. The create-time check
# (services.similar_name_candidates) reads the same block around the new key, and also the names
# that hold the core's first four characters when those are rare.

BLOCK_PREFIX = 2
BLOCK_LIMIT = 2000


def _components(keys: list[str], threshold: float) -> list[list[int]]:
    """The groups of `keys` (indices, in key order; keys of one place) within one block: each unassigned
    key in turn takes the unassigned keys whose similarity to it (normalize.similarity) is `threshold`
    or more. Every member is similar to its group's first key: similarity is not transitive, and
    linking chains of pairs made groups of dozens of unrelated names."""
    from rapidfuzz import fuzz, process

    cores = [k.partition(normalize.KEY_PLACE)[0] for k in keys]
    taken = [False] * len(keys)
    groups = []
    for i in range(len(keys) - 1):
        if taken[i]:
            continue
        members = [i]
        # the ratio of the cores in C first; the finer rules only for what passes it
        for _choice, _score, j in process.extract(cores[i], cores[i + 1:], scorer=fuzz.ratio, score_cutoff=threshold,
                                                   limit=None):
            j += i + 1
            if not taken[j] and normalize.similarity(keys[i], keys[j]) >= threshold:
                taken[j] = True
                members.append(j)
        if len(members) > 1:
            taken[i] = True
            groups.append(sorted(members))
    return groups


def _similar_in_block(block: dict[str, list[int]], threshold: float, prefix: int):
    """(group key, customer ids, one key only) of a block ({key: [customer id]}); a block over BLOCK_LIMIT
    keys is cut by its keys' next character."""
    if len(block) > BLOCK_LIMIT and prefix < 200:
        parts: dict[str, dict[str, list[int]]] = {}
        for key, ids in block.items():
            parts.setdefault(key[:prefix + 1], {})[key] = ids
        if len(parts) > 1:
            for part in parts.values():
                yield from _similar_in_block(part, threshold, prefix + 1)
            return
    by_place: dict[str, list[str]] = {}  # only keys of one place can be similar
    for key in block:
        by_place.setdefault(key.partition(normalize.KEY_PLACE)[2], []).append(key)
    for keys in by_place.values():
        linked = set()
        if len(keys) > 1:
            for members in _components(keys, threshold):
                linked.update(members)
                yield keys[members[0]], [pk for i in members for pk in block[keys[i]]], False
        for i, key in enumerate(keys):
            if i not in linked and len(block[key]) > 1:
                yield key, block[key], True


def scan_similar_names(scan: QualityScan, threshold: float | None = None) -> None:
    """The similar-name groups (QualityIssue.Kind.DUP_SIMILAR) of the whole table, by blocks of name keys."""
    from .services import SIMILAR_NAME_SCORE

    threshold = SIMILAR_NAME_SCORE if threshold is None else threshold
    rows = (Customer.objects.exclude(name_key="").order_by("name_key")
            .values_list("name_key", "id").iterator(chunk_size=20000))
    found: list[tuple[str, list[int]]] = []  # (group key, customer ids)
    one_key: list[tuple[str, list[int]]] = []  # a key shared by several customers: a group if their names differ
    block: dict[str, list[int]] = {}
    block_of = None

    def close():
        for key, ids, single in _similar_in_block(block, threshold, BLOCK_PREFIX):
            (one_key if single else found).append((key, ids))

    for key, pk in rows:
        head = key[:BLOCK_PREFIX]
        if head != block_of:
            close()
            block, block_of = {}, head
        block.setdefault(key, []).append(pk)
    close()
    # one key, several customers: a group only if their names are not all the same (else it is the
    # same-name kind's group); names read for these customers only
    names = _names([pk for _k, ids in one_key for pk in ids])
    found += [(key, ids) for key, ids in one_key if len({names.get(pk) for pk in ids}) > 1]
    _insert_groups(scan, QualityIssue.Kind.DUP_SIMILAR, found)


def _names(ids: list[int], batch: int = 20000) -> dict[int, str]:
    """{id: name} of these customers, a batch at a time: on PostgreSQL `id = ANY(array)`, one parameter
    (20,000 in an IN list cost PostgreSQL most of 6 s for the 470,000 of the generated million)."""
    out: dict[int, str] = {}
    table = Customer._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(ids), batch):
            part = ids[start:start + batch]
            if connection.vendor == "postgresql":
                cursor.execute(f"SELECT id, name FROM {table} WHERE id = ANY(%s)", [part])
                out.update(cursor.fetchall())
            else:
                out.update(Customer.all_objects.filter(pk__in=part).values_list("id", "name"))
    return out


def _insert_groups(scan: QualityScan, kind: str, groups: list[tuple[str, list[int]]], batch: int = 10000) -> None:
    """The issue rows of groups [(key, [customer id])], as plain rows: bulk_create's model instances cost
    20 s for the 470,000 rows of the generated million. PostgreSQL takes a batch as two arrays in one
    statement (an executemany of single-row INSERTs took 16 s there), SQLite as an executemany."""
    table, key_col = QualityIssue._meta.db_table, connection.ops.quote_name("key")
    rows = ((key, pk) for key, ids in groups for pk in ids)
    with connection.cursor() as cursor:
        while part := list(itertools.islice(rows, batch)):
            if connection.vendor == "postgresql":
                cursor.execute(f"INSERT INTO {table} (scan_id, kind, {key_col}, customer_id, field) "
                               "SELECT %s, %s, k, c, 'name' FROM unnest(%s::text[], %s::bigint[]) AS v(k, c)",
                               [scan.pk, str(kind), [k for k, _c in part], [c for _k, c in part]])
            else:
                cursor.executemany(f"INSERT INTO {table} (scan_id, kind, {key_col}, customer_id, field) "
                                   "VALUES (%s, %s, %s, %s, 'name')", [(scan.pk, str(kind), k, c) for k, c in part])


def phone_patterns(region: str | None = None) -> tuple[str, str]:
    """Regular expressions of the stored (E.164) numbers of the region that phonenumbers holds valid,
    from its own national patterns behind the country code: the mobile numbers' (short, and most
    stored numbers are mobiles), then every type's (long: the region's fixed-line areas), which
    the database only tries on what the first left. A number matching neither (another country's, or
    a value stored before validation) is checked by phonenumbers itself."""
    import phonenumbers

    region = region or settings.KEHU_PHONE_REGION
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    types = [d.national_number_pattern for d in (meta.mobile, meta.fixed_line, meta.toll_free, meta.premium_rate,
                                                 meta.shared_cost, meta.personal_number, meta.voip, meta.uan)
             if d is not None and d.national_number_pattern]

    def anchored(parts):
        return rf"^\+{meta.country_code}(?:{'|'.join(f'(?:{p})' for p in parts)})$"

    return anchored(types[:1]), anchored(types)


def phone_pattern(region: str | None = None) -> str:
    return phone_patterns(region)[1]


# a plain address that Django's validate_email accepts (the database's regular expression is kept
# simple: a nested one took 4x as long on PostgreSQL); up to PLAIN_EMAIL_LENGTH characters, so
# that no domain label can be over 63 (which validate_email refuses): longer ones are checked by it
EMAIL_PATTERN = r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9]+([.-][A-Za-z0-9]+)*\.[A-Za-z]{2,63}$"
PLAIN_EMAIL_LENGTH = 66


def _valid_phone(value: str) -> bool:
    try:
        return phones.normalize_phone(value) == value
    except ValidationError:
        return False


def _valid_email(value: str) -> bool:
    try:
        normalize.normalize_email(value)
    except ValidationError:
        return False
    return True


def scan_invalid(scan: QualityScan, batch: int = 5000) -> dict:
    """Phones and e-mails of customers and contacts that the forms would refuse now."""
    mobile, every_type = phone_patterns()
    found = {QualityIssue.Kind.BAD_PHONE: 0, QualityIssue.Kind.BAD_EMAIL: 0}
    issues: list[QualityIssue] = []

    def add(kind, value, customer_id, contact_id, field):
        issues.append(QualityIssue(scan=scan, kind=kind, key=value[:320], customer_id=customer_id,
                                   contact_id=contact_id, field=field))
        found[kind] += 1
        if len(issues) >= batch:
            QualityIssue.objects.bulk_create(issues)
            issues.clear()

    sources = [(Customer.objects, "phone", "id", None), (Contact.objects, "mobile", "customer_id", "id"),
               (Contact.objects, "phone", "customer_id", "id")]
    for manager, field, customer_col, contact_col in sources:
        rows = manager.exclude(**{field: ""}).exclude(**{f"{field}__regex": mobile}).exclude(
            **{f"{field}__regex": every_type})
        for row in rows.values_list(field, customer_col, contact_col or "id").iterator(chunk_size=2000):
            if not _valid_phone(row[0]):
                add(QualityIssue.Kind.BAD_PHONE, row[0], row[1], row[2] if contact_col else None, field)
    for manager, customer_col, contact_col in ((Customer.objects, "id", None), (Contact.objects, "customer_id", "id")):
        rows = manager.alias(length=Length("email")).exclude(email="").exclude(
            length__lte=PLAIN_EMAIL_LENGTH, email__regex=EMAIL_PATTERN)
        for row in rows.values_list("email", customer_col, contact_col or "id").iterator(chunk_size=2000):
            if not _valid_email(row[0]):
                add(QualityIssue.Kind.BAD_EMAIL, row[0], row[1], row[2] if contact_col else None, "email")
    QualityIssue.objects.bulk_create(issues)
    return {"invalid": {str(k): v for k, v in found.items()}}


def scan_missing() -> dict:
    """Customers missing each field, per owner ("pool": the public pool), in one aggregate."""
    measures = {}
    for key, _label, _required in missing_fields():
        q = missing_q(key)
        if q is None:
            continue
        if key == "contact_person":  # an aggregate cannot filter on a subquery everywhere: annotate it
            continue
        measures[key] = Count("id", filter=q)
    qs = Customer.objects.order_by().values("owner_id")
    rows = qs.annotate(customers=Count("id"), **measures)
    without_contact = dict(Customer.objects.order_by().filter(missing_q("contact_person")).values("owner_id")
                           .annotate(n=Count("id")).values_list("owner_id", "n"))
    missing: dict[str, dict] = {}
    for row in rows:
        owner = str(row.pop("owner_id") or "pool")
        row["contact_person"] = without_contact.get(None if owner == "pool" else int(owner), 0)
        missing[owner] = row
    return {"missing": missing}


def start_scan(user=None) -> QualityScan | None:
    """Queue a scan unless one is running (None then)."""
    from . import tasks

    stale = timezone.now() - datetime.timedelta(minutes=STALE_MINUTES)
    QualityScan.objects.filter(status=QualityScan.Status.RUNNING, started_at__lt=stale).update(
        status=QualityScan.Status.FAILED, error="The scan's worker stopped.", finished_at=timezone.now())
    if QualityScan.objects.filter(status=QualityScan.Status.RUNNING).exists():
        return None
    scan = QualityScan.objects.create(requested_by=user)
    transaction.on_commit(lambda: tasks.quality_scan.enqueue(scan.pk))
    return scan


def run_scan(scan: QualityScan | None = None) -> QualityScan:
    """Scan the whole customer table; on success the issues of older scans are removed."""
    scan = scan or QualityScan.objects.create()
    seconds = {}
    counts = {"customers": Customer.objects.count()}
    try:
        for part, fn in (("duplicates", lambda: scan_duplicates(scan)), ("invalid", lambda: scan_invalid(scan)),
                         ("missing", scan_missing)):
            started = time.monotonic()
            with transaction.atomic():
                counts.update(fn())
            seconds[part] = round(time.monotonic() - started, 2)
    except Exception as exc:
        log.exception("data-quality scan %s failed", scan.pk)
        QualityIssue.objects.filter(scan=scan).delete()
        QualityScan.objects.filter(pk=scan.pk).update(status=QualityScan.Status.FAILED, error=str(exc)[:2000],
                                                      finished_at=timezone.now())
        scan.refresh_from_db()
        return scan
    counts["seconds"] = seconds
    counts["dismissed"] = apply_dismissals(scan)
    scan.counts, scan.status, scan.finished_at = counts, QualityScan.Status.DONE, timezone.now()
    scan.save(update_fields=["counts", "status", "finished_at"])
    QualityIssue.objects.filter(scan_id__lt=scan.pk).delete()
    return scan


def last_scan() -> QualityScan | None:
    return QualityScan.objects.filter(status=QualityScan.Status.DONE).order_by("-id").first()


# --- what a user sees --------------------------------------------------------------------------

def visible_issues(scan: QualityScan, user):
    """The scan's issues of customers the user sees now (alive: a merged customer drops out)."""
    # EXISTS per issue row (an index probe of the customer): `customer_id IN (the visible customers)`
    # made SQLite build the whole scope first (0.6 s for an administrator's counts at 100k customers)
    seen = Customer.objects.visible_to(user).filter(pk=OuterRef("customer_id"))
    return QualityIssue.objects.filter(Exists(seen), scan=scan)


def group_keys(scan: QualityScan, user, kind: str):
    """The keys of `kind`'s groups with at least two customers the user sees, largest first."""
    return (visible_issues(scan, user).filter(kind=kind).values("key").annotate(n=Count("customer_id", distinct=True))
            .filter(n__gte=2).order_by("-n", "key"))


def groups(scan: QualityScan, user, kind: str, *, offset: int = 0, limit: int = 20) -> list[dict]:
    """A page of duplicate groups: [{"key", "customers": [Customer, ...]}], oldest customer first."""
    keys = [row["key"] for row in group_keys(scan, user, kind)[offset:offset + limit]]
    members: dict[str, list[int]] = {k: [] for k in keys}
    for key, pk in visible_issues(scan, user).filter(kind=kind, key__in=keys).values_list("key", "customer_id"):
        members[key].append(pk)
    customers = Customer.objects.select_related("owner").in_bulk({pk for ids in members.values() for pk in ids})
    contacts = dict(Contact.objects.filter(customer_id__in=customers).order_by().values("customer_id")
                    .annotate(n=Count("id")).values_list("customer_id", "n"))
    out = []
    for key in keys:
        rows = sorted((customers[pk] for pk in set(members[key]) if pk in customers), key=lambda c: c.pk)
        for c in rows:
            c.contact_count = contacts.get(c.pk, 0)
        if len(rows) >= 2:
            label = key
            if kind == QualityIssue.Kind.DUP_PHONE:
                label = phones.display_phone(key)
            elif kind == QualityIssue.Kind.DUP_SIMILAR:
                label = normalize.key_label(key)
            out.append({"key": key, "label": label, "customers": rows})
    return out


def summary(scan: QualityScan | None, user) -> dict:
    """The counts a user is shown (their data scope): groups and customers per duplicate kind,
    invalid values per kind, and customers missing each field."""
    if scan is None:
        return {}
    dup = {}
    for kind in DUPLICATE_KINDS:
        sizes = list(group_keys(scan, user, kind).values_list("n", flat=True))
        dup[kind] = {"groups": len(sizes), "customers": sum(sizes)}
    invalid = dict(visible_issues(scan, user).filter(kind__in=INVALID_KINDS).values("kind")
                   .annotate(n=Count("id")).values_list("kind", "n"))
    missing = {key: 0 for key, _label, _req in missing_fields()}
    customers = 0
    owners = _owners_in_scope(user)
    for owner, row in (scan.counts.get("missing") or {}).items():
        if owners is not None and owner not in owners:
            continue
        customers += row.get("customers", 0)
        for key in missing:
            missing[key] += row.get(key, 0)
    return {"duplicates": dup, "invalid": {k: invalid.get(k, 0) for k in INVALID_KINDS},
            "missing": missing, "customers": customers}


def _owners_in_scope(user) -> set[str] | None:
    """The owners (as the scan keys them) whose customers the user sees; None: all."""
    from kehu.accounts.models import DataScope

    access = user.access
    if access.scope == DataScope.ALL:
        return None
    return {str(pk) for pk in access.scope_user_ids()} | {"pool"}


def invalid_rows(scan: QualityScan, user, kind: str, limit: int = 50) -> list[QualityIssue]:
    return list(visible_issues(scan, user).filter(kind=kind).select_related("customer", "contact")
                .order_by("customer_id", "id")[:limit])


def dismiss_group(scan: QualityScan, kind: str, key: str, customers: list[Customer], user) -> QualityDismissal | None:
    """"Not duplicates": the group of `kind` and `key` among `customers` (those the user sees of it)
    leaves the page now, and later scans while no other customer joins it (apply_dismissals)."""
    ids = sorted(set(visible_issues(scan, user).filter(kind=kind, key=key, customer__in=customers)
                     .values_list("customer_id", flat=True)))
    if kind not in DUPLICATE_KINDS or len(ids) < 2:
        return None
    with transaction.atomic():
        dismissal = QualityDismissal.objects.create(kind=kind, key=key, customers=ids, dismissed_by=user)
        QualityIssue.objects.filter(scan=scan, kind=kind, key=key, customer_id__in=ids).delete()
    return dismissal


def apply_dismissals(scan: QualityScan) -> int:
    """Leave out of a scan the groups dismissed before whose customers are all among the dismissed
    ones (a merged or deleted one may be gone); a group with another customer stays, also one the
    dismissing user did not see (a supervisor dismisses what they see of a group). One query per
    dismissal of a kind and key the scan found (dismissals are few: one per click)."""
    left_out = 0
    found = set(QualityIssue.objects.filter(scan=scan, kind__in=DUPLICATE_KINDS).values_list("kind", "key").distinct()
                .filter(key__in=QualityDismissal.objects.values("key")))
    for dismissal in QualityDismissal.objects.filter(key__in={k for _kind, k in found}).order_by("id"):
        if (dismissal.kind, dismissal.key) not in found:
            continue
        rows = QualityIssue.objects.filter(scan=scan, kind=dismissal.kind, key=dismissal.key)
        members = set(rows.values_list("customer_id", flat=True))
        if members and members <= set(dismissal.customers):
            rows.delete()
            left_out += 1
    return left_out


def merge_group(keep: Customer, others: list[Customer], user) -> int:
    """Merge the others of a duplicate group into `keep` (customers.services.merge_customers)."""
    from .services import merge_customers

    merged = 0
    with transaction.atomic():
        for other in others:
            if other.pk == keep.pk:
                continue
            merge_customers(keep, other, user)
            keep.refresh_from_db()
            merged += 1
    return merged


# --- the weekly e-mail ------------------------------------------------------------------------

def recipients():
    """Active users with an e-mail who may see the data-quality page."""
    from kehu.accounts.models import User

    return [u for u in User.objects.filter(is_active=True).exclude(email="").prefetch_related("roles")
            if u.has_right("quality", "view")]


def weekly_due(now) -> bool:
    """The weekly mail goes on KEHU_QUALITY_MAIL_WEEKDAY (0 = Monday), or on any day once the last one
    is more than a week old (a worker that was down that day)."""
    last = QualityScan.objects.filter(mailed_at__isnull=False).order_by("-mailed_at").values_list(
        "mailed_at", flat=True).first()
    if last is not None and timezone.localdate(last) > timezone.localdate(now) - datetime.timedelta(days=7):
        return False
    weekday = int(getattr(settings, "KEHU_QUALITY_MAIL_WEEKDAY", 0))
    late = last is not None and (now - last) > datetime.timedelta(days=8)
    return timezone.localtime(now).weekday() == weekday or late or last is None


def mail_text(scan: QualityScan, user) -> tuple[str, str]:
    """The subject and body of one user's weekly mail, in their language."""
    from django.urls import reverse

    s = summary(scan, user)
    labels = dict(QualityIssue.Kind.choices)
    lines = [_("Data quality of the customers you see, as of %(time)s:") % {
        "time": timezone.localtime(scan.finished_at).strftime("%Y-%m-%d %H:%M")}, ""]
    lines.append(_("Possible duplicates"))
    for kind in DUPLICATE_KINDS:
        d = s["duplicates"][kind]
        lines.append("  " + _("%(kind)s — groups: %(groups)s, customers: %(customers)s") % {
            "kind": labels[kind], "groups": d["groups"], "customers": d["customers"]})
    lines += ["", _("Invalid values")]
    for kind in INVALID_KINDS:
        lines.append(f"  {labels[kind]}: {s['invalid'][kind]}")
    lines += ["", _("Customers missing a field (of %(n)s)") % {"n": s["customers"]}]
    for key, label, required in missing_fields():
        suffix = " *" if required else ""
        lines.append(f"  {label}{suffix}: {s['missing'][key]}")
    lines += ["", settings.KEHU_BASE_URL.rstrip("/") + reverse("customers:quality")]
    total = sum(d["groups"] for d in s["duplicates"].values()) + sum(s["invalid"].values())
    subject = _("Weekly data quality: %(n)s duplicate groups and invalid values") % {"n": total}
    return subject, "\n".join(lines)


def send_weekly(scan: QualityScan, now=None) -> int:
    """The weekly counts to every administrator and supervisor (each their own scope and language)."""
    from django.utils import translation

    from kehu.core.services import send_email

    sent = 0
    for user in recipients():
        with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(user.time_zone):
            subject, body = mail_text(scan, user)
        if send_email(user.email, subject, body):
            sent += 1
    QualityScan.objects.filter(pk=scan.pk).update(mailed_at=now or timezone.now())
    return sent


def daily(now=None) -> dict:
    """The daily job: a fresh scan; on the weekly day, the e-mail of its counts."""
    now = now or timezone.now()
    scan = start_scan_now()
    if scan is None or scan.status != QualityScan.Status.DONE:
        return {"scan": "skipped" if scan is None else scan.status}
    sent = send_weekly(scan, now) if weekly_due(now) else 0
    return {"scan": scan.pk, "seconds": scan.counts.get("seconds"), "mailed": sent}


def start_scan_now() -> QualityScan | None:
    """Run a scan in this process unless one is running."""
    stale = timezone.now() - datetime.timedelta(minutes=STALE_MINUTES)
    if QualityScan.objects.filter(status=QualityScan.Status.RUNNING, started_at__gte=stale).exists():
        return None
    return run_scan()
