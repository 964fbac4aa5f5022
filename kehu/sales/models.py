"""Sales: the pipeline's stages, opportunities 销售机会, their stage history and development
plans 客户开发计划. The rules (assignment, won/lost) live in services.py."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kehu.core.fields import dict_fk
from kehu.core.models import KehuModel
from kehu.core.money import MoneyField, round_money
from kehu.core.numbering import Numbering

ALIVE = Q(deleted_at__isnull=True)
PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


class Stage(models.Model):
    """A column of the pipeline 销售阶段, configured by the administrator."""

    name = models.CharField(_("name (Chinese)"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=60, blank=True)
    order = models.IntegerField(_("order"), default=0)
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=0, validators=PERCENT)
    is_won = models.BooleanField(_("won stage"), default=False)
    is_lost = models.BooleanField(_("lost stage"), default=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "id"]
        indexes = [models.Index(fields=["order", "id"], name="stage_order_idx")]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.CheckConstraint(condition=Q(probability__lte=100), name="sales_stage_probability_range"),
            models.CheckConstraint(condition=~Q(is_won=True, is_lost=True), name="sales_stage_not_won_and_lost"),
        ]

    def __str__(self):
        lang = (get_language() or "zh-hans").lower()
        return self.name_en if lang.startswith("en") and self.name_en else self.name

    def clean(self):
        if self.is_won and self.is_lost:
            raise ValidationError({"is_lost": _("A stage cannot be both won and lost.")})

    @property
    def is_closed(self):
        return self.is_won or self.is_lost


class Opportunity(KehuModel):
    """A sales opportunity; `owner` is the assigned account manager."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="opportunities",
        verbose_name=_("customer"),
    )
    prospect_name = models.CharField(
        _("prospect"), max_length=200, blank=True,
        help_text=_("A prospect who is not a customer yet; they become one when the opportunity is won."),
    )
    title = models.CharField(_("title"), max_length=200)
    source = dict_fk("customer_source", _("source"))
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("stage"))
    amount = MoneyField(_("amount"), null=True, blank=True, validators=[MinValueValidator(Decimal("0"))])
    discount = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, null=True, blank=True,
                                   validators=PERCENT)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), null=True, blank=True, validators=PERCENT,
        help_text=_("Leave empty to use the stage's probability."),
    )
    expected_close = models.DateField(_("expected close date"), null=True, blank=True)
    competitors = models.CharField(_("competitors"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True, editable=False)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("assigned by"),
    )
    lost_reason = dict_fk("lost_reason", _("lost reason"))
    won_competitor = models.CharField(_("competitor who won"), max_length=200, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    deal_products = models.CharField(_("products or services sold"), max_length=500, blank=True)
    signed_on = models.DateField(_("signing date"), null=True, blank=True)

    numbering = Numbering("SJ")  # SJ202611220001 (kehu/core/numbering.py)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            models.Index(fields=["id"], name="opp_alive_id_idx", condition=ALIVE),
            models.Index(fields=["owner", "id"], name="opp_owner_id_idx", condition=ALIVE),
            models.Index(fields=["title", "id"], name="opp_title_idx", condition=ALIVE),
            models.Index(fields=["updated_at", "id"], name="opp_updated_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="opp_created_idx", condition=ALIVE),
            models.Index(fields=["stage", "id"], name="opp_stage_idx", condition=ALIVE),
            models.Index(fields=["customer", "created_at"], name="opp_customer_idx", condition=ALIVE),
            models.Index(fields=["expected_close", "id"], name="opp_close_idx", condition=ALIVE),
            models.Index(fields=["customer"], name="opp_open_customer_idx",
                         condition=Q(deleted_at__isnull=True, closed_at__isnull=True)),
            models.Index(fields=["owner", "assigned_at"], name="opp_assigned_idx", condition=ALIVE),
            models.Index(fields=["deleted_at"], name="opp_deleted_idx", condition=Q(deleted_at__isnull=False)),
            # the board: each stage's newest cards (all / department scope), and a rep's own board;
            # amount and probability make them covering for the columns' totals (an index-only scan)
            models.Index(fields=["stage", "updated_at", "id", "owner", "amount", "probability"],
                         name="opp_board_idx", condition=ALIVE),
            models.Index(fields=["owner", "stage", "updated_at", "id", "amount", "probability"],
                         name="opp_owner_board_idx", condition=ALIVE),
            # the list's sort by amount (by expected close: opp_close_idx)
            models.Index(fields=["amount", "id"], name="opp_amount_idx", condition=ALIVE),
            # a rep's own list in each declared order (SQLite plans `owner_id = me` first)
            models.Index(fields=["owner", "title", "id"], name="opp_owner_title_idx", condition=ALIVE),
            models.Index(fields=["owner", "updated_at", "id"], name="opp_owner_updated_idx", condition=ALIVE),
            models.Index(fields=["owner", "created_at", "id"], name="opp_owner_created_idx", condition=ALIVE),
            models.Index(fields=["owner", "amount", "id"], name="opp_owner_amount_idx", condition=ALIVE),
            models.Index(fields=["owner", "expected_close", "id"], name="opp_owner_close_idx", condition=ALIVE),
            # open opportunities by expected close date: the forecast's month ranges read only this
            # index (covering), and the list's open + close-date filter
            models.Index(fields=["expected_close", "stage", "owner", "amount", "probability"],
                         name="opp_open_close_idx",
                         condition=Q(deleted_at__isnull=True, closed_at__isnull=True)),
        ]

    def __str__(self):
        return self.title

    @property
    def party(self):
        """The customer, or the prospect's name."""
        return self.customer if self.customer_id else self.prospect_name

    @classmethod
    def open_q(cls) -> Q:
        """The one definition of an open opportunity: not closed. `closed_at` is set exactly while
        the stage is won or lost (the workflow's transitions keep it so: kehu/sales/workflows.py),
        and the partial indexes on open opportunities repeat this predicate."""
        return Q(closed_at__isnull=True)

    @property
    def is_open(self):
        return self.closed_at is None

    @property
    def effective_probability(self) -> int:
        if self.probability is not None:
            return self.probability
        return self.stage.probability if self.stage_id else 0

    @property
    def weighted_amount(self):
        if self.amount is None:
            return None
        return round_money(self.amount * self.effective_probability / Decimal(100))

    def clean(self):
        self.prospect_name = (self.prospect_name or "").strip()
        errors = {}
        if not self.customer_id and not self.prospect_name:
            errors["customer"] = _("Choose a customer or enter the prospect's name.")
        errors.update(close_errors(self))
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        if self.probability is None and self.stage_id:  # the one place of the default probability
            self.probability = self.stage.probability
        super().save(*args, **kwargs)


OPPORTUNITY_DEAL_FIELDS = {"amount": "amount", "products": "deal_products", "signed_on": "signed_on"}


def close_errors(opp) -> dict:
    """What a won or lost stage requires (SPEC §3): the one place this rule is written; a won
    deal's part is the customers' `won_deal_errors`, the rule a won customer follows too."""
    from kehu.customers.models import won_deal_errors

    stage = opp.stage if opp.stage_id else None
    errors = won_deal_errors(stage is not None and stage.is_won, opp.amount, opp.deal_products, opp.signed_on,
                             OPPORTUNITY_DEAL_FIELDS)
    if stage is not None and stage.is_lost and not opp.lost_reason_id:
        errors["lost_reason"] = _("A lost opportunity needs the reason.")
    return errors


class StageChange(models.Model):
    """One move of an opportunity between stages (funnel, conversion-time and lifecycle reports)."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes",
                                    verbose_name=_("opportunity"))
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("from stage"))
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+", verbose_name=_("to stage"))
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("changed by"))

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage history")
        indexes = [
            models.Index(fields=["opportunity", "changed_at"], name="stagechange_opp_idx"),
            models.Index(fields=["to_stage", "changed_at"], name="stagechange_to_idx"),
        ]

    def __str__(self):
        return f"{self.opportunity_id}: {self.from_stage_id} → {self.to_stage_id}"


class PlanStep(KehuModel):
    """A step of an opportunity's development plan 客户开发计划."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="plan_steps",
                                    verbose_name=_("opportunity"))
    order = models.PositiveIntegerField(_("order"), default=0)
    planned_on = models.DateField(_("planned date"))
    action = models.CharField(_("action"), max_length=300)
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("responsible"))
    result = models.TextField(_("result"), blank=True, help_text=_("Filled in when the step is done."))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True, editable=False)

    scope_owner_field = "opportunity__owner"

    class Meta:
        ordering = ["order", "planned_on", "id"]
        verbose_name = _("plan step")
        verbose_name_plural = _("plan steps")
        indexes = [
            models.Index(fields=["id"], name="plan_alive_id_idx", condition=ALIVE),
            models.Index(fields=["opportunity", "order", "id"], name="plan_opp_idx", condition=ALIVE),
            models.Index(fields=["planned_on", "id"], name="plan_date_idx", condition=ALIVE),
            models.Index(fields=["planned_on"], name="plan_due_idx",
                         condition=Q(deleted_at__isnull=True, done_at__isnull=True)),
            models.Index(fields=["responsible", "planned_on"], name="plan_responsible_idx", condition=ALIVE),
        ]

    def __str__(self):
        return self.action

    @property
    def is_done(self):
        return self.done_at is not None

    @property
    def is_overdue(self):
        return self.done_at is None and self.planned_on < timezone.localdate()

    def clean(self):
        self.action = (self.action or "").strip()
        self.result = (self.result or "").strip()
        if not self.action:
            raise ValidationError({"action": _("Describe the action.")})
        if self.result and self.done_at is None:
            self.done_at = timezone.now()
        elif not self.result:
            self.done_at = None

    def save(self, *args, **kwargs):
        if self.owner_id is None and self.opportunity_id:
            self.owner_id = self.opportunity.owner_id
        super().save(*args, **kwargs)


class PipelineTotal(models.Model):
    """How many live opportunities, and their amounts, each (stage, owner, expected close month,
    open or closed) holds: the pipeline board's column totals and the forecast read these few
    thousand rows instead of aggregating every visible opportunity (~750k at 1M customers).

    Kept by database triggers on sales_opportunity (migration 0007, `kehu.sales.totals`), so every
    write counts: the ORM's saves, soft deletes and restores, QuerySet.update(), deletes, raw SQL
    and the bench generator's COPY. Amounts are kept in cents as integers, exact on both databases.
    `owner_key` is the owner's id, 0 for none; `close_month` is yyyymm, 0 for no expected close."""

    stage_id = models.IntegerField()
    owner_key = models.IntegerField()
    close_month = models.IntegerField()
    is_open = models.BooleanField()
    n = models.BigIntegerField(default=0)
    total_cents = models.BigIntegerField(default=0)
    weighted_cents = models.BigIntegerField(default=0)  # sum of amount in cents × probability (%)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["stage_id", "owner_key", "close_month", "is_open"],
                                               name="pipeline_total_key")]
        indexes = [models.Index(fields=["owner_key", "stage_id"], name="pipeline_total_owner_idx")]
        verbose_name = _("pipeline total")
        verbose_name_plural = _("pipeline totals")

    def __str__(self):
        return f"{self.stage_id}/{self.owner_key}/{self.close_month}: {self.n}"
