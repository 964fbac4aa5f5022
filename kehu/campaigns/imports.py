"""Import of campaign members 活动成员 (kehu/core/imports), registered from registrations.py: the
list of who came to a trade show or answered a mailing, from a spreadsheet. A row names the campaign
(by number or name), the customer (by number or name, among those the importing user sees:
`resolve_customers`), optionally a contact of that customer (by name or mobile), the status and
notes. A customer already in the campaign is a duplicate: skipped, or updated (its status and
notes); never a second member. Undo removes the members the import added and puts an updated one
back as it was."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from kehu.core.imports.base import Importer, register
from kehu.customers.imports import resolve_contacts, resolve_customers

from .forms import CampaignMemberForm
from .models import Campaign, CampaignMember


class ImportMemberForm(CampaignMemberForm):
    """CampaignMemberForm for the import: a customer already in the campaign is matched by the
    import (`find_existing`: skip or update), not refused. Every other rule is the model's.
    (Its own _post_clean makes the engine bind it per row: members come in hundreds, not millions.)"""

    def _post_clean(self):
        self.instance.match_existing = True
        super()._post_clean()


class CampaignMemberImporter(Importer):
    key = "campaignmember"
    form_class = ImportMemberForm
    unique_key = True  # a customer is a member once: "create anyway" skips a known one
    aliases = {
        "campaign": ["活动", "营销活动", "活动名称", "活动编号", "市场活动", "campaign name", "campaign number"],
        "customer": ["客户", "客户名称", "客户编号", "公司", "公司名称", "单位", "customer name", "company", "account",
                     "account name"],
        "contact": ["联系人", "参会人", "参加人", "姓名", "contact name", "attendee"],
        "status": ["状态", "成员状态", "参与状态", "member status", "response"],
        "notes": ["备注", "说明", "remarks", "note", "comments"],
        "tags_text": ["标签", "tags"],
    }

    def resolve_refs(self, rows, ctx):
        self._resolve_campaigns(rows, ctx)
        resolve_customers(rows, ctx)
        resolve_contacts(rows, ctx)
        for row in rows:
            for name in set(row.refs) - {"campaign", "customer", "contact"}:
                row.error(ctx.column_of.get(name, name), _("Cannot be imported."))

    def _resolve_campaigns(self, rows, ctx):
        """A campaign by its number, its name, or both as the list and the export show it ("HD… name",
        `str(campaign)`): one query per batch. A name two campaigns share asks for the number."""
        texts = {row.refs["campaign"] for row in rows if "campaign" in row.refs}
        found: dict[str, list] = {}
        if texts:
            numbers = texts | {t.split(" ", 1)[0] for t in texts}
            for c in Campaign.objects.filter(Q(number__in=numbers) | Q(name__in=texts)):
                for k in {c.number, c.name, str(c)} & texts:
                    found.setdefault(k, []).append(c)
        ctx.refs["campaign"] = {c.pk: c for cs in found.values() for c in cs}
        column = ctx.column_of.get("campaign", "campaign")
        for row in rows:
            text = row.refs.get("campaign")
            if text is None:
                continue
            matches = {c.pk: c for c in found.get(text, [])}
            if len(matches) > 1:
                row.error(column, _("Several campaigns are named “%(name)s”: give the campaign number.") % {"name": text})
            elif not matches:
                row.error(column, _("No campaign “%(name)s”.") % {"name": text})
            else:
                row.data["campaign"] = str(next(iter(matches)))

    def find_existing(self, rows, ctx):
        """A member of the row's campaign with the row's customer: one query for the batch."""
        keys = {}
        for row in rows:
            instance = row.form.instance if row.form is not None else None
            if instance is not None and instance.campaign_id and instance.customer_id:
                keys.setdefault((instance.campaign_id, instance.customer_id), row)
        if not keys:
            return
        campaigns = {c for c, _cu in keys}
        customers = {cu for _c, cu in keys}
        stored = list(CampaignMember.objects.filter(campaign_id__in=campaigns, customer_id__in=customers)
            .select_related("campaign", "customer"))
        visible = set(CampaignMember.objects.visible_to(ctx.user).filter(pk__in=[m.pk for m in stored])
                      .values_list("pk", flat=True))
        for member in stored:
            row = keys.get((member.campaign_id, member.customer_id))
            if row is None or row.existing is not None:
                continue
            shown = member.pk in visible
            label = self.label_of(member) if shown else _("A campaign member outside your data scope")
            row.existing = (member.pk, label, [_("customer already in the campaign")], shown)

    def within_file_keys(self, row):
        data = row.data
        if data.get("campaign") and data.get("customer"):
            return [("member", f"{data['campaign']}:{data['customer']}")]
        return []

    def label_of(self, obj) -> str:
        return f"{obj.campaign.number} {obj.campaign.name} · {obj.customer.name}"


register(CampaignMemberImporter())
