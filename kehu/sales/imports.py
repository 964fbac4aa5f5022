"""Import of opportunities (kehu/core/imports), registered from registrations.py. Rows are validated
by OpportunityForm (the customer among those the importing user sees, the stage among the active
ones); the customer is named by its number or name, the stage by its name in either language.
Opportunities have no duplicate rule: every good row is a new opportunity.

`resolve_opportunities`: the opportunity a row of another record names (a follow-up's)."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from kehu.core.imports.base import Importer, register
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
        "stage": ["阶段", "销售阶段", "stage", "deal stage", "stage_id"],
        "amount": ["金额", "预计金额", "amount", "expected revenue", "expected_revenue"],
        "expected_close": ["预计成交日期", "预计签单日期", "close date", "expected closing", "date_deadline"],
        "owner": ["负责人", "销售", "opportunity owner", "deal owner", "user_id"],
    }

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
