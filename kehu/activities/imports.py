"""Import of follow-ups (kehu/core/imports), registered from registrations.py: a history of calls
and visits brought from a spreadsheet or another CRM. Rows are validated by FollowUpForm; the
customer is named by its number or name (among those the importing user sees), the contact by its
name or mobile and the opportunity by its number or title, both among the customer's; the time
with its time of day, in the importing user's time zone. Follow-ups have no duplicate rule."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kehu.core.imports.base import Importer, register
from kehu.customers.imports import resolve_contacts, resolve_customers
from kehu.sales.imports import resolve_opportunities

from .forms import FollowUpForm


class FollowUpImporter(Importer):
    key = "followup"
    form_class = FollowUpForm
    aliases = {
        "customer": ["客户", "客户名称", "公司", "account name", "company", "related to"],
        "occurred_at": ["跟进时间", "时间", "日期", "date", "activity date", "due date"],
        "method": ["跟进方式", "方式", "类型", "type", "activity type"],
        "topic": ["主题", "标题", "subject", "summary"],
        "content": ["内容", "跟进内容", "描述", "description", "notes", "comments"],
        "next_action": ["下一步", "下一步计划", "next step"],
        "contact": ["联系人", "contact name"],
        "opportunity": ["销售机会", "商机", "机会", "deal", "opportunity name"],
    }

    def resolve_refs(self, rows, ctx):
        resolve_customers(rows, ctx)
        resolve_contacts(rows, ctx)
        resolve_opportunities(rows, ctx)
        for row in rows:
            for name in set(row.refs) - {"customer", "contact", "opportunity"}:
                row.error(ctx.column_of.get(name, name), _("Cannot be imported."))


register(FollowUpImporter())
