"""What the campaigns app adds to the registries (kehu/core/registries.py)."""

from django.utils.translation import gettext_lazy as _

from kehu.core import registries as r
from kehu.core.registry import BulkAction
from kehu.core.relations import Cascade

from . import imports  # noqa: F401  (the campaign members' importer)

r.default_rights({
    # the sales supervisor plans and runs campaigns and sees the team's members
    "supervisor": ["campaign.*", "campaignmember.*"],
    # account managers see every campaign and put their own customers in them, and mark what they did
    "account_manager": ["campaign.view", "campaignmember.view", "campaignmember.create", "campaignmember.edit",
                        "campaignmember.delete", "campaignmember.export"],
    "executive": ["campaign.view", "campaign.export", "campaignmember.view", "campaignmember.export"],
})
r.dictionary_kind("campaign_channel", _("Campaign channel"), builtin={"other"}, seeds=[
    ("wechat", "微信", "WeChat"), ("email", "邮件", "E-mail"), ("sms", "短信", "SMS"),
    ("trade_show", "展会", "Trade show"), ("seminar", "研讨会", "Seminar"), ("online_ads", "线上广告", "Online ads"),
    ("phone", "电话", "Phone"), ("other", "其他", "Other")])
# the customer's Campaigns tab; a member goes to the recycle bin with its customer or its campaign
r.detail_tab("customer", "campaigns", _("Campaigns"), related="campaignmember", field="customer", order=70)
r.relation("customer", Cascade("campaign_memberships"))


def _add_to_campaign(view, objs, data):
    from .views import add_to_campaign

    return add_to_campaign(view, objs, data)


# the customer list's "Add to campaign…": the customers chosen there become members (views.add_to_campaign)
r.bulk_action("customer", BulkAction("campaign", _("Add to campaign…"), "view", _add_to_campaign,
                                     also=("campaign.view", "campaignmember.create")))
