"""Campaigns 营销活动 (SPEC §13, seed 000 FAQ 6): a campaign with its channel, dates, budget and
cost, and its members — the customers (and their contacts) it reached — with what each did:
invited, responded, converted, declined or unsubscribed. The effect (participants, rates, revenue
attributed, ROI) is computed from the members and the orders of their customers (effect.py)."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.fields import dict_fk
from kehu.core.models import KehuModel
from kehu.core.money import MoneyField
from kehu.core.numbering import Numbering

ALIVE = Q(deleted_at__isnull=True)
ZERO = Decimal("0.00")
NOT_NEGATIVE = [MinValueValidator(ZERO)]


class Campaign(KehuModel):
    """A marketing campaign: planned → active → completed, or cancelled (records.CampaignWorkflow).
    A campaign is the company's: whoever may view campaigns sees every one (its members follow the
    data scope of their customers)."""

    class Type(models.TextChoices):
        ONLINE = "online", _("Online")
        OFFLINE = "offline", _("Offline")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    type = models.CharField(_("type"), max_length=10, choices=Type.choices, default=Type.OFFLINE)
    channel = dict_fk("campaign_channel", _("channel"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    budget = MoneyField(_("budget"), default=ZERO, validators=NOT_NEGATIVE)
    actual_cost = MoneyField(_("actual cost"), default=ZERO, validators=NOT_NEGATIVE)
    expected_revenue = MoneyField(_("expected revenue"), default=ZERO, validators=NOT_NEGATIVE)
    description = models.TextField(_("description"), blank=True)

    numbering = Numbering("HD")
    scope_owner_field = None  # the company's campaigns: rights decide (docs/decisions.md, "Campaigns")

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        indexes = [
            models.Index(fields=["id"], name="campaign_alive_id_idx", condition=ALIVE),
            models.Index(fields=["status", "id"], name="campaign_status_idx", condition=ALIVE),
            models.Index(fields=["type", "id"], name="campaign_type_idx", condition=ALIVE),
            models.Index(fields=["channel", "id"], name="campaign_channel_idx", condition=ALIVE),
            models.Index(fields=["owner", "id"], name="campaign_owner_idx", condition=ALIVE),
            models.Index(fields=["start_date", "id"], name="campaign_start_idx", condition=ALIVE),
            models.Index(fields=["end_date", "id"], name="campaign_end_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="campaign_created_idx", condition=ALIVE),
            models.Index(fields=["updated_at", "id"], name="campaign_updated_idx", condition=ALIVE),
            models.Index(fields=["name", "id"], name="campaign_name_idx", condition=ALIVE),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="campaign_end_after_start"),
            models.CheckConstraint(condition=Q(budget__gte=0) & Q(actual_cost__gte=0) & Q(expected_revenue__gte=0),
                                   name="campaign_money_not_negative"),
        ]

    def __str__(self):
        return f"{self.number} {self.name}" if self.number else self.name

    def clean(self):
        self.name = " ".join((self.name or "").split())
        errors = {}
        if not self.name:
            errors["name"] = _("A campaign needs a name.")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = _("The end date cannot be before the start date.")
        if errors:
            raise ValidationError(errors)


class CampaignMember(KehuModel):
    """A customer the campaign reached 活动成员 (and, optionally, which of its contacts), with what
    they did. One customer once per campaign. Seen by whoever sees the customer (its owner's scope,
    or everyone for the public pool), as a follow-up is; the owner is who added it."""

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        RESPONDED = "responded", _("Responded")
        CONVERTED = "converted", _("Converted")
        DECLINED = "declined", _("Declined")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")

    RESPONDED_STATES = ("responded", "converted")  # a response: the member answered or came (and perhaps bought)

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members",
                                 verbose_name=_("campaign"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="campaign_memberships",
                                 verbose_name=_("customer"))
    contact = models.ForeignKey("customers.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("contact"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.INVITED)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True, editable=False)
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True, editable=False)
    notes = models.TextField(_("notes"), blank=True)

    scope_owner_field = "customer__owner"
    scope_includes_unowned = True

    class Meta:
        verbose_name = _("campaign member")
        verbose_name_plural = _("campaign members")
        indexes = [
            models.Index(fields=["id"], name="cmember_alive_id_idx", condition=ALIVE),
            models.Index(fields=["campaign", "id"], name="cmember_campaign_idx", condition=ALIVE),
            models.Index(fields=["customer", "id"], name="cmember_customer_id_idx", condition=ALIVE),
            models.Index(fields=["status", "id"], name="cmember_status_idx", condition=ALIVE),
            models.Index(fields=["owner", "id"], name="cmember_owner_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="cmember_created_idx", condition=ALIVE),
            models.Index(fields=["updated_at", "id"], name="cmember_updated_idx", condition=ALIVE),
            # the customer's Campaigns tab and timeline ("joined campaign X")
            models.Index(fields=["customer", "created_at", "id"], name="cmember_customer_idx", condition=ALIVE),
        ]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], condition=ALIVE, name="cmember_once_per_campaign",
                                    violation_error_message=_("This customer is a member of this campaign already.")),
        ]

    # set by the import's form: a customer already in the campaign is a duplicate the import matches
    # (skipped or updated), not an error (kehu/campaigns/imports.py)
    match_existing = False

    def __str__(self):
        campaign = self.campaign.name if self.campaign_id else ""
        customer = self.customer.name if self.customer_id else ""
        return f"{campaign} · {customer}"

    @classmethod
    def from_db(cls, db, field_names, values):
        obj = super().from_db(db, field_names, values)
        obj._loaded_status = obj.__dict__.get("status")  # services.stamp_status: what changed
        return obj

    def clean(self):
        errors = {}
        if self.contact_id and self.customer_id and self.contact.customer_id != self.customer_id:
            errors["contact"] = _("This contact belongs to another customer.")
        if self.campaign_id and self.customer_id and not self.match_existing:
            twin = CampaignMember.objects.filter(campaign_id=self.campaign_id, customer_id=self.customer_id)
            if self.pk:
                twin = twin.exclude(pk=self.pk)
            if twin.exists():
                errors["customer"] = _("This customer is a member of this campaign already.")
        if self.campaign_id and not self.pk and self.campaign.status == Campaign.Status.CANCELLED:
            errors["campaign"] = _("This campaign was cancelled: it takes no new members.")
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude=None):
        if self.match_existing:
            exclude = {*(exclude or ()), "customer"}
        super().validate_constraints(exclude=exclude)

    def save(self, *args, **kwargs):
        from .services import stamp_status

        stamp_status(self)
        super().save(*args, **kwargs)

    def restore(self, user=None):
        """Back from the recycle bin, unless the customer has joined the campaign again meanwhile
        (the live member stands; the unique constraint would refuse the row with a 500)."""
        live = CampaignMember.objects.filter(campaign_id=self.campaign_id, customer_id=self.customer_id)
        if live.exclude(pk=self.pk).exists():
            raise ValidationError(_("“%(customer)s” is a member of this campaign again: this member cannot be "
                                    "restored beside it.") % {"customer": self.customer})
        super().restore(user)

    @classmethod
    def before_merge(cls, field_name, keep, other, user):
        """Customers merged (kehu.core.relations.move_related): see services.fold_members."""
        if field_name == "customer":
            from .services import fold_members

            fold_members(keep, other, user)
