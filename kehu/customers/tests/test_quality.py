"""Data quality 数据校验 (issue 15): the set-based duplicate scan over the whole customer table,
invalid phones and e-mails stored before validation, missing fields, the page in the user's data
scope with a merge per group, and the weekly e-mail through a real SMTP server. Runs on SQLite and
(DATABASE_URL=postgres://…) on PostgreSQL."""

import datetime
import time
from email.header import decode_header, make_header

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kehu.core.testing.smtp import smtp_fixture
from kehu.customers import quality
from kehu.customers.models import Contact, Customer, QualityDismissal, QualityIssue, QualityScan
from kehu.customers.testing import make_contact, make_customer


def raw(customer, **values):
    """Values written past validation, as an old system or a direct SQL load left them."""
    Customer.all_objects.filter(pk=customer.pk).update(**values)


@pytest.fixture
def seeded(org):
    """Customers of the manager (sales1, seen by the supervisor) and of manager2 (sales2)."""
    m, m2 = org.manager, org.manager2
    s = {}
    s["p1"] = make_customer(m, "甲公司", phone="13912345678", industry=None)
    s["p2"] = make_customer(m, "乙公司", phone="139 1234 5678")  # the same number, as typed
    s["p3"] = make_customer(m2, "丙公司", phone="+8613912345678")  # same phone, other department
    s["e1"] = make_customer(m, "丁公司", email="Info@Huadong.cn")
    s["e2"] = make_customer(m, "戊公司", email="info@huadong.cn")  # e-mail differs only in case
    s["n1"] = make_customer(m2, "华东精密机械有限公司")
    s["n2"] = make_customer(m2, "华东精密机械有限公司")
    s["n3"] = make_customer(m, "华东精密机械有限公司")
    gone = make_customer(m, "已删除公司", phone="13700001111")
    twin = make_customer(m, "已删除公司二", phone="13700001111")
    Customer.all_objects.filter(pk=gone.pk).update(deleted_at=timezone.now())  # the recycle bin: not a duplicate
    s["twin"] = twin
    s["bad_phone"] = make_customer(m, "坏电话公司")
    raw(s["bad_phone"], phone="12345")
    s["bad_email"] = make_customer(m2, "坏邮箱公司")
    raw(s["bad_email"], email="sales@@example..cn")
    s["foreign"] = make_customer(m, "海外公司", phone="+14155552671", email="o'brien+crm@example.co.uk")
    contact = make_contact(s["e1"], "王芳", mobile="13812345678", email="wf@example.cn")
    Contact.all_objects.filter(pk=contact.pk).update(mobile="138-1234", email="wf at example.cn")
    s["contact"] = contact
    # similar names: one company written two ways (place in front or in brackets, another legal form)
    s["hw1"] = make_customer(m, "北京华为技术有限公司")
    s["hw2"] = make_customer(m, "华为技术(北京)有限公司")
    s["hw3"] = make_customer(m2, "华为技术（北京）股份有限公司")
    s["hd1"] = make_customer(m, "上海宏达贸易有限公司")
    s["hd2"] = make_customer(m2, "宏达贸易（上海）有限公司")
    s["br1"] = make_customer(m2, "Blue River Trading Co., Ltd.")
    s["br2"] = make_customer(m2, "Blue River Tradings Ltd")  # a typo: keys differ, ratio 97
    # unrelated: another place, another trade, other numbers, another brand, one word of three another
    # (most letters shared), a city that is part of the name after the place (厦门金昌: 金昌 is a city too)
    for name in ("上海华为技术有限公司", "宏达物流（上海）有限公司", "华信1号仓储有限公司", "华信2号仓储有限公司",
                 "北京华信科技有限公司", "Huawei Technologies (Shanghai) Co., Ltd.", "Huawei Technologies (Beijing) Co., Ltd.",
                 "Evergreen Bay Manufacturing Inc.", "Evergreen Light Manufacturing Inc.", "厦门金昌信息技术有限公司",
                 "金昌信息技术有限公司"):
        s[name] = make_customer(m, name)
    return s


def groups_of(scan, user, kind):
    return {g["key"]: sorted(c.name for c in g["customers"]) for g in quality.groups(scan, user, kind, limit=100)}


@pytest.mark.django_db
def test_the_scan_finds_duplicate_groups_in_the_database(org, seeded):
    with CaptureQueriesContext(connection) as queries:
        scan = quality.run_scan()
    assert scan.status == QualityScan.Status.DONE, scan.error
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT INTO \"customers_qualityissue\"")
               or q["sql"].startswith("INSERT INTO customers_qualityissue")]
    assert sum("GROUP BY" in sql for sql in inserts) == 3  # one set-based statement per kind of duplicate
    assert scan.counts["groups"] == {"dup_phone": 1, "dup_email": 1, "dup_name": 1, "dup_similar": 3}
    assert scan.counts["in_groups"] == {"dup_phone": 3, "dup_email": 2, "dup_name": 3, "dup_similar": 7}
    assert groups_of(scan, org.admin, "dup_phone") == {"+8613912345678": ["丙公司", "乙公司", "甲公司"]}
    assert groups_of(scan, org.admin, "dup_email") == {"info@huadong.cn": ["丁公司", "戊公司"]}
    assert groups_of(scan, org.admin, "dup_name") == {"华东精密机械有限公司": ["华东精密机械有限公司"] * 3}
    assert scan.counts["seconds"]["duplicates"] >= 0


@pytest.mark.django_db
def test_similar_names_are_grouped_by_key_and_score(org, seeded):
    scan = quality.run_scan()
    assert scan.status == QualityScan.Status.DONE, scan.error
    # the pairs of the issue, a third spelling, and a typo; not: another place (上海华为), another trade
    # (宏达物流), other numbers (华信1号 / 华信2号), and the same-name group (华东精密机械 ×3: dup_name's)
    assert groups_of(scan, org.admin, "dup_similar") == {
        "华为技术|北京": ["北京华为技术有限公司", "华为技术(北京)有限公司", "华为技术（北京）股份有限公司"],
        "宏达贸易|上海": ["上海宏达贸易有限公司", "宏达贸易（上海）有限公司"],
        "blue river trading": ["Blue River Trading Co., Ltd.", "Blue River Tradings Ltd"],
    }
    labels = {g["key"]: g["label"] for g in quality.groups(scan, org.admin, "dup_similar")}
    assert labels["华为技术|北京"] == "华为技术（北京）"
    assert quality.summary(scan, org.admin)["duplicates"]["dup_similar"] == {"groups": 3, "customers": 7}


@pytest.mark.django_db
def test_the_name_key_is_kept_by_save_and_filled_by_the_migration(org):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    from kehu.customers import normalize

    c = make_customer(org.manager, "北京华为技术有限公司")
    assert Customer.objects.get(pk=c.pk).name_key == "华为技术|北京"
    c.name = "宏达贸易（上海）有限公司"
    c.save(update_fields=["name"])
    assert Customer.objects.get(pk=c.pk).name_key == "宏达贸易|上海" == normalize.name_key(c.name)
    other = make_customer(org.manager, "Huawei Technologies (Shanghai) Co., Ltd.")
    assert other.name_key == normalize.name_key("Shanghai Huawei Technologies Co., Ltd.") == "huawei technologies|上海"
    Customer.all_objects.update(name_key="")  # as the column is right after it was added
    migration = importlib.import_module("kehu.customers.migrations.0016_name_key")
    migration.fill_keys(apps, SimpleNamespace(connection=connection))  # what it uses of the schema editor
    assert dict(Customer.objects.values_list("id", "name_key")) == {c.pk: "宏达贸易|上海",
                                                                   other.pk: "huawei technologies|上海"}


def test_a_group_is_a_key_and_its_similar_keys_never_a_chain():
    # a ~ b and b ~ c, but a is not similar to c: two groups at most, each similar to its first key
    keys = ["abcdefghij", "abcdefghiz", "abcdefghyz", "abcdefgxyz"]
    from rapidfuzz import fuzz

    assert fuzz.ratio(keys[0], keys[1]) >= 85 and fuzz.ratio(keys[1], keys[2]) >= 85 and fuzz.ratio(keys[0], keys[2]) < 85
    groups = quality._components(keys, 85)
    assert groups == [[0, 1], [2, 3]]


@pytest.mark.django_db
def test_a_large_block_is_cut_and_still_groups(org, monkeypatch):
    # more keys in a block than BLOCK_LIMIT: cut by the next character, the groups stay the same
    for name in ("华为技术有限公司", "华为技术股份有限公司 ", "华为技朮有限公司", "华信科技有限公司", "华信科技（集团）有限公司",
                 "华丰食品有限公司", "华美家具有限公司"):
        make_customer(org.manager, name)
    expected = {"华为技术": ["华为技术有限公司", "华为技术股份有限公司"], "华信科技": ["华信科技有限公司", "华信科技（集团）有限公司"]}
    for limit in (2000, 2):
        monkeypatch.setattr(quality, "BLOCK_LIMIT", limit)
        QualityIssue.objects.all().delete()
        scan = quality.run_scan()
        assert groups_of(scan, org.admin, "dup_similar") == expected, limit


@pytest.mark.django_db
def test_the_create_time_check_finds_the_same_similar_names(org):
    from kehu.customers.services import find_duplicates

    make_customer(org.manager, "北京华为技术有限公司")
    make_customer(org.manager, "华信1号仓储有限公司")
    found = find_duplicates(name="华为技术（北京）有限公司", user=org.admin)
    assert [d.customer.name for d in found] == ["北京华为技术有限公司"] and "100" in str(found[0].reasons[0])
    assert find_duplicates(name="上海华为技术有限公司", user=org.admin) == []  # another place
    assert find_duplicates(name="华信2号仓储有限公司", user=org.admin) == []  # another number


@pytest.mark.django_db
def test_the_number_of_statements_does_not_grow_with_the_table(org):
    def statements():
        QualityIssue.objects.all().delete()
        scan = QualityScan.objects.create()
        with CaptureQueriesContext(connection) as queries:
            quality.scan_duplicates(scan)
        return len(queries.captured_queries)

    make_customer(org.manager, "重复名称", phone="13911110000")
    make_customer(org.manager, "重复名称", phone="13911110000")
    few = statements()
    for i in range(40):
        make_customer(org.manager, f"重复{i % 5}号", phone=f"1391111{i % 7:04d}")
    assert statements() == few


@pytest.mark.django_db
def test_invalid_phones_and_e_mails_left_from_before_validation(org, seeded):
    scan = quality.run_scan()
    bad = {(i.kind, i.key, i.field, i.contact_id) for i in QualityIssue.objects.filter(scan=scan, kind__startswith="bad")}
    c = seeded["contact"]
    assert bad == {("bad_phone", "12345", "phone", None), ("bad_email", "sales@@example..cn", "email", None),
                   ("bad_phone", "138-1234", "mobile", c.pk), ("bad_email", "wf at example.cn", "email", c.pk)}
    assert scan.counts["invalid"] == {"bad_phone": 2, "bad_email": 2}


def test_the_phone_pattern_is_phonenumbers_own():
    import re

    import phonenumbers

    pattern = re.compile(quality.phone_pattern("CN"))
    for number in ("+8613912345678", "+862162345678", "+8610888866666"[:-1], "+864008001234"):
        parsed = phonenumbers.parse(number, "CN")
        assert bool(pattern.match(number)) == phonenumbers.is_valid_number(parsed), number
    assert not pattern.match("+8612345") and not pattern.match("13912345678")


@pytest.mark.django_db
def test_a_supervisor_sees_the_groups_of_their_department(client, org, seeded):
    scan = quality.run_scan()
    # the phone group has two customers in sales1 and one in sales2: the supervisor sees two of them
    assert groups_of(scan, org.supervisor, "dup_phone") == {"+8613912345678": ["乙公司", "甲公司"]}
    # the name group has one customer in sales1: no group for the supervisor
    assert groups_of(scan, org.supervisor, "dup_name") == {}
    # similar names: two of the three 华为 in sales1; one 宏达 each side, the Blue Rivers in sales2
    assert groups_of(scan, org.supervisor, "dup_similar") == {
        "华为技术|北京": ["北京华为技术有限公司", "华为技术(北京)有限公司"]}
    assert quality.summary(scan, org.supervisor)["duplicates"]["dup_similar"] == {"groups": 1, "customers": 2}
    s = quality.summary(scan, org.supervisor)
    assert s["duplicates"]["dup_phone"] == {"groups": 1, "customers": 2}
    assert s["invalid"] == {"bad_phone": 2, "bad_email": 1}  # the e-mail of 坏邮箱公司 is sales2's
    assert quality.summary(scan, org.admin)["invalid"] == {"bad_phone": 2, "bad_email": 2}
    client.force_login(org.supervisor)
    page = client.get(reverse("customers:quality") + "?tab=dup_name")
    assert page.status_code == 200 and "华东精密机械有限公司" not in page.content.decode()
    page = client.get(reverse("customers:quality") + "?tab=dup_phone").content.decode()
    assert "甲公司" in page and "丙公司" not in page
    page = client.get(reverse("customers:quality") + "?tab=dup_similar").content.decode()
    assert "华为技术(北京)有限公司" in page and "股份有限公司" not in page and "宏达贸易" not in page
    assert 'data-testid="count-dup_similar">1<' in page
    for user in (org.manager, org.executive, org.nobody):  # neither administrators nor supervisors
        client.force_login(user)
        assert client.get(reverse("customers:quality")).status_code == 403


@pytest.mark.django_db
def test_missing_fields_per_scope_and_the_filtered_list(client, org, seeded):
    from kehu.core.models import CustomField

    CustomField.objects.create(record_type="customers.customer", name="taxno", label="税号", required=True)
    make_customer(org.manager, "有税号公司", custom_fields={"taxno": "9131"})
    scan = quality.run_scan()
    admin, sup = quality.summary(scan, org.admin), quality.summary(scan, org.supervisor)
    total = Customer.objects.count()
    assert admin["customers"] == total
    assert admin["missing"]["cf_taxno"] == total - 1
    assert admin["missing"]["contact_person"] == total - 1  # only 丁公司 has a contact
    assert admin["missing"]["contact_details"] == Customer.objects.filter(phone="", email="").count()
    mine = Customer.objects.filter(owner__in=[org.manager, org.supervisor])
    assert sup["customers"] == mine.count() and sup["missing"]["industry"] == mine.filter(industry=None).count()
    client.force_login(org.supervisor)
    page = client.get(reverse("customers:quality") + "?tab=missing").content.decode()
    assert "?missing=cf_taxno" in page and "税号" in page
    listed = client.get(reverse("customers:customer_list") + "?missing=contact_person&format=csv")
    names = b"".join(listed.streaming_content).decode("utf-8-sig") if listed.streaming else listed.content.decode()
    assert "甲公司" in names and "丁公司" not in names and "丙公司" not in names
    listed = client.get(reverse("customers:customer_list") + "?quality=dup_phone&format=csv")
    names = b"".join(listed.streaming_content).decode("utf-8-sig") if listed.streaming else listed.content.decode()
    assert "甲公司" in names and "乙公司" in names and "丁公司" not in names


@pytest.mark.django_db
def test_a_group_is_merged_from_the_page(client, org, seeded):
    scan = quality.run_scan()
    keep, other = seeded["p1"], seeded["p2"]
    make_contact(other, "李四", mobile="13600001234")
    client.force_login(org.supervisor)
    response = client.post(reverse("customers:quality_merge"), {
        "keep": keep.pk, "pk": [keep.pk, other.pk, seeded["p3"].pk], "next": reverse("customers:quality")})
    assert response.status_code == 302
    other = Customer.all_objects.get(pk=other.pk)
    assert other.deleted_at is not None and other.merged_into_id == keep.pk
    assert Contact.objects.get(name="李四").customer_id == keep.pk
    assert Customer.objects.filter(pk=seeded["p3"].pk).exists()  # outside the supervisor's scope: untouched
    assert groups_of(scan, org.supervisor, "dup_phone") == {}  # one customer left of it in the scope
    assert groups_of(scan, org.admin, "dup_phone") == {"+8613912345678": ["丙公司", "甲公司"]}
    client.force_login(org.admin)
    page = client.get(reverse("customers:quality") + "?tab=dup_phone").content.decode()
    assert 'data-testid="merge-group"' in page


@pytest.mark.django_db
def test_a_similar_name_group_is_merged_from_the_page(client, org, seeded):
    scan = quality.run_scan()
    keep, others = seeded["hw1"], [seeded["hw2"], seeded["hw3"]]
    client.force_login(org.admin)
    page = client.get(reverse("customers:quality") + "?tab=dup_similar").content.decode()
    assert f'data-testid="keep-{keep.pk}"' in page and "华为技术（北京）" in page
    response = client.post(reverse("customers:quality_merge"), {
        "keep": keep.pk, "pk": [keep.pk] + [o.pk for o in others], "next": reverse("customers:quality")})
    assert response.status_code == 302
    assert all(Customer.all_objects.get(pk=o.pk).merged_into_id == keep.pk for o in others)
    assert "华为技术|北京" not in groups_of(scan, org.admin, "dup_similar")
    listed = client.get(reverse("customers:customer_list") + "?quality=dup_similar&format=csv")
    names = b"".join(listed.streaming_content).decode("utf-8-sig") if listed.streaming else listed.content.decode()
    assert "上海宏达贸易有限公司" in names and "北京华信科技有限公司" not in names


@pytest.mark.django_db
def test_a_group_dismissed_as_not_duplicates_stays_away_until_another_customer_joins(client, org, seeded):
    scan = quality.run_scan()
    hd1, hd2 = seeded["hd1"], seeded["hd2"]
    client.force_login(org.supervisor)  # sees one of the two: nothing to dismiss
    response = client.post(reverse("customers:quality_dismiss"),
                           {"kind": "dup_similar", "key": "宏达贸易|上海", "pk": [hd1.pk, hd2.pk]})
    assert response.status_code == 302 and not QualityDismissal.objects.exists()
    client.force_login(org.admin)
    page = client.get(reverse("customers:quality") + "?tab=dup_similar").content.decode()
    assert 'data-testid="dismiss-group"' in page
    client.post(reverse("customers:quality_dismiss"), {"kind": "dup_similar", "key": "宏达贸易|上海",
                                                      "pk": [hd1.pk, hd2.pk], "next": reverse("customers:quality")})
    dismissal = QualityDismissal.objects.get()
    assert dismissal.customers == sorted([hd1.pk, hd2.pk]) and dismissal.dismissed_by == org.admin
    assert "宏达贸易|上海" not in groups_of(scan, org.admin, "dup_similar")
    page = client.get(reverse("customers:quality") + "?tab=dup_similar").content.decode()
    assert "上海宏达贸易有限公司" not in page and "北京华为技术有限公司" in page
    scan = quality.run_scan()  # the next scan leaves it out too
    assert "宏达贸易|上海" not in groups_of(scan, org.admin, "dup_similar") and scan.counts["dismissed"] == 1
    assert quality.summary(scan, org.admin)["duplicates"]["dup_similar"]["groups"] == 2
    make_customer(org.manager, "上海宏达贸易股份有限公司")  # a third one: the group is back, all three
    scan = quality.run_scan()
    assert groups_of(scan, org.admin, "dup_similar")["宏达贸易|上海"] == [
        "上海宏达贸易有限公司", "上海宏达贸易股份有限公司", "宏达贸易（上海）有限公司"]


@pytest.mark.django_db
def test_the_scan_button_runs_one_scan_at_a_time_in_the_worker(client, org, seeded, django_capture_on_commit_callbacks):
    client.force_login(org.admin)
    page = client.get(reverse("customers:quality"))
    assert page.status_code == 200 and b'data-testid="quality-summary"' not in page.content  # no scan yet
    assert b'data-testid="quality-first"' in page.content  # what the scan looks for, before the first one
    with django_capture_on_commit_callbacks(execute=True):  # the tests' task backend runs it at once
        response = client.post(reverse("customers:quality_scan"))
    assert response.status_code == 302
    scan = QualityScan.objects.get()
    assert scan.status == QualityScan.Status.DONE and scan.requested_by == org.admin
    page = client.get(reverse("customers:quality")).content.decode()
    assert 'data-testid="count-dup_phone">1<' in page and 'data-testid="quality-first"' not in page
    running = QualityScan.objects.create(status=QualityScan.Status.RUNNING)
    assert quality.start_scan(org.admin) is None  # a second click while one runs
    page = client.get(reverse("customers:quality"))
    assert b'data-testid="quality-status"' in page.content and b"hx-trigger" in page.content
    # a scan whose worker died is given up after STALE_MINUTES, and a new one may start
    QualityScan.objects.filter(pk=running.pk).update(started_at=timezone.now() - datetime.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert quality.start_scan(org.admin) is not None
    assert QualityScan.objects.get(pk=running.pk).status == QualityScan.Status.FAILED
    assert not QualityIssue.objects.filter(scan=scan).exists()  # only the last scan's issues are kept


smtp = pytest.fixture(smtp_fixture, name="smtp")


def received(collector, n):
    deadline = time.monotonic() + 10
    while len(collector.messages) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(collector.messages) == n
    return collector.messages


@pytest.mark.django_db
def test_the_weekly_mail_reaches_administrators_and_supervisors(org, seeded, smtp, settings):
    from kehu.core import registries

    assert "kehu.customers.tasks.quality_daily" in {j.task.module_path for j in registries.jobs.values()}
    settings.KEHU_QUALITY_MAIL_WEEKDAY = 0
    org.supervisor.language = "zh-hans"
    org.supervisor.save()
    org.admin.language = "en"
    org.admin.save()
    monday = timezone.make_aware(datetime.datetime(2026, 11, 30, 5, 0))
    result = quality.daily(monday)
    assert result["mailed"] == 2
    messages = {rcpt[0]: msg for rcpt, msg in received(smtp, 2)}
    assert set(messages) == {org.admin.email, org.supervisor.email}
    zh = messages[org.supervisor.email]
    body = zh.get_payload(decode=True).decode("utf-8")
    assert "/customers/quality/" in body and "行业" in body  # in the supervisor's language
    en = messages[org.admin.email].get_payload(decode=True).decode("utf-8")
    assert str(make_header(decode_header(messages[org.admin.email]["Subject"]))).startswith("Weekly data quality")
    assert "Industry" in en
    assert "Same phone — groups: 1, customers: 3" in en and "Invalid e-mail: 2" in en
    assert "Similar name — groups: 3, customers: 7" in en
    # the supervisor's counts are their department's
    assert quality.summary(quality.last_scan(), org.supervisor)["duplicates"]["dup_phone"]["customers"] == 2
    # the next days of the week: a scan, no mail; the next Monday: a mail again
    assert quality.daily(monday + datetime.timedelta(days=1))["mailed"] == 0
    assert quality.daily(monday + datetime.timedelta(days=7))["mailed"] == 2
    received(smtp, 4)


@pytest.mark.django_db
def test_missing_contact_details_with_a_date_range_reads_the_date_index(org, seeded):
    """Issue 17: without a histogram SQLite judged `email = ''` (a fifth of all customers) by the
    e-mail index's two rows per value, read every customer without one and sorted them: 300 ms at
    1M with a one-month creation filter. The condition is tested on the rows the date index reads."""
    import json
    from pathlib import Path

    from django.http import QueryDict

    from kehu.core import statistics
    from kehu.core.filters import list_queryset
    from kehu.core.registry import registry
    from kehu.core.testing.plans import plan

    fs, qs = list_queryset(registry.get("customer"), org.admin,
                           QueryDict("missing=contact_details&created_after=2024-03-01&created_before=2024-03-31"))
    assert not fs.errors
    no_details = make_customer(org.manager, "无联系方式公司")
    Customer.objects.filter(pk=no_details.pk).update(created_at=datetime.datetime(2024, 3, 5, tzinfo=datetime.UTC))
    assert list(qs.values_list("pk", flat=True)) == [no_details.pk]
    if connection.vendor != "sqlite":
        # a rep's: PostgreSQL ANDed the month with a bitmap of every customer without a phone (200,000
        # at 1M, 19 ms); the partial index holds only the customers lacking both, by owner and date
        _fs, mine = list_queryset(registry.get("customer"), org.manager, QueryDict(
            "missing=contact_details&created_after=2024-03-01&created_before=2024-03-31"))
        text = plan(mine.values("pk")[:51])
        assert "cust_missing_contact_idx" in text and "cust_phone_idx" not in text, text
        return
    figures = json.loads((Path(statistics.__file__).parent / "tests" / "planner_figures.json").read_text())
    statistics.load_figures({"customers_customer": figures["figures"]["customers_customer"]})
    try:
        text = plan(qs.order_by("-id").values("pk")[:51])
    finally:
        statistics.forget_figures()
    assert "cust_email_idx" not in text and "cust_phone_idx" not in text, text
    assert "cust_created_idx" in text, text


@pytest.mark.django_db
def test_the_create_time_check_reads_the_names_next_to_the_key_however_common_their_beginning(org):
    """A name's beginning shared by many customers ("Atlas …"): the similar names are the keys next
    to the new one in the name-key index, read as two index ranges. Before, only the newest 200
    customers holding the first four characters were compared, so an older duplicate was missed."""
    from django.test.utils import CaptureQueriesContext

    from kehu.customers import normalize
    from kehu.customers.services import find_duplicates

    old = make_customer(org.manager, "Atlas Star Electronics Co., Ltd.")
    names = [f"Atlas Harbour Trading {i:03d} Ltd." for i in range(210)]
    Customer.objects.bulk_create([
        Customer(name=n, number=f"KHT{i:05d}", owner=org.manager, name_key=normalize.name_key(n),
                 search_text=n.lower()) for i, n in enumerate(names)])
    with CaptureQueriesContext(connection) as queries:
        found = find_duplicates(name="Atlas Star Electronics Limited", user=org.admin)
    assert [d.customer.pk for d in found] == [old.pk]
    ranges = [q["sql"] for q in queries.captured_queries
              if '"customers_customer"."name_key" >=' in q["sql"] or '"customers_customer"."name_key" <' in q["sql"]]
    assert len(ranges) == 2 and all(s.endswith("LIMIT 50") for s in ranges), ranges
