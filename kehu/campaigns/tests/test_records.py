"""The generic record-type tests for campaigns and their members (kehu/core/testing/records.py):
UI and API CRUD, the change log, rights and data scope, workflow transitions, export, bulk actions."""

import itertools

import pytest

from kehu.campaigns.testing import make_campaign, make_member
from kehu.core.testing.records import BusinessRecordTests
from kehu.customers.testing import make_customer

pytestmark = pytest.mark.django_db
_seq = itertools.count(1)


class TestCampaign(BusinessRecordTests):
    key = "campaign"
    update = {"name": "秋季新品发布会"}
    invalid = {"end_date": "2020-01-01"}

    def make(self, org, owner):
        return make_campaign(owner, f"活动{next(_seq)}")

    def form_data(self, org):
        return {"name": "华东区客户答谢会", "type": "offline", "start_date": "2026-05-10", "end_date": "2026-05-12",
                "budget": "50000.00", "actual_cost": "0", "expected_revenue": "200000", "owner": org.supervisor.pk}

    def transition_data(self, org, t):
        return {"comment": "预算取消"} if t.name == "cancel" else {}


class TestCampaignMember(BusinessRecordTests):
    key = "campaignmember"
    update = {"notes": "现场留资，关注数控机床"}
    invalid = {"status": "maybe"}

    def make(self, org, owner):
        return make_member(make_campaign(org.supervisor), make_customer(owner))

    def form_data(self, org):
        return {"campaign": make_campaign(org.supervisor).pk, "customer": make_customer(org.manager).pk,
                "status": "invited", "notes": "邀请函已发"}
