"""Import of opportunities (kehu/core/imports), registered from registrations.py. Rows are validated
by OpportunityForm (the customer among those the importing user sees, the stage among the active
ones); the customer is named by its number or name, the stage by its name in either language.
Opportunities have no duplicate rule: every good row is a new opportunity.

An opportunity of another system's history keeps its dates: when it was created (创建日期) and, in
a won or lost stage, when it closed (关闭日期; else a won deal's signing date, a lost one's expected
close date when that has passed, else now). Its stage history starts then, not at the import. A
won stage makes the customer won, as a win in Kehu does (services.enter_stage); a closed one's
History has an "Imported" row at its closing time, which keeps the customer as it was before the
win, so that undo gives the customer back its type and deal (services.unwin_customer).

`resolve_opportunities`: the opportunity a row of another record names (a follow-up's)."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.imports.base import Importer, aware_time, imported_log, past_date_error, register
from kehu.customers.imports import resolve_among_customers, resolve_customers

from .forms import OpportunityForm
from .models import Opportunity, Stage


def resolve_opportunities(rows, ctx) -> None:
    """The opportunity rows name (`opportunity`), by its number or title among the opportunities of
    the row's customer the user sees: one query per batch. A title two of them share asks for the number."""
    resolve_among_customers(
        rows, ctx, "opportunity", Opportunity.objects.visible_to(ctx.user),
        lambda texts: (Q(number__in=texts) | Q(title__in=texts), lambda o: {o.number, o.title} & texts),
        lambda text: _("Several opportunities of this customer are titled “%(name)s”: give the opportunity "
                       "number.") % {"name": text},
        lambda text: _("The customer has no opportunity “%(name)s”.") % {"name": text})


class OpportunityImporter(Importer):
    key = "opportunity"
    form_class = OpportunityForm
    aliases = {
        "title": ["机会名称", "商机名称", "opportunity name", "opportunity", "deal name", "name"],
        "customer": ["客户", "客户名称", "公司", "account name", "company", "partner_id"],
        "prospect_name": ["潜在客户", "潜在客户名称", "prospect", "prospect name", "lead name"],
        "stage": ["阶段", "销售阶段", "stage", "deal stage", "stage_id"],
        "amount": ["金额", "预计金额", "amount", "expected revenue", "expected_revenue"],
        "expected_close": ["预计成交日期", "预计签单日期", "close date", "expected closing", "date_deadline"],
        "owner": ["负责人", "销售", "opportunity owner", "deal owner", "user_id"],
        "deal_products": ["成交产品", "签约产品", "产品", "products", "products sold"],
        "signed_on": ["签约日期", "签单日期", "合同签订日期", "signed date", "contract date"],
        "lost_reason": ["输单原因", "丢单原因", "失败原因", "lost reason", "loss reason", "closed lost reason"],
        "won_competitor": ["赢单对手", "竞争对手", "competitor"],
        "probability": ["赢率", "成功率", "可能性", "probability (%)"],
        "source": ["来源", "线索来源", "商机来源", "lead source", "source"],
        "description": ["描述", "备注", "说明", "notes"],
        "created_at": ["创建日期", "创建时间", "录入日期", "created date", "created on", "create date", "create_date",
                       "created time"],
        "closed_at": ["关闭日期", "关闭时间", "结束日期", "赢单日期", "输单日期", "成交时间", "closed date", "closed on",
                      "date closed", "date_closed", "actual close date"],
    }

    def extra_fields(self):
        return [*super().extra_fields(), self.time_field("created_at"), self.time_field("closed_at")]

    def prepare_data(self, row, data, ctx):
        """The dates of the opportunity's past (`row.past`), checked: none in the future, the
        closing not before the creation, a closing date only for a won or lost stage."""
        now = timezone.now()
        created = aware_time(data["created_at"]) if data.get("created_at") else None
        closed = aware_time(data["closed_at"]) if data.get("closed_at") else None
        stage = ctx.refs.get("stage", {}).get(int(data["stage"])) if str(data.get("stage") or "").isdigit() else None
        for name, value in (("created_at", created), ("closed_at", closed)):
            problem = past_date_error(value, now)
            if problem:
                row.error(ctx.column_of.get(name, name), problem)
                return
        if closed is not None and stage is not None and not stage.is_closed:
            row.error(ctx.column_of.get("closed_at", "closed_at"),
                      _("An opportunity in the open stage “%(stage)s” has not closed.") % {"stage": stage})
            return
        if stage is not None and stage.is_closed and closed is None:
            day = data.get("signed_on") if stage.is_won else data.get("expected_close")
            closed = aware_time(day) if day else None
            closed = closed if closed is not None and closed <= now else None
        problem = past_date_error(closed, now, created, Opportunity._meta.get_field("created_at").verbose_name)
        if problem:
            row.error(ctx.column_of.get("closed_at", "closed_at"), problem)
            return
        if created is None and closed is not None:
            created = closed  # it cannot have closed before it was opened
        row.past = (created, closed) if created or closed else None

    def before_save(self, row, obj, ctx):
        from kehu.customers.models import Customer

        from .services import deal_before_win

        if row.past is not None:
            obj.created_at, obj.closed_at = row.past[0] or obj.created_at, row.past[1]
        row.customer_before = None
        if obj.stage.is_won:  # what the win changes, for undo (as the win transition keeps it)
            row.customer_before = deal_before_win(Customer.objects.select_related("type").get(
                pk=obj.customer_id)) if obj.customer_id else {"customer_created": True}  # a prospect: made one

    def after_save(self, row, obj, ctx):
        from .models import StageChange

        if row.past is not None:  # its stage since then, not since the import
            StageChange.objects.filter(opportunity=obj).update(changed_at=obj.closed_at or obj.created_at)
        if obj.closed_at is not None:  # it came in closed: the History says so, and keeps what a win changed
            imported_log(obj, str(obj.stage_id), obj.closed_at, ctx.user,
                         {"customer_before": row.customer_before} if row.customer_before else None).save()

    def remove(self, model, ids):
        """Undo: a won opportunity the import created takes its win back from the customer first
        (services.unwin_customer: the customer as it was, unless another won deal keeps it won)."""
        from django.contrib.contenttypes.models import ContentType

        from kehu.core.models import TransitionLog
        from kehu.customers.models import Customer

        from .services import unwin_customer

        if model is not Opportunity:
            return super().remove(model, ids)
        # the customers the import's wins made of prospects: removed with the import, as a record it
        # created (once their opportunities are gone; a record made for them since refuses the undo)
        made = set(TransitionLog.objects.filter(
            content_type=ContentType.objects.get_for_model(Opportunity), object_id__in=ids, transition="import",
            data__customer_before__customer_created=True).values_list("object_id", flat=True))
        made_customers = set(Opportunity.all_objects.filter(pk__in=made).values_list("customer_id", flat=True))
        # newest first: the oldest win's "before" is the customer as it was
        for opp in Opportunity.all_objects.filter(pk__in=ids, stage__is_won=True, customer__isnull=False) \
                .exclude(pk__in=made).order_by("-id"):
            unwin_customer(opp, None, leaving=ids)
        removed = super().remove(model, ids)
        Customer._base_manager.filter(pk__in=made_customers - {None}).delete()
        return removed

    def resolve_refs(self, rows, ctx):
        resolve_customers(rows, ctx)
        if getattr(ctx, "stages", None) is None:  # a few rows, read once per run
            ctx.stages = {}
            for stage in Stage.objects.filter(active=True):
                for name in filter(None, (stage.name, stage.name_en)):
                    ctx.stages.setdefault(name.strip().lower(), stage)
            ctx.refs["stage"] = {s.pk: s for s in ctx.stages.values()}
        column = ctx.column_of.get("stage", "stage")
        for row in rows:
            text = row.refs.get("stage")
            if text is not None:
                stage = ctx.stages.get(text.strip().lower())
                if stage is None:
                    row.error(column, _("No active sales stage “%(name)s”.") % {"name": text})
                else:
                    row.data["stage"] = str(stage.pk)
            for name in set(row.refs) - {"customer", "stage"}:
                row.error(ctx.column_of.get(name, name), _("Cannot be imported."))


register(OpportunityImporter())
