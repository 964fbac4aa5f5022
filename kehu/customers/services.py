"""Customer actions: duplicates, merge, owner transfer, the public pool. Views, API, imports
and jobs call these; no rule is written twice."""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import phones
from kehu.core.assignment import owner_changed
from kehu.core.audit import log_changes
from kehu.core.models import Attachment, TaggedItem
from kehu.core.services import notify

from . import normalize
from .models import Contact, Customer

SIMILAR_NAME_SCORE = 85


@dataclass
class Duplicate:
    customer: Customer
    reasons: list[str]
    visible: bool

    @property
    def owner_name(self) -> str | None:
        owner = self.customer.owner
        return None if owner is None else (owner.full_name or owner.username)

    def as_json(self) -> dict:
        """What the caller may know: everything for a customer in their scope; for one outside it
        only that it exists, who owns it and why it matches."""
        c = self.customer
        shown = self.visible
        return {"visible": shown, "id": c.pk if shown else None, "number": c.number if shown else None,
                "name": c.name if shown else None, "owner": self.owner_name, "reasons": [str(r) for r in self.reasons]}


def find_duplicates(*, name="", phone="", email="", exclude_pk=None, user=None, limit=10) -> list[Duplicate]:
    """Customers with the same normalised phone or e-mail, or a very similar name.

    Each kind of match reads ids only; the customers found (with their owners) are read once at the
    end: a full row with its owner, read for each kind, cost the check ~3 ms of SQL compiling."""
    reasons: dict[int, list] = {}  # customer id -> reasons, in the order found

    def add(pk, reason):
        found = reasons.setdefault(pk, [])
        if reason not in found:
            found.append(reason)

    base = Customer.objects.all()
    if exclude_pk:
        base = base.exclude(pk=exclude_pk)
    ids_of = base.values_list("pk", flat=True)
    try:
        phone = phones.normalize_phone(phone) if phone else ""
    except ValidationError:
        phone = ""
    if phone:
        for pk in ids_of.filter(phone=phone)[:limit]:
            add(pk, _("same phone"))
        ids = Contact.objects.filter(Contact.numbers_q([phone])).values("customer_id")[:limit]
        for pk in ids_of.filter(pk__in=ids):
            add(pk, _("same phone as a contact"))
    email = (email or "").strip()
    if email:
        try:
            email = normalize.normalize_email(email)
        except ValidationError:
            email = ""
    if email:
        # LOWER(email) on both sides, so the expression indexes cust_email_lower_idx and
        # contact_email_lower_idx answer it (`email__iexact` is UPPER(...) on PostgreSQL and LIKE on
        # SQLite: no index, a scan of every customer and contact, ~1 s at 1M)
        key = Lower(Value(email))
        for pk in ids_of.alias(email_key=Lower("email")).filter(email_key=key)[:limit]:
            add(pk, _("same e-mail"))
        ids = Contact.objects.alias(email_key=Lower("email")).filter(email_key=key).values("customer_id")[:limit]
        for pk in ids_of.filter(pk__in=ids):
            add(pk, _("same e-mail as a contact"))
    core = normalize.name_core(name or "")
    if len(core) >= 2:
        # names are compared by their keys (core and place: 北京华为技术有限公司 = 华为技术(北京)有限公司),
        # as the data-quality scan compares them (quality.scan_similar_names)
        key = normalize.name_key(name)
        scores = {}
        for pk, their_key, their_name in similar_name_candidates(base, key, core):
            score = normalize.similarity(key, their_key or normalize.name_key(their_name))
            if score >= SIMILAR_NAME_SCORE:
                scores[pk] = score
        for pk, score in sorted(scores.items(), key=lambda item: (-item[1], -item[0])):
            add(pk, _("similar name (%(score)d%%)") % {"score": score})
    if not reasons:
        return []
    wanted = list(reasons)[:limit]
    customers = base.select_related("owner").in_bulk(wanted)
    visible = set(Customer.objects.visible_to(user).filter(pk__in=wanted).values_list("pk", flat=True)) \
        if user is not None else set()
    return [Duplicate(customers[pk], reasons[pk], pk in visible) for pk in wanted if pk in customers]


RARE_PROBE = 200  # a name's beginning held by at most this many customers is rare (see below)
NEAR_KEYS = 50  # name keys read on each side of a new name's key (see similar_name_candidates)


def similar_name_candidates(base, key: str, core: str) -> list[tuple[int, str, str]]:
    """(id, name key, name) of the customers of `base` whose names may be similar to a name with
    this key and core.

    - The keys next to it in the name-key index (cust_name_key_idx), NEAR_KEYS on each side, that
      share its first BLOCK_PREFIX characters: the data-quality scan's block, read around the key
      (two index ranges, however common the name's beginning).
    - The customers whose text holds the core's first four characters, when the search index finds
      at most RARE_PROBE of them (a rare beginning also found after another word: 新华为技术). The
      probe stops after RARE_PROBE + 1 ids: a common beginning such as four digits ("4966", in
      ~2,000 phones at 1M) read up to 5,000 rows for nothing (18 ms warm, 110 ms cold on PostgreSQL).
    Before, only the newest 200 customers holding those four characters were read: a common
    beginning ("atla" in 8,350 of 1M customers) missed older duplicates and walked ~24,000 rows
    (26 ms on PostgreSQL; the whole check 47-76 ms, budget 20)."""
    from .forms import listed_ids, search_condition
    from .quality import BLOCK_PREFIX

    block = key[:BLOCK_PREFIX]
    rows = base.select_related(None).values_list("pk", "name_key", "name")
    after = rows.filter(name_key__gte=key).order_by("name_key", "id")[:NEAR_KEYS]
    before = rows.filter(name_key__lt=key).order_by("-name_key", "-id")[:NEAR_KEYS]
    found = {row[0]: row for row in [*after, *before] if row[1].startswith(block)}
    probe = (core[:4] if len(core) >= 4 else core).lower()
    condition = search_condition(probe, probe=RARE_PROBE + 1)
    if listed_ids(condition) is not None:  # rare: the index listed every match
        for row in rows.filter(condition).order_by("-id")[:RARE_PROBE]:
            found.setdefault(row[0], row)
    return list(found.values())


def duplicate_queries() -> dict:
    """The queries of `find_duplicates_bulk`, for an import to keep for its run: each compiled once
    per list size (kehu/core/imports/inlists.py) instead of once per batch."""
    from kehu.core.imports.inlists import InListQuery

    return {
        "customer_phone": InListQuery(lambda v: Customer.objects.filter(phone__in=v).values_list("pk", "phone")),
        "contact_phone": InListQuery(lambda v: Contact.objects.filter(Contact.numbers_q(v)).values_list(
            "customer_id", "mobile", "phone")),
        "customer_email": InListQuery(lambda v: Customer.objects.alias(email_key=Lower("email")).filter(
            email_key__in=v).values_list("pk", "email")),
        "contact_email": InListQuery(lambda v: Contact.objects.alias(email_key=Lower("email")).filter(
            email_key__in=v).values_list("customer_id", "email")),
        "customer_name": InListQuery(lambda v: Customer.objects.filter(name__in=v).values_list("pk", "name")),
    }


def find_duplicates_bulk(candidates: list[dict], user=None, queries: dict | None = None) -> list[list[Duplicate]]:
    """`find_duplicates` for a batch of customers at once (imports): for each candidate
    ({"name", "phones": [...], "emails": [...]}, already normalised by the model's clean), the
    customers with one of its phones or e-mails (their own or a contact's) or the same name, in one
    query per kind of key for the whole batch (never a query per row). The similar-name probe of
    `find_duplicates` (a trigram search and a fuzzy score per candidate) is left out here: a
    batch matches names exactly (after `normalize.clean_name`). `queries`: the run's
    `duplicate_queries()`."""
    queries = queries or duplicate_queries()
    phones_ = {p for c in candidates for p in c.get("phones", ()) if p}
    emails = {e.lower() for c in candidates for e in c.get("emails", ()) if e}
    names = {c["name"] for c in candidates if c.get("name")}
    by_key: dict[tuple, dict[int, str]] = {}

    def add(kind, value, customer_id, reason):
        by_key.setdefault((kind, value), {}).setdefault(customer_id, reason)

    if phones_:
        for pk, phone in queries["customer_phone"].rows(phones_):
            add("phone", phone, pk, _("same phone"))
        for cid, mobile, phone in queries["contact_phone"].rows(phones_):
            for p in (mobile, phone):
                if p in phones_:
                    add("phone", p, cid, _("same phone as a contact"))
    if emails:
        for pk, email in queries["customer_email"].rows(emails):
            add("email", email.lower(), pk, _("same e-mail"))
        for cid, email in queries["contact_email"].rows(emails):
            add("email", email.lower(), cid, _("same e-mail as a contact"))
    if names:
        for pk, name in queries["customer_name"].rows(names):
            add("name", name, pk, _("same name"))
    if not by_key:
        return [[] for _c in candidates]
    ids = {pk for found in by_key.values() for pk in found}
    customers = Customer.objects.select_related("owner").in_bulk(ids)
    visible = set(Customer.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True)) \
        if user is not None else set()
    out = []
    for c in candidates:
        found: dict[int, Duplicate] = {}
        keys = [("phone", p) for p in c.get("phones", ()) if p] + [("email", e.lower()) for e in c.get("emails", ()) if e]
        if c.get("name"):
            keys.append(("name", c["name"]))
        for key in keys:
            for pk, reason in by_key.get(key, {}).items():
                if pk not in customers:
                    continue
                dup = found.setdefault(pk, Duplicate(customers[pk], [], pk in visible))
                if reason not in dup.reasons:
                    dup.reasons.append(reason)
        out.append(list(found.values()))
    return out


class DuplicateCustomer(ValidationError):
    """A new customer, or a changed name, phone or e-mail, matches existing customers: the
    possible duplicates are named under `allow_duplicate` (what confirms them)."""

    def __init__(self, duplicates: list[Duplicate]):
        self.duplicates = duplicates
        super().__init__({
            "allow_duplicate": [describe_duplicate(d) for d in duplicates],
            NON_FIELD_ERRORS: [ValidationError(
                _("This customer may already exist. Check the records below, or tick “Save anyway”."),
                code="duplicate")],
        })


def describe_duplicate(dup: Duplicate) -> str:
    """A possible duplicate in words: number, name and id for a customer in the caller's scope; for
    one outside it only its owner (Duplicate.as_json)."""
    owner = dup.owner_name or _("nobody (public pool)")
    reasons = ", ".join(str(r) for r in dup.reasons)
    if dup.visible:
        return _("%(number)s %(name)s (id %(id)s, owner %(owner)s): %(reasons)s") % {
            "number": dup.customer.number, "name": dup.customer.name, "id": dup.customer.pk, "owner": owner,
            "reasons": reasons}
    return _("A customer outside your data scope, owner %(owner)s: %(reasons)s") % {
        "owner": owner, "reasons": reasons}


def identity_changed(customer: Customer) -> bool:
    """A new customer, or a name, phone or e-mail that differs from the stored one (all normalised
    by `Customer.clean`): an edit of anything else (notes, level...) never runs the duplicate check."""
    if customer.pk is None:
        return True
    locked = customer.locked_row()  # read under the row's lock in this transaction (the API's PATCH)
    if locked is not None:
        stored = locked["name"], locked["phone"], locked["email"]
    else:
        stored = Customer.all_objects.filter(pk=customer.pk).values_list("name", "phone", "email").first()
    if stored is None:
        return True
    name, phone, email = stored
    return (customer.name != name or (customer.phone or "") != (phone or "")
            or (customer.email or "").lower() != (email or "").lower())


def check_duplicates(customer: Customer, user, *, allow_duplicate: bool = False) -> None:
    """Raise DuplicateCustomer when `customer` (validated, about to be saved) may already exist,
    unless `allow_duplicate`. The UI (the "Save anyway" box), the API (`allow_duplicate: true`) and
    imports all save customers through this rule."""
    if allow_duplicate or not identity_changed(customer):
        return
    duplicates = find_duplicates(name=customer.name, phone=customer.phone, email=customer.email,
                                 exclude_pk=customer.pk, user=user)
    if duplicates:
        raise DuplicateCustomer(duplicates)


def save_customer(customer: Customer, user, *, allow_duplicate: bool = False) -> Customer:
    """Save a validated customer (`full_clean()` done) unless it may be a duplicate."""
    check_duplicates(customer, user, allow_duplicate=allow_duplicate)
    if user is not None and customer.pk is None and customer.created_by_id is None:
        customer.created_by = user
    customer.save()
    return customer


def merge_customers(keep: Customer, other: Customer, user) -> Customer:
    """Move contacts, history, attachments, tags and every related record onto `keep`. Related
    records move through the customer's relation declarations (kehu/core/relations.py): each gets a
    change-log entry naming `user` and a new version."""
    from kehu.core.registry import registry
    from kehu.core.relations import move_related

    if keep.pk == other.pk:
        raise ValidationError(_("Choose two different customers to merge."))
    with transaction.atomic():
        # every model that points at Customer (contacts, opportunities, follow-ups, tasks; orders later)
        move_related(registry.get("customer"), keep, other, user)
        owner_follows(keep)
        ct = ContentType.objects.get_for_model(Customer)
        Attachment.objects.filter(content_type=ct, object_id=other.pk).update(object_id=keep.pk)
        keep_tags = set(TaggedItem.objects.filter(content_type=ct, object_id=keep.pk).values_list("tag_id", flat=True))
        TaggedItem.objects.filter(content_type=ct, object_id=other.pk, tag_id__in=keep_tags).delete()
        TaggedItem.objects.filter(content_type=ct, object_id=other.pk).update(object_id=keep.pk)
        LogEntry.objects.filter(content_type=ct, object_id=other.pk).update(object_id=keep.pk, object_pk=str(keep.pk))
        filled = {}
        for field in Customer._meta.concrete_fields:
            if not field.editable or field.primary_key or field.name in ("owner", "custom_fields"):
                continue
            mine, theirs = getattr(keep, field.attname), getattr(other, field.attname)
            if mine in (None, "") and theirs not in (None, ""):
                setattr(keep, field.attname, theirs)
                filled[field.name] = theirs
        for key, value in (other.custom_fields or {}).items():
            keep.custom_fields.setdefault(key, value)
        keep.updated_by = user
        keep.save()
        other.merged_into = keep
        other.deleted_at = timezone.now()
        other.deleted_by = user
        other.save(update_fields=["merged_into", "deleted_at", "deleted_by"])
        keep.refresh_search_text()
        log_changes(keep, {"merged": (f"{other.number} {other.name}", f"{keep.number} {keep.name}")}, actor=user)
    return keep


def transfer_customers(customers, new_owner, user, *, notify_owner=True) -> int:
    """Give customers (and their contacts) to another account manager through core's assign
    service (right, scope, change log); the new owner gets one notification for the batch."""
    from kehu.core.assignment import assign

    if new_owner is None or not new_owner.is_active:
        raise ValidationError({"owner": _("Choose an active user to transfer to.")})
    moved = 0
    with transaction.atomic():
        for customer in customers:
            if customer.owner_id == new_owner.pk:
                continue
            assign(customer, new_owner, user, notify=False)
            moved += 1
    if moved and notify_owner and new_owner != user:
        notify(
            new_owner,
            _("%(count)d customers were transferred to you") % {"count": moved},
            _("%(user)s transferred %(count)d customers to you.") % {"user": user, "count": moved},
            url=reverse("customers:customer_list") + "?mine=true",
            email=True,
        )
    return moved


def owner_follows(customer) -> None:
    """What belongs to whoever owns the customer follows its owner (also in the recycle bin): its
    contacts' owner, and every copy of the customer's owner (`CarriesCustomerOwner`: tickets).
    Called for every owner change through `CustomerType.after_assign` (kehu.core.assignment.owner_changed:
    assign, record forms, imports, the public pool's claim, release and sweep) and by merge; a
    contact saved on its own takes its customer's owner in `Contact.save`, a copy in its own save."""
    Contact.all_objects.filter(customer_id=customer.pk).exclude(owner_id=customer.owner_id).update(
        owner_id=customer.owner_id)
    for model in customer_owner_copies():
        model._base_manager.filter(customer_id=customer.pk).exclude(customer_owner_id=customer.owner_id).update(
            customer_owner_id=customer.owner_id)


@functools.cache
def customer_owner_copies() -> tuple:
    from django.apps import apps

    from .models import CarriesCustomerOwner

    return tuple(m for m in apps.get_models() if issubclass(m, CarriesCustomerOwner))


def can_use_pool(user) -> bool:
    """The `pool` right: see the public pool's list, claim from it, return customers to it."""
    return user is not None and user.has_right("pool", "view")


def require_pool(user) -> None:
    if not can_use_pool(user):
        raise PermissionDenied(_("You do not have the right to use the public pool."))


def claims_today(user) -> int:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return Customer.objects.filter(owner=user, claimed_at__gte=start).count()


def claim(customer: Customer, user) -> Customer:
    """An account manager takes a customer from the public pool (limit per day)."""
    require_pool(user)
    if not user.has_right("customer", "edit"):
        raise PermissionDenied
    limit = settings.KEHU_POOL_CLAIM_LIMIT
    with transaction.atomic():
        if claims_today(user) >= limit:
            raise ValidationError(
                _("You have reached today's limit of %(limit)d customers claimed from the pool.") % {"limit": limit}
            )
        now = timezone.now()
        taken = Customer.objects.filter(pk=customer.pk, owner__isnull=True).update(
            owner=user, claimed_at=now, pool_entered_at=None, version=F("version") + 1, updated_by=user,
            updated_at=now, last_activity_at=now, pool_warned_at=None,
        )
        if not taken:
            raise ValidationError(_("Someone else has already claimed this customer."))
        customer.refresh_from_db()
        owner_changed(customer, None, user, notify=False)  # what follows the owner (contacts) moves
        log_changes(customer, {"owner": (None, user)}, actor=user)
    return customer


def release(customer: Customer, user, reason: str = "") -> Customer:
    """Put a customer back into the public pool."""
    require_pool(user)
    if not user.has_right("customer", "edit"):
        raise PermissionDenied
    if customer.owner_id is None:
        raise ValidationError(_("The customer is already in the public pool."))
    old_owner = customer.owner
    with transaction.atomic():
        now = timezone.now()
        customer.owner = None
        customer.pool_entered_at = now
        customer.updated_by = user
        customer.save()
        owner_changed(customer, old_owner.pk, user, notify=False)
        if reason:
            log_changes(customer, {"pool_reason": ("", reason)}, actor=user)
    if old_owner and old_owner != user:
        notify(old_owner, _("Customer %(name)s was returned to the public pool") % {"name": customer.name},
               reason, url=reverse("customers:customer_detail", args=[customer.pk]))
    return customer


# --- public-pool rules 公海规则 -------------------------------------------------------

def _with_open_opportunity():
    """`EXISTS` an open opportunity of the outer customer (they never fall back to the pool).

    A correlated `EXISTS` on the partial index `opp_open_customer_idx` (customer_id WHERE
    deleted_at IS NULL AND closed_at IS NULL): one index probe per candidate customer. The former
    `pk NOT IN (SELECT customer_id ...)` over ~750k open opportunities spilled out of work_mem on
    PostgreSQL and was rescanned per customer (45 s for the home page)."""
    from django.apps import apps
    from django.db.models import Exists, OuterRef

    if not apps.is_installed("kehu.sales"):
        return None
    try:
        Opportunity = apps.get_model("sales", "Opportunity")
    except LookupError:
        return None
    open_q = Opportunity.open_q() if hasattr(Opportunity, "open_q") else Q()
    # the manager adds deleted_at IS NULL: with closed_at IS NULL, the index's predicate
    return Exists(Opportunity.objects.filter(open_q, customer_id=OuterRef("pk")))


def idle_customers(cutoff):
    """Owned customers whose last follow-up (or claim / transfer / creation) is older than cutoff
    and that have no open opportunity (`NOT EXISTS`)."""
    qs = Customer.objects.filter(owner__isnull=False, last_activity_at__lt=cutoff)
    busy = _with_open_opportunity()
    return qs.filter(~busy) if busy is not None else qs


def pool_candidates(user, now=None):
    """The user's customers that will fall back to the pool within the warning period."""
    now = now or timezone.now()
    idle = datetime.timedelta(days=settings.KEHU_POOL_IDLE_DAYS - settings.KEHU_POOL_WARN_DAYS)
    return idle_customers(now - idle).filter(owner=user).order_by("last_activity_at", "id")


def pool_sweep(now=None) -> dict:
    """The daily job: warn owners M days ahead, then return customers idle for N days to the pool.
    Both are written to the customer's history. Safe to run more than once a day."""
    now = now or timezone.now()
    idle_days, warn_days = settings.KEHU_POOL_IDLE_DAYS, settings.KEHU_POOL_WARN_DAYS
    returned = warned = 0
    for customer in idle_customers(now - datetime.timedelta(days=idle_days)).select_related("owner").iterator():
        owner = customer.owner
        with transaction.atomic():
            Customer.objects.filter(pk=customer.pk).update(
                owner=None, pool_entered_at=now, pool_warned_at=None, version=F("version") + 1, updated_at=now)
            customer.owner_id = None
            owner_changed(customer, owner.pk, None, notify=False)
            log_changes(customer, {"owner": (owner, None),
                                   "pool_reason": ("", _("No follow-up for %(days)d days") % {"days": idle_days})})
        notify(owner, _("Customer %(name)s went back to the public pool") % {"name": customer.name},
               _("No follow-up for %(days)d days and no open opportunity.") % {"days": idle_days},
               url=reverse("customers:customer_detail", args=[customer.pk]), email=True)
        returned += 1
    warn_cutoff = now - datetime.timedelta(days=idle_days - warn_days)
    for customer in (idle_customers(warn_cutoff).filter(Q(pool_warned_at__isnull=True) |
                                                          Q(pool_warned_at__lt=F("last_activity_at")))
                     .select_related("owner").iterator()):
        due = customer.last_activity_at + datetime.timedelta(days=idle_days)
        with transaction.atomic():
            Customer.objects.filter(pk=customer.pk).update(pool_warned_at=now)
            log_changes(customer, {"pool_warning": ("", _("Returns to the pool on %(date)s unless followed up")
                                                    % {"date": timezone.localtime(due).date().isoformat()})})
        notify(customer.owner,
               _("%(name)s will go back to the public pool on %(date)s") % {
                   "name": customer.name, "date": timezone.localtime(due).date().isoformat()},
               _("Log a follow-up to keep the customer."),
               url=reverse("customers:customer_detail", args=[customer.pk]), email=True)
        warned += 1
    return {"returned": returned, "warned": warned}


def touch(customer_id, when) -> None:
    """A follow-up happened: restart the customer's idle clock (never move it backwards)."""
    Customer.all_objects.filter(pk=customer_id).filter(
        Q(last_activity_at__lt=when) | Q(last_activity_at__isnull=True)).update(last_activity_at=when)
