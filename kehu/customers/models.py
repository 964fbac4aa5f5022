from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core import phones
from kehu.core.fields import dict_fk
from kehu.core.models import KehuModel
from kehu.core.money import MoneyField
from kehu.core.numbering import Numbering

from . import normalize

ALIVE = Q(deleted_at__isnull=True)


class CarriesCustomerOwner(models.Model):
    """A record that keeps a copy of its customer's owner (`customer_owner`), so that a data scope
    through the customer's owner (`scope_paths = (…, "customer_owner")`) is a column of the record's
    own table, read from its index, instead of the customer looked up row by row (a supervisor's
    ticket queue: 200 ms at 1.5M tickets, docs/benchmarks.md). Set when the record is created or
    changes customer; moved with the customer's owner by `kehu.customers.services.owner_follows`
    (assignment, the public pool, merges, imports). Bulk writers (the bench generator) fill it."""

    customer_owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, editable=False,
                                       on_delete=models.SET_NULL, related_name="+", db_index=False,
                                       verbose_name=_("customer's owner"))

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        obj = super().from_db(db, field_names, values)
        obj._customer_at_load = obj.__dict__.get("customer_id")
        return obj

    def save(self, *args, **kwargs):
        if self._state.adding or self.customer_id != getattr(self, "_customer_at_load", None):
            self.customer_owner_id = self.customer.owner_id if self.customer_id else None
            self._customer_at_load = self.customer_id
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = set(kwargs["update_fields"]) | {"customer_owner"}
        super().save(*args, **kwargs)


CUSTOMER_DEAL_FIELDS = {"amount": "deal_amount", "products": "deal_products", "signed_on": "signed_on"}


def won_deal_errors(won: bool, amount, products, signed_on, names: dict) -> dict:
    """The won-deal rule, for a won customer and a won opportunity alike (SPEC §1, seed 003 §二): a
    won deal needs its amount, what was sold and the signing date, which is not in the future.
    `names` maps amount / products / signed_on to the caller's field names."""
    errors = {}
    if won:
        if amount is None:
            errors[names["amount"]] = _("A won deal needs its amount.")
        if not (products or "").strip():
            errors[names["products"]] = _("A won deal needs the products or services sold.")
        if not signed_on:
            errors[names["signed_on"]] = _("A won deal needs the signing date.")
    if signed_on and signed_on > timezone.localdate():
        errors[names["signed_on"]] = _("The signing date cannot be in the future.")
    return errors


# the customer's own fields in its search text (with its contacts': `build_search_text`)
SEARCH_TEXT_FIELDS = ("number", "name", "phone", "email")


class Customer(KehuModel):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        DORMANT = "dormant", _("Dormant")
        LOST = "lost", _("Lost")

    class Grade(models.TextChoices):
        A = "A", "A"
        B = "B", "B"
        C = "C", "C"

    number = models.CharField(_("customer number"), max_length=20, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    industry = dict_fk("industry", _("industry"), db_index=False)  # indexed below with the list's order
    type = dict_fk("customer_type", _("customer type"), db_index=False)  # indexed below with the list's order
    level = dict_fk("customer_level", _("level"), db_index=False)  # indexed below with the list's order
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)
    source = dict_fk("customer_source", _("source"), db_index=False)  # indexed below with the list's order
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    region = dict_fk("region", _("sales region"), db_index=False)  # indexed below with the list's order
    country = models.CharField(_("country"), max_length=60, blank=True, default="中国")
    province = models.CharField(_("province"), max_length=60, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_revenue = MoneyField(_("annual revenue"), null=True, blank=True,
                                validators=[MinValueValidator(Decimal("0"))])
    needs = models.TextField(_("needs and pain points"), blank=True)
    first_contact_date = models.DateField(_("first contact date"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    deal_amount = MoneyField(_("deal amount"), null=True, blank=True, validators=[MinValueValidator(Decimal("0"))])
    deal_products = models.CharField(_("products or services bought"), max_length=500, blank=True)
    signed_on = models.DateField(_("signing date"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed from pool at"), null=True, blank=True, editable=False)
    pool_entered_at = models.DateTimeField(_("entered pool at"), null=True, blank=True, editable=False)
    # what the customer bought and paid, kept by kehu.orders.figures in the transaction of the order or
    # payment that changes them; `kehu recompute` rebuilds them from the orders and payments
    first_order_on = models.DateField(_("first order"), null=True, blank=True, editable=False)
    last_order_on = models.DateField(_("last order"), null=True, blank=True, editable=False)
    order_count = models.PositiveIntegerField(_("orders"), default=0, editable=False)
    revenue = MoneyField(_("lifetime revenue"), default=Decimal("0.00"), editable=False)
    gross_profit = MoneyField(_("gross profit"), default=Decimal("0.00"), editable=False)
    amount_received = MoneyField(_("amount received"), default=Decimal("0.00"), editable=False)
    receivables = MoneyField(_("outstanding receivables"), default=Decimal("0.00"), editable=False)
    last_activity_at = models.DateTimeField(
        _("last activity"), default=timezone.now, editable=False,
        help_text=_("Last follow-up, claim or transfer: the public-pool rules count idle days from here."),
    )
    pool_warned_at = models.DateTimeField(_("pool warning sent at"), null=True, blank=True, editable=False)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("merged into"),
    )
    search_text = models.TextField(editable=False, default="")
    # the name without legal form, its place moved behind (normalize.name_key): what the duplicate
    # check and the data-quality scan compare names by; filled by save()
    name_key = models.CharField(max_length=200, editable=False, default="", blank=True)

    scope_includes_unowned = True  # the public pool is visible to everyone who may view customers
    numbering = Numbering("KH")  # KH202611220001 (kehu/core/numbering.py)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["owner", "id"], name="cust_owner_id_idx", condition=ALIVE),
            models.Index(fields=["id"], name="cust_alive_id_idx", condition=ALIVE),
            # the public pool newest first: its customers are older than most (new ones get an
            # owner), and PostgreSQL walked the primary key past 17,000 owned customers to a
            # page of them (24 ms at 1M); (owner, id) cannot give id order for `owner IS NULL`
            models.Index(fields=["id"], name="cust_pool_id_idx", condition=ALIVE & Q(owner__isnull=True)),
            models.Index(fields=["name", "id"], name="cust_name_idx", condition=ALIVE),
            models.Index(fields=["updated_at", "id"], name="cust_updated_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="cust_created_idx", condition=ALIVE),
            models.Index(fields=["owner", "name", "id"], name="cust_owner_name_idx", condition=ALIVE),
            models.Index(fields=["owner", "updated_at", "id"], name="cust_owner_updated_idx", condition=ALIVE),
            models.Index(fields=["owner", "created_at", "id"], name="cust_owner_created_idx", condition=ALIVE),
            # a rep's pool warnings, "not followed up for N days" and the sort by last activity
            models.Index(fields=["owner", "last_activity_at", "id"], name="cust_owner_activity_idx", condition=ALIVE),
            # the "missing phone or e-mail" filter (quality.RECOMMENDED) with the scope's owner and a
            # created-date range: PostgreSQL otherwise ANDed the month with a bitmap of the 200,000
            # customers without a phone, read from cust_phone_idx (a rep at 1M: 19 ms; with this: 2.6)
            models.Index(fields=["owner", "created_at", "id"], name="cust_missing_contact_idx",
                         condition=ALIVE & Q(phone="", email="")),
            models.Index(fields=["phone"], name="cust_phone_idx"),
            models.Index(fields=["email"], name="cust_email_idx"),
            # the duplicate check matches e-mail case-insensitively through this (services.find_duplicates)
            models.Index(Lower("email"), name="cust_email_lower_idx", condition=ALIVE),
            models.Index(fields=["deleted_at"], name="cust_deleted_idx", condition=Q(deleted_at__isnull=False)),
            models.Index(fields=["owner", "claimed_at"], name="cust_claims_idx"),
            models.Index(fields=["last_activity_at", "id"], name="cust_activity_idx", condition=ALIVE),
            # the province and city filters in the list's order: a rep's 青岛 customers were found by
            # walking every customer newest first (36,000 rows skipped at 1M, 17-24 ms)
            models.Index(fields=["province", "id"], name="cust_province_idx", condition=ALIVE),
            models.Index(fields=["city", "id"], name="cust_city_idx", condition=ALIVE),
            # the same with a created-date range (the range is read in its own order: walk_sort): SQLite
            # walked the month's customers of every place testing the province (a rep's 陕西 in one month
            # of 2024 at 1M: 14 ms of SQL, 27 ms a request)
            models.Index(fields=["province", "created_at", "id"], name="cust_province_created_idx", condition=ALIVE),
            models.Index(fields=["city", "created_at", "id"], name="cust_city_created_idx", condition=ALIVE),
            # and for the dictionary filters whose values each hold a few percent of the customers: with a
            # month, PostgreSQL intersected the month's rows with every customer of the industry (an
            # 81,000-entry bitmap, 18 ms for a rep at 1M) instead of testing the month's 3,000
            models.Index(fields=["industry", "created_at", "id"], name="cust_industry_created_idx", condition=ALIVE),
            models.Index(fields=["region", "created_at", "id"], name="cust_region_created_idx", condition=ALIVE),
            # the data-quality scan walks the names in the order of their keys (similar names: quality.py)
            models.Index(fields=["name_key", "id"], name="cust_name_key_idx", condition=ALIVE),
            # the list's categorical filters in the list's order, the scope's owner beside the key
            # (PostgreSQL INCLUDE): a page of one type newest first is read from its index alone.
            # The primary-key walk the planner chose instead tested 17,000-19,000 rows for a page at 1M
            # (the newest customers are rarely of an old type; docs/benchmarks.md, stop 45). The
            # dictionary keys' indexes are not partial: they also answer a dictionary value's PROTECT
            # check, which counts deleted customers too (deleted_at beside the key for the list).
            *[models.Index(fields=[name, "id"], name=f"cust_{name}_id_idx", include=["owner", "deleted_at"])
              for name in ("type", "level", "industry", "source", "region")],
            *[models.Index(fields=[name, "id"], name=f"cust_{name}_id_idx", condition=ALIVE, include=["owner"])
              for name in ("status", "grade")],
        ]

    def __str__(self):
        return self.name

    def clean(self):
        self.name = normalize.clean_name(self.name)
        errors = {}
        if not self.name:
            errors["name"] = _("Enter the customer's name.")
        try:
            self.phone = phones.normalize_phone(self.phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages
        if self.email:
            try:
                self.email = normalize.normalize_email(self.email)
            except ValidationError:
                errors["email"] = _("Enter a valid e-mail address.")
        errors.update(won_deal_errors(self.type_id and self.type and self.type.code == "won", self.deal_amount,
                                      self.deal_products, self.signed_on, CUSTOMER_DEAL_FIELDS))
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        self.fill_number()  # first: the search text holds the number
        locked = self.locked_row()
        # built again unless the row was read under its lock and none of its own words changed (a
        # contact's save rebuilds it: Contact.save -> refresh_search_text)
        if locked is None or any(locked[f] != getattr(self, f) for f in SEARCH_TEXT_FIELDS) \
                or not locked["search_text"]:
            self.search_text = self.build_search_text()
        self.name_key = normalize.name_key(self.name)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {"search_text", "name_key"}
        super().save(*args, **kwargs)

    def build_search_text(self, contacts=None) -> str:
        if contacts is None:
            contacts = (
                list(self.contacts.values_list("name", "mobile", "phone", "email")) if self.pk else []
            )
        return normalize.search_text(self.number, self.name, self.phone, self.email, contacts)

    def refresh_search_text(self):
        text = self.build_search_text()
        Customer.all_objects.filter(pk=self.pk).update(search_text=text)
        self.search_text = text

    @property
    def in_pool(self):
        return self.owner_id is None

    @property
    def phone_display(self):
        return phones.display_phone(self.phone)


class Contact(KehuModel):
    class Gender(models.TextChoices):
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")
        UNKNOWN = "", _("Not given")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=100)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    title = models.CharField(_("title / position"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=32, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=60, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    # name, pinyin, Chinese bigrams and characters, phone digits, e-mail, WeChat: searched like the
    # customer's (FTS5 on SQLite, trigram GIN on PostgreSQL; migration 0008)
    search_text = models.TextField(editable=False, default="")

    # a contact is visible with its customer: its own `owner` is always its customer's (set in
    # `save`, moved by `services.owner_follows` with every owner change), so the scope reads the
    # contact's column and its indexes instead of joining every contact to its customer (a rep's
    # contacts filtered by another owner: 400 ms at 2M contacts on PostgreSQL, 35 ms on SQLite)
    scope_owner_field = "owner"
    scope_includes_unowned = True
    scope_decided_by = "customer"  # the form field a user changes to move it (kehu.core.assignment.scope_field)

    @staticmethod
    def numbers_q(numbers) -> Q:
        """Contacts whose mobile or phone is one of `numbers` (normalised), in the form the partial
        indexes contact_mobile_idx and contact_phone_idx answer (their condition repeated)."""
        numbers = [n for n in numbers if n]
        return ((Q(mobile__in=numbers) & ~Q(mobile="")) | (Q(phone__in=numbers) & ~Q(phone=""))) if numbers \
            else Q(pk__in=[])

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["customer", "id"], name="contact_customer_idx", condition=ALIVE),
            models.Index(fields=["owner", "id"], name="contact_owner_id_idx", condition=ALIVE),
            models.Index(fields=["owner", "name", "id"], name="contact_owner_name_idx", condition=ALIVE),
            models.Index(fields=["owner", "created_at", "id"], name="contact_owner_created_idx", condition=ALIVE),
            models.Index(fields=["id"], name="contact_alive_id_idx", condition=ALIVE),
            models.Index(fields=["name", "id"], name="contact_name_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="contact_created_idx", condition=ALIVE),
            # only the numbers given: most contacts have no landline, and an index whose figures say
            # "100,000 rows per value" (the empty one) made SQLite scan every contact for a phone
            # (the duplicate check: 26 ms at 100k contacts, ~1 s at 2M). Queries repeat the
            # condition (Contact.has_phone / has_mobile) so the partial index applies
            models.Index(fields=["mobile"], name="contact_mobile_idx", condition=~Q(mobile="")),
            models.Index(fields=["email"], name="contact_email_idx"),
            models.Index(fields=["phone"], name="contact_phone_idx", condition=~Q(phone="")),
            models.Index(Lower("email"), name="contact_email_lower_idx", condition=ALIVE),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        self.name = normalize.clean_name(self.name)
        errors = {}
        if not self.name:
            errors["name"] = _("Enter the contact's name.")
        for field in ("mobile", "phone"):
            try:
                setattr(self, field, phones.normalize_phone(getattr(self, field)))
            except ValidationError as exc:
                errors[field] = exc.messages
        if self.email:
            try:
                self.email = normalize.normalize_email(self.email)
            except ValidationError:
                errors["email"] = _("Enter a valid e-mail address.")
        if self.birthday and self.birthday > timezone.localdate():
            errors["birthday"] = _("The birthday cannot be in the future.")
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        if self.customer_id:  # a contact belongs to whoever owns its customer
            self.owner_id = self.customer.owner_id
        self.search_text = self.build_search_text()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {"search_text"}
        super().save(*args, **kwargs)
        if self.is_primary:
            Contact.objects.filter(customer_id=self.customer_id, is_primary=True).exclude(pk=self.pk).update(
                is_primary=False
            )
        self.customer.refresh_search_text()

    def build_search_text(self) -> str:
        """The contact's searchable column (save and bulk imports both fill it from here)."""
        return normalize.contact_search_text(self.name, self.mobile, self.phone, self.email, self.wechat)

    @property
    def mobile_display(self):
        return phones.display_phone(self.mobile)

    @property
    def phone_display(self):
        return phones.display_phone(self.phone)


class QualityScan(models.Model):
    """One run of the data-quality scan (kehu/customers/quality.py): its whole-table counts, and the
    problems it found as `QualityIssue` rows (kept for the last finished scan only)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Finished")
        FAILED = "failed", _("Failed")

    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("requested by"))
    # whole-table figures: {"customers": n, "groups": {kind: n}, "in_groups": {kind: n}, "invalid": {kind: n},
    # "missing": {owner id or "pool": {field: n}}, "seconds": {part: s}}
    counts = models.JSONField(default=dict)
    mailed_at = models.DateTimeField(_("weekly e-mail sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("data-quality scan")
        verbose_name_plural = _("data-quality scans")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.status}"


class QualityIssue(models.Model):
    """A customer (or one of its contacts) in a duplicate group or with an invalid value, as one scan
    found it. A duplicate group is the rows of one scan with the same kind and key."""

    class Kind(models.TextChoices):
        DUP_PHONE = "dup_phone", _("Same phone")
        DUP_EMAIL = "dup_email", _("Same e-mail")
        DUP_NAME = "dup_name", _("Same name")
        DUP_SIMILAR = "dup_similar", _("Similar name")
        BAD_PHONE = "bad_phone", _("Invalid phone")
        BAD_EMAIL = "bad_email", _("Invalid e-mail")

    scan = models.ForeignKey(QualityScan, on_delete=models.CASCADE, related_name="issues")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    key = models.CharField(max_length=320)  # the shared phone / e-mail / name, or the invalid value
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                db_constraint=False)
    field = models.CharField(max_length=20, blank=True)  # the invalid value's field: phone, mobile, email

    class Meta:
        indexes = [
            models.Index(fields=["scan", "kind", "key"], name="quality_issue_group_idx"),
            models.Index(fields=["scan", "kind", "customer"], name="quality_issue_customer_idx"),
        ]

    def __str__(self):
        return f"{self.kind} {self.key}"


class QualityDismissal(models.Model):
    """A duplicate group someone said is not one ("Not duplicates"): later scans leave it out while its
    customers are the same ones or fewer; a customer joining it brings it back (quality.apply_dismissals)."""

    kind = models.CharField(max_length=12, choices=QualityIssue.Kind.choices)
    key = models.CharField(max_length=320)
    customers = models.JSONField(default=list)  # the ids of the group's customers when it was dismissed
    dismissed_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    dismissed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["kind", "key"], name="quality_dismissal_idx")]

    def __str__(self):
        return f"{self.kind} {self.key}"

