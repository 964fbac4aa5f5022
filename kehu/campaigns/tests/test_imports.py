"""Import of campaign members (issue 15): campaign and customer by number or name, a contact of the
customer, the status in either language, Chinese and English headers; a bad row with its reason; a
customer already in the campaign skipped or updated; undo."""

import pytest
from django.utils import translation

from kehu.campaigns.models import CampaignMember
from kehu.campaigns.testing import make_campaign, make_member
from kehu.core.imports import jobs
from kehu.core.models import ImportJob
from kehu.core.testing.imports import csv_bytes, run, xlsx_bytes
from kehu.customers.testing import make_contact, make_customer

pytestmark = pytest.mark.django_db
HEADER = ["活动", "客户名称", "联系人", "状态", "备注"]


@pytest.fixture
def fair(org):
    from types import SimpleNamespace

    s = SimpleNamespace()
    s.campaign = make_campaign(org.supervisor, "上海工业博览会")
    s.east = make_customer(org.manager, "华东精密机械有限公司")
    s.north = make_customer(org.manager, "北方重工集团")
    s.south = make_customer(org.manager, "南方电子科技")
    s.theirs = make_customer(org.manager2, "别组的客户")
    s.buyer = make_contact(s.east, "王采购", mobile="13800138000")
    return s


def test_members_from_a_csv_with_chinese_headers(org, fair):
    s = fair
    rows = [HEADER,
            ["上海工业博览会", "华东精密机械有限公司", "王采购", "已转化", "现场签单"],
            [s.campaign.number, s.north.number, "", "已响应", ""],  # by numbers
            ["上海工业博览会", "南方电子科技", "", "", ""],  # an empty status: invited
            ["上海工业博览会", "别组的客户", "", "已邀请", ""],  # another rep's customer: not in the scope
            ["上海工业博览会", "华东精密机械有限公司", "", "已邀请", ""],  # the same customer again in the file
            ["没有这个活动", "北方重工集团", "", "", ""],
            ["上海工业博览会", "北方重工集团", "王采购", "", ""]]  # a contact of another customer
    job = run(org.manager, csv_bytes(rows), filename="成员.csv", key="campaignmember")
    assert job.status == ImportJob.Status.DONE, (job.error, job.errors)
    assert (job.created, job.failed_rows) == (3, 3), job.errors
    members = {m.customer: m for m in CampaignMember.objects.filter(campaign=s.campaign)}
    assert set(members) == {s.east, s.north, s.south}
    east = members[s.east]
    assert (east.status, east.contact, east.notes, east.owner) == ("converted", s.buyer, "现场签单", org.manager)
    assert east.responded_at is not None and east.converted_at is not None  # the times, as the UI sets them
    assert members[s.north].status == "responded" and members[s.north].converted_at is None
    assert members[s.south].status == "invited"
    reasons = {e["line"]: " ".join(str(v) for v in e.values()) for e in job.errors}
    assert "scope" in reasons[5]
    assert "No campaign" in reasons[7]
    assert "no contact" in reasons[8]


def test_english_headers_from_an_xlsx(org, fair):
    s = fair
    rows = [["Campaign", "Customer", "Contact", "Status", "Notes"],
            [s.campaign.number, s.east.name, "13800138000", "Responded", "met at the booth"]]
    job = run(org.manager, xlsx_bytes(rows), filename="members.xlsx", key="campaignmember")
    assert (job.status, job.created, job.failed_rows) == (ImportJob.Status.DONE, 1, 0), job.errors
    member = CampaignMember.objects.get(campaign=s.campaign, customer=s.east)
    assert (member.contact, member.status, member.notes) == (s.buyer, "responded", "met at the booth")


def test_a_member_already_in_the_campaign_is_skipped_or_updated_and_undo_puts_it_back(org, fair):
    s = fair
    known = make_member(s.campaign, s.east, notes="邀请函已发")
    rows = [HEADER, ["上海工业博览会", "华东精密机械有限公司", "", "已转化", "签单"],
            ["上海工业博览会", "北方重工集团", "", "", ""]]
    job = run(org.manager, csv_bytes(rows), key="campaignmember", duplicates="create")  # once per campaign
    assert (job.created, job.skipped, job.duplicate_rows, job.failed_rows) == (1, 1, 1, 0), job.errors
    assert "华东精密机械有限公司" in job.duplicates_found[0]["label"]
    assert CampaignMember.objects.filter(campaign=s.campaign, customer=s.east).count() == 1
    known.refresh_from_db()
    assert known.status == "invited"
    job = run(org.manager, csv_bytes(rows[:2]), key="campaignmember", duplicates="update")
    assert (job.updated, job.created, job.failed_rows) == (1, 0, 0), job.errors
    known.refresh_from_db()
    assert (known.status, known.notes) == ("converted", "签单") and known.converted_at is not None
    with translation.override("en"):
        jobs.undo(job, org.manager)
    known.refresh_from_db()
    assert (known.status, known.notes, known.converted_at) == ("invited", "邀请函已发", None)


def test_undo_removes_the_members_the_import_added(org, fair):
    rows = [HEADER, ["上海工业博览会", "华东精密机械有限公司", "", "", ""], ["上海工业博览会", "北方重工集团", "", "", ""]]
    job = run(org.manager, csv_bytes(rows), key="campaignmember")
    assert job.created == 2
    with translation.override("en"):
        jobs.undo(job, org.manager)
    assert not CampaignMember.all_objects.filter(campaign=fair.campaign).exists()


def test_a_dry_run_writes_nothing_and_lists_the_bad_rows(org, fair):
    rows = [HEADER, ["上海工业博览会", "华东精密机械有限公司", "", "不知道", ""]]
    job = run(org.manager, csv_bytes(rows), key="campaignmember", dry_only=True)
    assert job.failed_rows == 1 and not CampaignMember.objects.exists()
