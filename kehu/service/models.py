"""Service 客户服务 (SPEC §10, §11; seed 001 cst_service, seed 000 §五): tickets with their handling
entries and SLA due times, the SLA configuration (policies, working hours, holidays and make-up
working days 调休) and customer feedback and complaints. The rules are in services.py and sla.py."""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.fields import dict_fk
from kehu.core.models import KehuModel
from kehu.core.numbering import Numbering
from kehu.customers.models import CarriesCustomerOwner

ALIVE = Q(deleted_at__isnull=True)
SCOPE_COLUMNS = ["owner", "handler", "customer_owner"]  # a ticket's scope paths (Ticket.scope_paths)
FILTER_COLUMNS = ["status", "priority", "breached", "type", "channel"]  # the ticket list's usual filters
OPEN_STATES = ("new", "assigned")  # the SLA clock runs
SATISFACTION = [MinValueValidator(1), MaxValueValidator(5)]


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


class Ticket(KehuModel, CarriesCustomerOwner):
    """A service ticket 服务工单: new → assigned → handled → feedback given → archived (workflows in
    records.py). Seen by its creator (owner), its handler and the owner of its customer."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        ASSIGNED = "assigned", _("Assigned")
        HANDLED = "handled", _("Handled")
        FEEDBACK = "feedback", _("Feedback given")
        ARCHIVED = "archived", _("Archived")

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")
        WECHAT = "wechat", _("WeChat")
        VISIT = "visit", _("Visit")
        WEB = "web", _("Web form")
        SURVEY = "survey", _("Survey")

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    type = dict_fk("ticket_type", _("type"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.PHONE)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="tickets",
                                 verbose_name=_("customer"))
    contact = models.ForeignKey("customers.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("contact"))
    order_line = models.ForeignKey("orders.OrderLine", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="tickets", verbose_name=_("order line"))
    after_sales = models.OneToOneField("orders.AfterSalesRequest", null=True, blank=True, editable=False,
                                       on_delete=models.SET_NULL, related_name="ticket",
                                       verbose_name=_("after-sales request"))
    summary = models.CharField(_("summary"), max_length=200)
    request = models.TextField(_("request"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("handler"), limit_choices_to={"is_active": True})
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True, editable=False)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, editable=False,
                                    on_delete=models.SET_NULL, related_name="+", verbose_name=_("assigned by"))
    handling = models.TextField(_("handling"), blank=True, help_text=_("What was done, in short."))
    result = models.TextField(_("result"), blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True,
                                                    validators=SATISFACTION, help_text=_("1 (poor) to 5 (excellent)"))
    satisfaction_comment = models.TextField(_("customer's comment"), blank=True, editable=False)
    satisfaction_at = models.DateTimeField(_("rated at"), null=True, blank=True, editable=False)
    satisfaction_source = models.CharField(_("rated through"), max_length=20, blank=True, editable=False)
    # SLA (sla.py): due times in business time, computed on creation and on a change of type or priority
    response_due = models.DateTimeField(_("first response due"), null=True, blank=True, editable=False)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True, editable=False)
    response_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, editable=False)
    response_breached = models.BooleanField(_("response breached"), default=False, editable=False)
    resolution_breached = models.BooleanField(_("resolution breached"), default=False, editable=False)
    breached = models.BooleanField(_("SLA breached"), default=False, editable=False)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, editable=False)

    numbering = Numbering("FW")
    # its creator, its handler, its customer's owner (a copy on the ticket: CarriesCustomerOwner)
    scope_paths = tuple(SCOPE_COLUMNS)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["id"], name="ticket_alive_id_idx", condition=ALIVE),
            # the scope's paths, with the list's usual filters beside the key (PostgreSQL INCLUDE): a
            # wide scope's id-ordered page walks each path testing them in the index alone
            # (kehu.core.pagination._narrowed)
            models.Index(fields=["owner", "id"], name="ticket_owner_idx", condition=ALIVE, include=FILTER_COLUMNS),
            models.Index(fields=["handler", "id"], name="ticket_handler_idx", condition=ALIVE, include=FILTER_COLUMNS),
            # not partial: the scope's union reads it for deleted tickets too (a partial index left a scan);
            # with deleted_at beside it on PostgreSQL, the listed scope's alive ids are read from it alone
            models.Index(fields=["customer_owner", "id"], name="ticket_customer_owner_idx",
                         include=["deleted_at", *FILTER_COLUMNS]),
            models.Index(fields=["customer", "id"], name="ticket_customer_idx", condition=ALIVE),
            models.Index(fields=["status", "id"], name="ticket_status_idx", condition=ALIVE),
            models.Index(fields=["priority", "id"], name="ticket_priority_idx", condition=ALIVE),
            models.Index(fields=["type", "id"], name="ticket_type_idx", condition=ALIVE),
            models.Index(fields=["channel", "id"], name="ticket_channel_idx", condition=ALIVE),
            models.Index(fields=["breached", "id"], name="ticket_breached_idx", condition=ALIVE),
            # the scope's paths beside each sort (PostgreSQL INCLUDE): a user's page in these orders
            # is walked in the index alone (kehu.core.pagination._narrowed)
            models.Index(fields=["created_at", "id"], name="ticket_created_idx", condition=ALIVE, include=SCOPE_COLUMNS),
            models.Index(fields=["updated_at", "id"], name="ticket_updated_idx", condition=ALIVE, include=SCOPE_COLUMNS),
            models.Index(fields=["resolution_due", "id"], name="ticket_due_idx", condition=ALIVE, include=SCOPE_COLUMNS),
            models.Index(fields=["order_line"], name="ticket_order_line_idx", condition=ALIVE),
            # the customer's timeline: created, rated
            models.Index(fields=["customer", "created_at", "id"], name="ticket_customer_created_idx", condition=ALIVE),
            models.Index(fields=["customer", "satisfaction_at", "id"], name="ticket_customer_rated_idx",
                         condition=ALIVE & Q(satisfaction_at__isnull=False)),
            # the queue: unassigned tickets, breaches first then the soonest due (breached descending in
            # the index too: with the mixed order both databases sorted every new ticket)
            models.Index(fields=["-breached", "resolution_due", "id"], name="ticket_queue_idx",
                         condition=ALIVE & Q(status="new")),
            # open tickets by handler and due time: My day, the handlers' load, the SLA job
            models.Index(fields=["handler", "resolution_due", "id"], name="ticket_open_handler_idx",
                         condition=ALIVE & Q(status__in=OPEN_STATES)),
            # the same read by status value: SQLite cannot match `status IN (%s, %s)` (bound values) to
            # the partial indexes above and read every ticket with a handler instead (the queue's load:
            # 0.5-1 s at 150,000 tickets); `status = %s` (one query per open status: with an IN the
            # GROUP BY handler is not in index order, and SQLite's statistics chose the handler index
            # again) reads a status's tickets by handler, and an IN on it is one seek per status.
            # It covers the data scope's columns too (owner, customer_owner; the handler is in it): a
            # supervisor's load count read each of 25,000 assigned tickets' rows to test their scope
            # (85 ms at 1.5M tickets)
            models.Index(fields=["status", "handler", "breached", "resolution_due", "owner", "customer_owner"],
                         name="ticket_status_handler_idx", condition=ALIVE),
            # a status's breached tickets by due time (the team's breaches: per open status; with status
            # IN and the due index SQLite read 80-330 ms of old tickets first)
            models.Index(fields=["status", "resolution_due", "id"], name="ticket_breached_due_idx",
                         condition=ALIVE & Q(breached=True)),
            models.Index(fields=["response_warn_at"], name="ticket_open_resp_warn_idx",
                         condition=ALIVE & Q(status__in=OPEN_STATES, responded_at__isnull=True)),
            models.Index(fields=["resolution_warn_at"], name="ticket_open_res_warn_idx",
                         condition=ALIVE & Q(status__in=OPEN_STATES)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                                   name="ticket_satisfaction_1_5"),
        ]

    def __str__(self):
        return f"{self.number} {self.summary}" if self.number else self.summary

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @classmethod
    def from_db(cls, db, field_names, values):
        obj = super().from_db(db, field_names, values)
        obj._sla_key = (obj.__dict__.get("type_id"), obj.__dict__.get("priority"))  # sla.refresh_due
        return obj

    def save(self, *args, **kwargs):
        from . import sla

        sla.refresh_due(self)  # on creation and when the type or the priority changed
        super().save(*args, **kwargs)

    def clean(self):
        from django.core.exceptions import ValidationError

        errors = {}
        if self.contact_id and self.customer_id and self.contact.customer_id != self.customer_id:
            errors["contact"] = _("This contact belongs to another customer.")
        if self.order_line_id and self.customer_id and self.order_line.order.customer_id != self.customer_id:
            errors["order_line"] = _("This order line belongs to another customer's order.")
        if errors:
            raise ValidationError(errors)


class HandlingEntry(models.Model):
    """One handling step 服务处理 on a ticket: what was done, how long it took, who, when. Kept as a
    read-only history; the first one is the ticket's first response."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="entries", verbose_name=_("ticket"))
    description = models.TextField(_("what was done"))
    minutes = models.PositiveIntegerField(_("time spent (minutes)"), default=0,
                                          validators=[MaxValueValidator(24 * 60)])
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                           verbose_name=_("by"))
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("handling entry")
        verbose_name_plural = _("handling entries")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["ticket", "at", "id"], name="ticket_entry_idx")]

    def __str__(self):
        return self.description[:60]


# --- SLA configuration -------------------------------------------------------------------------
class SlaPolicy(models.Model):
    """First-response and resolution times, in business minutes, for a ticket type and priority;
    an empty type or priority applies to any (the most specific policy wins)."""

    ticket_type = dict_fk("ticket_type", _("ticket type"), help_text=_("Empty: any type."))
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, blank=True,
                                help_text=_("Empty: any priority."))
    response_minutes = models.PositiveIntegerField(_("first response (business minutes)"),
                                                   validators=[MinValueValidator(1)])
    resolution_minutes = models.PositiveIntegerField(_("resolution (business minutes)"),
                                                     validators=[MinValueValidator(1)])
    remind_before_minutes = models.PositiveIntegerField(_("remind the handler (business minutes before)"),
                                                        default=30)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["ticket_type_id", "priority"]
        indexes = [models.Index(fields=["priority", "id"], name="slapolicy_priority_idx")]
        constraints = [models.UniqueConstraint(fields=["ticket_type", "priority"], name="slapolicy_unique",
                                               nulls_distinct=False)]

    def __str__(self):
        type_ = self.ticket_type or _("any type")
        priority = self.get_priority_display() if self.priority else _("any priority")
        return f"{type_} · {priority}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.response_minutes and self.resolution_minutes and self.resolution_minutes < self.response_minutes:
            raise ValidationError({"resolution_minutes": _("Resolution cannot be due before the first response.")})


def check_hours(record, working: bool) -> None:
    """A working day's hours: it ends after it starts, and its break (午休, both ends or neither) lies
    inside them."""
    from django.core.exceptions import ValidationError

    if not working:
        return
    if record.starts and record.ends and record.ends <= record.starts:
        raise ValidationError({"ends": _("The working day ends before it starts.")})
    a, b = record.break_starts, record.break_ends
    if (a is None) != (b is None):
        raise ValidationError({"break_ends" if b is None else "break_starts":
                               _("Give both the start and the end of the break, or neither.")})
    if a is not None:
        if b <= a:
            raise ValidationError({"break_ends": _("The break ends before it starts.")})
        if record.starts and record.ends and not (record.starts < a and b < record.ends):
            raise ValidationError({"break_starts": _("The break must lie inside the working hours.")})


def break_field(label):
    return models.TimeField(label, null=True, blank=True,
                            help_text=_("A break in the working day (lunch, 午休): no business time counts in it."))


class WorkingHours(models.Model):
    """The working hours of one weekday (Monday 0 … Sunday 6), with an optional break (lunch); a
    weekday without hours is a day off."""

    WEEKDAYS = [(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")), (4, _("Friday")),
                (5, _("Saturday")), (6, _("Sunday"))]
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAYS, unique=True)
    working = models.BooleanField(_("working day"), default=True)
    starts = models.TimeField(_("start time"), default=datetime.time(9))
    ends = models.TimeField(_("end time"), default=datetime.time(18))
    break_starts = break_field(_("break start"))
    break_ends = break_field(_("break end"))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["weekday"]
        indexes = [models.Index(fields=["weekday", "id"], name="workinghours_list_idx")]  # the list's order

    def __str__(self):
        return str(self.get_weekday_display())

    def clean(self):
        check_hours(self, self.working)


class Holiday(models.Model):
    """A date off (a public holiday 法定节假日) or a make-up working day 调休 on a weekend."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        WORKDAY = "workday", _("Make-up working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.HOLIDAY)
    name = models.CharField(_("name"), max_length=60, blank=True)
    starts = models.TimeField(_("start time"), default=datetime.time(9), help_text=_("A make-up working day's hours."))
    ends = models.TimeField(_("end time"), default=datetime.time(18))
    break_starts = break_field(_("break start"))
    break_ends = break_field(_("break end"))

    class Meta:
        verbose_name = _("holiday or make-up day")
        verbose_name_plural = _("holidays and make-up days")
        ordering = ["date"]
        indexes = [models.Index(fields=["kind", "date", "id"], name="holiday_kind_date_idx"),
                   models.Index(fields=["date", "id"], name="holiday_list_idx")]  # the list's order

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name or self.get_kind_display()}"

    def clean(self):
        check_hours(self, self.kind == self.Kind.WORKDAY)


# --- feedback and complaints -------------------------------------------------------------------
class Feedback(KehuModel, CarriesCustomerOwner):
    """Customer feedback 客户反馈与投诉: a complaint, a suggestion or praise; open → in progress →
    resolved. A complaint may be escalated into a ticket (once: `ticket`)."""

    class Source(models.TextChoices):
        SURVEY = "survey", _("Survey")
        HOTLINE = "hotline", _("Hotline")
        SOCIAL = "social", _("Social media")
        EMAIL = "email", _("E-mail")
        VISIT = "visit", _("Visit")

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        SUGGESTION = "suggestion", _("Suggestion")
        PRAISE = "praise", _("Praise")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")

    source = models.CharField(_("source channel"), max_length=10, choices=Source.choices, default=Source.HOTLINE)
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices, default=Kind.COMPLAINT)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="feedback",
                                 verbose_name=_("customer"))
    contact = models.ForeignKey("customers.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("contact"))
    content = models.TextField(_("content"))
    result = models.TextField(_("handling result"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True, validators=SATISFACTION)
    ticket = models.OneToOneField(Ticket, null=True, blank=True, editable=False, on_delete=models.SET_NULL,
                                  related_name="complaint", verbose_name=_("ticket"))

    # the customer's owner as a column of its own (CarriesCustomerOwner), as a ticket's: through
    # `customer__owner` a rep's scope joined the customers, and PostgreSQL read every feedback record
    # for it (a rep's list at 200,000 records: 24-29 ms, 40-50 ms as a page)
    scope_paths = ("owner", "customer_owner")

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        indexes = [
            models.Index(fields=["id"], name="feedback_alive_id_idx", condition=ALIVE),
            models.Index(fields=["owner", "id"], name="feedback_owner_idx", condition=ALIVE),
            # not partial, as ticket_customer_owner_idx: the scope reads it for deleted records too
            models.Index(fields=["customer_owner", "id"], name="feedback_customer_owner_idx", include=["deleted_at"]),
            models.Index(fields=["customer", "id"], name="feedback_customer_idx", condition=ALIVE),
            models.Index(fields=["customer", "created_at", "id"], name="feedback_customer_created_idx",
                         condition=ALIVE),
            models.Index(fields=["status", "id"], name="feedback_status_idx", condition=ALIVE),
            models.Index(fields=["kind", "id"], name="feedback_kind_idx", condition=ALIVE),
            models.Index(fields=["source", "id"], name="feedback_source_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="feedback_created_idx", condition=ALIVE),
            models.Index(fields=["updated_at", "id"], name="feedback_updated_idx", condition=ALIVE),
        ]

    def __str__(self):
        text = self.content.strip().splitlines()[0] if self.content.strip() else ""
        return f"{self.get_kind_display()}: {text[:40]}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.contact_id and self.customer_id and self.contact.customer_id != self.customer_id:
            raise ValidationError({"contact": _("This contact belongs to another customer.")})
