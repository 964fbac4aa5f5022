"""Shared models and the abstract base every business record inherits.

`KehuModel` composes the mechanics each record type gets for free: owner, created/updated
at and by, an optimistic-locking `version`, custom-field values, tags, attachments and a
soft delete (recycle bin). Visibility lives in one place: `KehuQuerySet.visible_to(user)`.
"""

from __future__ import annotations

import copy

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class StaleVersionError(Exception):
    """Raised when a record changed since the client read it (optimistic locking)."""

    def __init__(self, current_version: int | None = None):
        super().__init__("stale version")
        self.current_version = current_version


class KehuQuerySet(models.QuerySet):
    def visible_to(self, user, owned: bool = False) -> KehuQuerySet:
        """The one place where data scope is applied. Every user-visible query goes through it.
        `owned`: the caller keeps only owned records (kehu.accounts.scope.scope_filter)."""
        from kehu.accounts.scope import scope_filter

        return scope_filter(self, user, owned=owned)

    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)


class KehuManager(models.Manager.from_queryset(KehuQuerySet)):
    """Default manager: hides soft-deleted rows."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class AllObjectsManager(models.Manager.from_queryset(KehuQuerySet)):
    """Includes soft-deleted rows (recycle bin, restore, audit)."""


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    color = models.CharField(_("colour"), max_length=20, default="blue")

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name


class TaggedItem(models.Model):
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="items")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.BigIntegerField()
    content_object = GenericForeignKey("content_type", "object_id")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id", "tag"], name="core_taggeditem_unique")
        ]
        indexes = [models.Index(fields=["tag", "content_type", "object_id"], name="core_tagged_tag_idx")]


def attachment_path(instance, filename):
    now = timezone.now()
    return f"attachments/{instance.content_type_id}/{now:%Y/%m}/{filename}"


class Attachment(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.BigIntegerField()
    content_object = GenericForeignKey("content_type", "object_id")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=500)
    filename = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    mime_type = models.CharField(_("type"), max_length=120, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("uploaded by")
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="core_attach_obj_idx")]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.filename


class KehuModel(models.Model):
    """Abstract base of every business record."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owner"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("created by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("updated by"),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("deleted by"),
    )
    tagged_items = GenericRelation(TaggedItem)
    attachments = GenericRelation(Attachment)

    objects = KehuManager()
    all_objects = AllObjectsManager()

    # Data scope: which owner field decides visibility, and whether unowned rows
    # (a public pool) are visible to everyone who may view the record type.
    scope_owner_field = "owner"
    scope_includes_unowned = False
    # more than one path (kehu.accounts.scope.scope_paths): ("handler", "customer__owner")
    scope_paths: tuple[str, ...] = ()
    # the form field that moves a record in or out of a scope when the owner is derived from it
    # (a contact's owner is its customer's: "customer"); None = the scope path's own field
    scope_decided_by: str | None = None

    # Human-readable numbers: `numbering = Numbering("KH")` fills `number` on creation (kehu/core/numbering.py)
    numbering = None

    class Meta:
        abstract = True
        base_manager_name = "all_objects"
        default_manager_name = "objects"

    def fill_number(self) -> None:
        """Give a new record its number (prefix + local date + the day's sequence), once."""
        if self.numbering is not None:
            self.numbering.fill(self)

    # --- the row as read under its lock --------------------------------------
    def remember_locked_row(self) -> None:
        """Keep the values this instance was just read with, its row locked until the transaction
        ends (the API's PATCH: `visible_or_none(lock=True)`). Until it is saved in that transaction
        they are the row's values, so the change log (`audit.log_changed_fields`) and a record's own
        rules (a customer's duplicate check, its search text) compare with them instead of reading
        the row again. A deferred field leaves nothing kept: the row is read as before."""
        values = {}
        for field in self._meta.concrete_fields:
            if field.attname not in self.__dict__:
                return
            value = self.__dict__[field.attname]
            # a form may change a JSON value in place (custom fields): keep the value read
            values[field.attname] = copy.deepcopy(value) if isinstance(value, (dict, list)) else value
        self._locked_row = values

    def locked_row(self) -> dict | None:
        """{attname: value} as read under the row's lock and not saved since, else None."""
        return getattr(self, "_locked_row", None)

    # --- optimistic locking -------------------------------------------------
    def save(self, *args, **kwargs):
        if self._state.adding or self.pk is None or kwargs.get("force_insert"):
            self.fill_number()
            return super().save(*args, **kwargs)
        # The version is checked and raised in the row's one UPDATE (`_do_update`): `WHERE id = …
        # AND version = <read>`, no row updated = someone else saved first. What the save wrote
        # before it (the change-log entry) is then taken back with the caller's transaction, or
        # to the caller's own savepoint: no savepoint here (two statements of every update), so a
        # caller that goes on inside the same transaction after a StaleVersionError must hold
        # one (Django then refuses any further query: nothing half-written is committed).
        expected = self.version
        using = kwargs.get("using") or "default"
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {"version", "updated_at"}
        self.version, self._saving_over = expected + 1, expected
        try:
            with transaction.atomic(using=using, savepoint=False):
                super().save(*args, **kwargs)
        except BaseException:
            self.version = expected
            raise
        finally:
            self._saving_over = None
        self._locked_row = None  # the row is now what was saved

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        expected = getattr(self, "_saving_over", None)
        # only the table that holds the version tests it (a parent table's, were a record type to
        # inherit another's concretely; its child table is then updated plainly)
        if expected is None or not any(f.attname == "version" for f, _model, _value in values):
            return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update)
        if base_qs.filter(pk=pk_val, version=expected)._update(values) > 0:
            return True
        current = type(self)._base_manager.using(using).filter(pk=pk_val).values_list("version", flat=True)
        raise StaleVersionError(next(iter(current), None))

    # --- soft delete ----------------------------------------------------------
    def soft_delete(self, user=None):
        self.deleted_at = timezone.now()
        self.deleted_by = user
        self.save(update_fields=["deleted_at", "deleted_by"])

    def restore(self, user=None):
        self.deleted_at = None
        self.deleted_by = None
        self.updated_by = user
        self.save(update_fields=["deleted_at", "deleted_by", "updated_by"])

    @property
    def tags(self) -> list[Tag]:
        cached = getattr(self, "_tag_cache", None)
        if isinstance(cached, PageTags):
            cached = self._tag_cache = cached.of(self.pk)
        if cached is not None:
            return cached
        return [item.tag for item in self.tagged_items.select_related("tag").order_by("tag__name")]

    def tag_name_list(self) -> list[str]:
        """The record's tag names in name order: those read with it (`tag_names`, annotated on
        PostgreSQL by `get_visible(shown=True)` and list pages), else from its tags."""
        names = getattr(self, "tag_names", None)
        return list(names) if names is not None else [t.name for t in self.tags]

    def set_tags(self, names):
        ct = ContentType.objects.get_for_model(type(self))
        wanted = {n.strip() for n in names if n and n.strip()}
        tags = []
        for name in wanted:
            tag, _created = Tag.objects.get_or_create(name=name[:50])
            tags.append(tag)
        TaggedItem.objects.filter(content_type=ct, object_id=self.pk).exclude(tag__in=tags).delete()
        existing = set(
            TaggedItem.objects.filter(content_type=ct, object_id=self.pk).values_list("tag_id", flat=True)
        )
        TaggedItem.objects.bulk_create(
            [TaggedItem(tag=t, content_type=ct, object_id=self.pk) for t in tags if t.pk not in existing]
        )
        self._tag_cache = None


def tags_by_id(model, ids, names: bool = False) -> dict:
    """{record id: [Tag, ...]} (or tag names) for many records of one model, in one query."""
    ct = ContentType.objects.get_for_model(model)
    by_id: dict = {pk: [] for pk in ids}
    if by_id:
        items = TaggedItem.objects.filter(content_type=ct, object_id__in=list(by_id)).order_by("tag__name")
        if names:
            for object_id, name in items.values_list("object_id", "tag__name"):
                by_id[object_id].append(name)
        else:
            for item in items.select_related("tag"):
                by_id[item.object_id].append(item.tag)
    return by_id


def tag_names_subquery(model):
    """PostgreSQL: each row's tag names (sorted) as an array column, for `annotate()`: a list page
    gets its tags in its own query instead of a second one."""
    from django.contrib.postgres.expressions import ArraySubquery

    ct = ContentType.objects.get_for_model(model)
    # built once per content type: an annotation resolves a copy of it (its query cloned), and
    # building it was ~0.15 ms of every list page and record read
    key = (model, ct.pk)
    expression = _TAG_NAMES.get(key)
    if expression is None:
        expression = _TAG_NAMES[key] = ArraySubquery(
            TaggedItem.objects.filter(content_type_id=ct.pk, object_id=models.OuterRef("pk"))
            .order_by("tag__name").values("tag__name"))
    return expression


_TAG_NAMES: dict = {}


class PageTags:
    """The tags of a page of records, read in one query when the first of them is asked for: a list
    whose tags column is not shown reads none (50 articles' tags: ~3 ms of the knowledge base's
    search page, for a column it does not show)."""

    __slots__ = ("model", "ids", "by_id")

    def __init__(self, model, ids):
        self.model, self.ids, self.by_id = model, ids, None

    def of(self, pk) -> list:
        if self.by_id is None:
            self.by_id = tags_by_id(self.model, self.ids)
        return self.by_id.get(pk, [])


def attach_tags(objs) -> None:
    """Load the tags of many records in one query (a GenericRelation prefetch builds a
    queryset per row, which dominated list pages), when one of them is first asked for."""
    if not objs:
        return
    page = PageTags(type(objs[0]), [obj.pk for obj in objs])
    for obj in objs:
        obj._tag_cache = page


class DictItem(models.Model):
    """A value of the data dictionary 数据字典 (industry, customer type, level, source, ...)."""

    kind = models.CharField(_("list"), max_length=40, db_index=True)
    code = models.CharField(_("code"), max_length=40)
    label = models.CharField(_("label (Chinese)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100, blank=True)
    order = models.IntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    builtin = models.BooleanField(_("built-in"), default=False, editable=False)

    class Meta:
        ordering = ["kind", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="core_dictitem_kind_code")]
        verbose_name = _("dictionary value")
        verbose_name_plural = _("data dictionary")

    def __str__(self):
        lang = (get_language() or "zh-hans").lower()
        if lang.startswith("en") and self.label_en:
            return self.label_en
        return self.label


class DictionarySeed(models.Model):
    """A declared seed value of the data dictionary (kehu.core.registries.dictionary_kind) that was
    created once: it is never created again, so a value an administrator deleted stays deleted."""

    kind = models.CharField(max_length=40)
    code = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="core_dictseed_kind_code")]

    def __str__(self):
        return f"{self.kind}.{self.code}"


class CustomField(models.Model):
    """A field the administrator adds to a record type; values live in `custom_fields` JSON."""

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        LONGTEXT = "longtext", _("Long text")
        INTEGER = "integer", _("Whole number")
        DECIMAL = "decimal", _("Decimal")
        DATE = "date", _("Date")
        BOOLEAN = "boolean", _("Yes / no")
        CHOICE = "choice", _("Choice")
        MULTICHOICE = "multichoice", _("Multiple choice")

    record_type = models.CharField(_("record type"), max_length=60, db_index=True)
    name = models.SlugField(_("name"), max_length=50, help_text=_("Letters, digits and underscores; used in the API."))
    label = models.CharField(_("label (Chinese)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100, blank=True)
    field_type = models.CharField(_("type"), max_length=20, choices=Type.choices, default=Type.TEXT)
    required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(
        _("choices"), default=list, blank=True, help_text=_("For choice fields: one value per line.")
    )
    order = models.IntegerField(_("order"), default=0)
    show_in_list = models.BooleanField(_("show in list by default"), default=False)
    help_text = models.CharField(_("help text"), max_length=200, blank=True)

    class Meta:
        ordering = ["record_type", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["record_type", "name"], name="core_customfield_unique")]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self):
        return self.display_label

    @property
    def display_label(self):
        lang = (get_language() or "zh-hans").lower()
        return self.label_en if lang.startswith("en") and self.label_en else self.label

    @property
    def key(self):
        return f"cf_{self.name}"


class Sequence(models.Model):
    """Named counters for human-readable numbers (KH20261122 0001), safe under concurrency."""

    key = models.CharField(max_length=64, unique=True)
    value = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.key}={self.value}"


def next_sequence(key: str) -> int:
    """Atomically increment and return the counter `key`.

    The UPDATE takes a row lock (PostgreSQL) or the write lock (SQLite), so two concurrent
    callers never get the same value. The first caller of a new key inserts it; a racing
    insert falls back to the UPDATE.
    """
    # one statement (UPDATE … RETURNING, PostgreSQL and SQLite 3.35+) in the caller's transaction
    # without a savepoint of its own: a numbered record's creation paid four round trips for it
    with transaction.atomic(savepoint=False):
        value = _increment(key)
        if value is not None:
            return value
        try:
            with transaction.atomic():
                Sequence.objects.create(key=key, value=1)
                return 1
        except IntegrityError:
            return _increment(key)


def _increment(key: str) -> int | None:
    from django.db import connection

    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {qn(Sequence._meta.db_table)} SET {qn('value')} = {qn('value')} + 1 "
                       f"WHERE {qn('key')} = %s RETURNING {qn('value')}", [key])
        row = cursor.fetchone()
    return row[0] if row else None


class Notification(models.Model):
    """An in-app notice; the header shows the unread count."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="core_notif_user_idx"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="core_notif_unread_idx"),
        ]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self):
        return self.title


class OutboxMessage(models.Model):
    """An e-mail kept instead of sent: the default when no SMTP host is configured (kehu/core/mail.py).
    Administrators read them under Administration → Outbox."""

    subject = models.CharField(_("subject"), max_length=500)
    from_email = models.CharField(_("from"), max_length=300, blank=True)
    recipients = models.TextField(_("recipients"))  # comma separated: to, cc and bcc
    body = models.TextField(_("message"), blank=True)
    html = models.TextField(_("HTML version"), blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")

    def __str__(self):
        return self.subject


from .deletion_models import DeletedItem, Deletion  # noqa: E402, F401  (recycle bin batches: kehu/core/relations.py)
from .exports_models import ExportJob  # noqa: E402, F401  (background exports: kehu/core/exports_jobs.py)


class TransitionLog(models.Model):
    """One transition of one record's workflow (kehu/core/workflow.py): who took which transition
    when, from which state to which, and why. Shown on the record's History tab and, for a record
    of a customer, on the customer's timeline."""

    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    customer_id = models.BigIntegerField(null=True, blank=True)  # the record's customer, for the timeline
    transition = models.CharField(_("transition"), max_length=40)
    from_state = models.CharField(_("from"), max_length=40, blank=True)
    to_state = models.CharField(_("to"), max_length=40)
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)  # what the transition changed
    at = models.DateTimeField(_("time"), default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+", verbose_name=_("by"))

    class Meta:
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")
        indexes = [
            models.Index(fields=["content_type", "object_id", "at"], name="core_transition_obj_idx"),
            models.Index(fields=["customer_id", "at"], name="core_transition_cust_idx",
                         condition=models.Q(customer_id__isnull=False)),
        ]

    def __str__(self):
        return f"{self.content_type_id}:{self.object_id} {self.from_state} → {self.to_state}"


from .backup.models import BackupRun  # noqa: E402, F401  (backup runs: kehu/core/backup/)
from .imports.models import ImportBatch, ImportJob, ImportMapping  # noqa: E402, F401  (imports: kehu/core/imports/)
from .scheduler import JobRun  # noqa: E402, F401  (periodic jobs' last runs: kehu/core/scheduler.py)
