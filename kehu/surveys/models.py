"""A satisfaction survey 满意度回访: one e-mail to a customer's contact about a subject (a service
ticket, an order), answered once through a signed public link (kehu/surveys/public.py)."""

import secrets

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.models import KehuModel
from kehu.customers.models import CarriesCustomerOwner

ALIVE = Q(deleted_at__isnull=True)
COMMENT_MAX = 1000


def new_token_id() -> str:
    """The survey's public id, carried (signed) by its link: random, so the row's number is not in it."""
    return secrets.token_urlsafe(16)


class Survey(KehuModel, CarriesCustomerOwner):
    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        ANSWERED = "answered", _("Answered")
        EXPIRED = "expired", _("Expired")

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("subject type"))
    object_id = models.BigIntegerField(_("subject id"))
    subject = GenericForeignKey("content_type", "object_id")
    summary = models.CharField(_("subject"), max_length=300,
                               help_text=_("What the survey is about, as the customer sees it on the answer page."))
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="surveys",
                                 verbose_name=_("customer"), db_index=False)
    contact = models.ForeignKey("customers.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="surveys", verbose_name=_("contact"))
    email = models.EmailField(_("e-mail"))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    token_id = models.CharField(max_length=40, unique=True, default=new_token_id, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True, max_length=COMMENT_MAX)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SENT)
    followed_up_task = models.ForeignKey("activities.Task", null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+", verbose_name=_("follow-up task"))

    # a survey is seen with its customer, as a contact is: by its account manager and their
    # supervisors, and by everybody while the customer is in the public pool (the pool is public).
    # With the pool branch, SQLite's page query walks the list's order index (kehu.accounts.scope.PageOwner).
    # The customer's owner is a column of the survey's own (CarriesCustomerOwner), as a ticket's: through
    # `customer__owner` a supervisor's surveys of one sender joined every one of them to its customer
    # (3,700 surveys at 1M: 16 ms of SQL for a page that held none)
    scope_owner_field = "customer_owner"
    scope_includes_unowned = True

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        indexes = [
            models.Index(fields=["id"], name="survey_alive_id_idx", condition=ALIVE),
            models.Index(fields=["customer", "id"], name="survey_customer_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="survey_created_idx", condition=ALIVE),
            models.Index(fields=["answered_at", "id"], name="survey_answered_idx", condition=ALIVE),
            models.Index(fields=["status", "id"], name="survey_status_idx", condition=ALIVE),
            models.Index(fields=["rating", "id"], name="survey_rating_idx", condition=ALIVE),
            # the scope's column beside the key (PostgreSQL INCLUDE): one sender's surveys that a
            # supervisor sees are found in the index alone
            models.Index(fields=["owner", "id"], name="survey_owner_idx", condition=ALIVE, include=["customer_owner"]),
            # not partial, as ticket_customer_owner_idx: the scope reads it for deleted records too
            models.Index(fields=["customer_owner", "id"], name="survey_customer_owner_idx", include=["deleted_at"]),
            # a subject's surveys (the panel on a ticket's page)
            models.Index(fields=["content_type", "object_id"], name="survey_subject_idx"),
            # the customer's timeline: answers by time
            models.Index(fields=["customer", "answered_at", "id"], name="survey_timeline_idx",
                         condition=Q(answered_at__isnull=False, deleted_at__isnull=True)),
            # the daily job: unanswered, not yet followed up, by creation
            models.Index(fields=["created_at"], name="survey_follow_up_idx",
                         condition=Q(status="sent", followed_up_task__isnull=True, deleted_at__isnull=True)),
            models.Index(fields=["expires_at"], name="survey_expiry_idx",
                         condition=Q(status="sent", deleted_at__isnull=True)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                                   name="survey_rating_1_5"),
        ]

    def __str__(self):
        return self.summary

    @property
    def rating_display(self) -> str:
        return f"{self.rating}/5" if self.rating else ""
