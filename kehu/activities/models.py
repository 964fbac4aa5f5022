"""Follow-ups 跟进记录, tasks 任务 and the reminder bookkeeping that makes each reminder go out once."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.fields import dict_fk
from kehu.core.models import KehuModel

ALIVE = Q(deleted_at__isnull=True)


class FollowUp(KehuModel):
    """One contact with a customer: a call, a visit, a meeting... The owner is who recorded it;
    visibility follows the customer (its owner's scope, or everyone for the public pool)."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="followups", verbose_name=_("customer"))
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="followups",
        verbose_name=_("contact"))
    opportunity = models.ForeignKey(
        "sales.Opportunity", null=True, blank=True, on_delete=models.SET_NULL, related_name="followups",
        verbose_name=_("opportunity"))
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    method = dict_fk("contact_method", _("method"))
    participants = models.CharField(_("participants"), max_length=300, blank=True)
    topic = models.CharField(_("topic"), max_length=200)
    content = models.TextField(_("content"), blank=True)
    customer_feedback = models.TextField(_("customer feedback"), blank=True)
    result = models.TextField(_("result"), blank=True)
    next_action = models.CharField(_("next action"), max_length=300, blank=True)
    next_action_at = models.DateTimeField(_("next action at"), null=True, blank=True)
    next_action_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("next action by"))

    scope_owner_field = "customer__owner"
    scope_includes_unowned = True

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [
            models.Index(fields=["customer", "occurred_at"], name="fu_customer_time_idx", condition=ALIVE),
            models.Index(fields=["id"], name="fu_alive_id_idx", condition=ALIVE),
            models.Index(fields=["occurred_at", "id"], name="fu_occurred_idx", condition=ALIVE),
            models.Index(fields=["owner", "id"], name="fu_owner_idx", condition=ALIVE),
            models.Index(fields=["method", "id"], name="fu_method_idx", condition=ALIVE),
            # a creation range read in the list's order, its rows' author and next action tested in
            # the index: "pending" or "by this author" within a month read each of the month's
            # 13,800 rows from the table at 5M (26-37 ms on SQLite; 4-10 ms from the index)
            models.Index(fields=["created_at", "id", "owner", "next_action_at"], name="fu_created_cover_idx",
                         condition=ALIVE),
            models.Index(fields=["owner", "occurred_at", "id"], name="fu_owner_occ_idx", condition=ALIVE),
            models.Index(fields=["method", "occurred_at", "id"], name="fu_method_occ_idx", condition=ALIVE),
            models.Index(fields=["next_action_by", "next_action_at"], name="fu_next_action_idx",
                         condition=Q(deleted_at__isnull=True, next_action_at__isnull=False)),
            models.Index(fields=["next_action_at"], name="fu_next_due_idx",
                         condition=Q(deleted_at__isnull=True, next_action_at__isnull=False)),
            # "next action pending" in the list's newest-first order: walked over the follow-ups
            # that have a next action (14 % of them), not over all (22,000 rows skipped at 5M, 28-33 ms)
            models.Index(fields=["occurred_at", "id"], name="fu_pending_occ_idx",
                         condition=Q(deleted_at__isnull=True, next_action_at__isnull=False)),
            models.Index(fields=["deleted_at"], name="fu_deleted_idx", condition=Q(deleted_at__isnull=False)),
        ]

    def __str__(self):
        return self.topic

    def clean(self):
        errors = {}
        if self.contact_id and self.customer_id and self.contact.customer_id != self.customer_id:
            errors["contact"] = _("This contact belongs to another customer.")
        opportunity = self.opportunity if self.opportunity_id else None
        if opportunity is not None and getattr(opportunity, "customer_id", None) and self.customer_id \
                and opportunity.customer_id != self.customer_id:
            errors["opportunity"] = _("This opportunity belongs to another customer.")
        if self.next_action_at and not (self.next_action or "").strip():
            errors["next_action"] = _("Say what the next action is.")
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        if self.occurred_at:  # to the minute
            self.occurred_at = self.occurred_at.replace(second=0, microsecond=0)
        if self.next_action and self.next_action_at and not self.next_action_by_id:
            self.next_action_by_id = self.owner_id or self.created_by_id
        super().save(*args, **kwargs)


class Task(KehuModel):
    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    class Status(models.TextChoices):
        TODO = "todo", _("To do")
        DOING = "doing", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN = (Status.TODO, Status.DOING)

    @classmethod
    def open_q(cls) -> Q:
        """Open tasks, written so that the partial index task_open_due_idx applies on SQLite too."""
        return Q(status__literal_in=[str(s) for s in cls.OPEN])

    title = models.CharField(_("title"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks",
        verbose_name=_("customer"))
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.TODO)
    completion_note = models.TextField(_("completion note"), blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["id"], name="task_alive_id_idx", condition=ALIVE),
            models.Index(fields=["owner", "status", "due_at"], name="task_owner_status_idx", condition=ALIVE),
            models.Index(fields=["due_at", "id"], name="task_due_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="task_created_idx", condition=ALIVE),
            models.Index(fields=["owner", "due_at", "id"], name="task_owner_due_idx", condition=ALIVE),
            models.Index(fields=["owner", "created_at", "id"], name="task_owner_created_idx", condition=ALIVE),
            # open tasks by due date (overdue list sorted by due date, reminders): filter them with
            # Task.open_q(), whose SQL repeats this predicate
            models.Index(fields=["due_at", "id"], name="task_open_due_idx",
                         condition=Q(deleted_at__isnull=True, status__in=["todo", "doing"])),
            models.Index(fields=["customer", "created_at"], name="task_customer_time_idx", condition=ALIVE),
            models.Index(fields=["deleted_at"], name="task_deleted_idx", condition=Q(deleted_at__isnull=False)),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self):
        return self.status in self.OPEN

    @property
    def is_overdue(self):
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()

    def save(self, *args, **kwargs):
        if self.status == self.Status.DONE and self.completed_at is None:
            self.completed_at = timezone.now()
        elif self.status != self.Status.DONE:
            self.completed_at = None
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {"completed_at"}
        super().save(*args, **kwargs)


class Reminder(models.Model):
    """One reminder to one person about one thing at one time. The unique constraint makes a
    reminder exist once; `sent_at` makes it go out once, whatever restarts in between."""

    class Kind(models.TextChoices):
        TASK_DUE = "task_due", _("Task due")
        TASK_OVERDUE = "task_overdue", _("Task overdue")
        FOLLOWUP_NEXT = "followup_next", _("Next follow-up action")
        PLAN_STEP_OVERDUE = "plan_step_overdue", _("Plan step overdue")

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    due_at = models.DateTimeField(_("due"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("user"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    notified_at = models.DateTimeField(_("in-app notice at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(fields=["kind", "content_type", "object_id", "due_at", "user"],
                                    name="activities_reminder_once"),
        ]
        indexes = [
            models.Index(fields=["id"], name="reminder_pending_idx", condition=Q(sent_at__isnull=True)),
        ]

    def __str__(self):
        return f"{self.kind} {self.content_type_id}:{self.object_id} @ {self.due_at:%Y-%m-%d %H:%M}"
