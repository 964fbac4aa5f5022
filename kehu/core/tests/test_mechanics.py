"""Core mechanics: custom fields, data dictionary, attachments, export safety, keyset pagination,
notifications, recycle bin, audit log and real SMTP delivery."""

import csv
import io
import os
import time

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from kehu.core.models import Attachment, CustomField, DictItem, Notification
from kehu.core.services import notify
from kehu.core.testing.factories import auth
from kehu.core.testing.smtp import Collector, free_port
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer

API = "/api/v1/customers/"


def ui(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(user) -> Client:
    return Client(**auth(user))


def form_data(org, **extra):
    data = {"name": "自定义字段客户有限公司", "owner": org.manager.pk, "country": "中国", "status": "active",
            "type": DictItem.objects.get(kind="customer_type", code="potential").pk}
    data.update(extra)
    return data


def media_files(settings):
    root = settings.MEDIA_ROOT
    return [os.path.join(d, f) for d, _dirs, files in os.walk(root) for f in files] if os.path.isdir(root) else []


# --- custom fields -------------------------------------------------------------------

@pytest.fixture
def custom_fields(db):
    rt = "customers.customer"
    return {
        "code": CustomField.objects.create(record_type=rt, name="code", label="内部编码", field_type="text"),
        "headcount": CustomField.objects.create(record_type=rt, name="headcount", label="采购人数",
                                                field_type="integer"),
        "tier": CustomField.objects.create(record_type=rt, name="tier", label="客户层级", field_type="choice",
                                           choices=["gold", "silver"]),
        "region_code": CustomField.objects.create(record_type=rt, name="region_code", label="大区编码",
                                                  field_type="text", required=True),
    }


def test_custom_fields_in_form_validated_and_saved_ui(org, custom_fields):
    client = ui(org.manager)
    form = client.get("/customers/add/").context["form"]
    for key in ("cf_code", "cf_headcount", "cf_tier", "cf_region_code"):
        assert key in form.fields
    assert form.fields["cf_region_code"].required
    assert 'name="cf_headcount"' in client.get("/customers/add/").content.decode()

    response = client.post("/customers/add/", form_data(org, cf_headcount="many", cf_tier="platinum"))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"cf_region_code", "cf_headcount", "cf_tier"} <= set(errors)
    assert not Customer.objects.exists()

    response = client.post("/customers/add/", form_data(org, cf_code="A-7", cf_headcount="42", cf_tier="gold",
                                                        cf_region_code="N1"))
    assert response.status_code == 302
    c = Customer.objects.get()
    assert c.custom_fields == {"code": "A-7", "headcount": 42, "tier": "gold", "region_code": "N1"}
    # the detail page shows them
    content = client.get(f"/customers/{c.pk}/").content.decode()
    assert "采购人数" in content and "A-7" in content
    # editing keeps the values and validates again
    response = client.post(f"/customers/{c.pk}/edit/", form_data(org, cf_code="A-8", cf_headcount="x",
                                                                  cf_region_code="N1"))
    assert response.status_code == 200
    assert "cf_headcount" in response.context["form"].errors
    c.refresh_from_db()
    assert c.custom_fields["code"] == "A-7"


def test_custom_fields_api(org, custom_fields):
    client = api(org.manager)
    response = client.post(API, {"name": "接口自定义有限公司", "status": "active",
                                 "custom_fields": {"headcount": "abc"}}, content_type="application/json")
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert "custom_fields.headcount" in errors and "custom_fields.region_code" in errors
    assert not Customer.objects.exists()
    response = client.post(API, {"name": "接口自定义有限公司", "status": "active",
                                 "custom_fields": {"headcount": 7, "tier": "silver", "region_code": "S2"}},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["custom_fields"] == {"headcount": 7, "tier": "silver", "region_code": "S2"}
    # a partial update keeps the other values
    response = client.patch(f"{API}{body['id']}", {"custom_fields": {"code": "Z9"}},
                            content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["custom_fields"] == {"headcount": 7, "tier": "silver", "region_code": "S2",
                                                "code": "Z9"}


def test_custom_field_filters_ui_and_api(org, custom_fields):
    a = make_customer(org.manager, "金牌客户有限公司", custom_fields={"tier": "gold", "headcount": 42,
                                                                  "code": "ALPHA-1", "region_code": "N"})
    b = make_customer(org.manager, "银牌客户有限公司", custom_fields={"tier": "silver", "headcount": 5,
                                                                  "code": "BETA-2", "region_code": "N"})
    client, client_api = ui(org.manager), api(org.manager)
    for params, expected in (({"cf_tier": "gold"}, [a.pk]), ({"cf_tier": "silver"}, [b.pk]),
                             ({"cf_headcount": "42"}, [a.pk]), ({"cf_code": "beta"}, [b.pk])):
        response = client.get("/customers/", params)
        assert response.status_code == 200
        assert [c.pk for c in response.context["page"].items] == expected, params
        response = client_api.get(API, params)
        assert response.status_code == 200, response.content
        assert [r["id"] for r in response.json()["results"]] == expected, params
    # an unknown choice is a field error in the API
    response = client_api.get(API, {"cf_tier": "platinum"})
    assert response.status_code == 422
    assert "cf_tier" in response.json()["errors"] or "custom_fields.tier" in response.json()["errors"]


def test_custom_fields_in_csv_export(org, custom_fields):
    make_customer(org.manager, "导出自定义有限公司", custom_fields={"tier": "gold", "headcount": 42,
                                                                  "region_code": "N"})
    response = ui(org.manager).get("/customers/", {"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header, row = rows[0], rows[1]
    for label in ("客户层级", "采购人数", "大区编码"):
        assert label in header
    assert row[header.index("客户层级")] == "gold"
    assert row[header.index("采购人数")] == "42"
    assert row[header.index("大区编码")] == "N"


# --- data dictionary -----------------------------------------------------------------

def test_builtin_dict_item_cannot_be_deleted(org):
    won = DictItem.objects.get(kind="customer_type", code="won")
    assert won.builtin
    client = ui(org.admin)
    response = client.post(f"/admin/dictionary/{won.pk}/delete/")
    assert response.status_code == 302
    assert any("won" in str(m) or won.label in str(m) for m in response.wsgi_request._messages)
    assert DictItem.objects.filter(pk=won.pk).exists()
    response = api(org.admin).delete(f"/api/v1/dictionary/{won.pk}")
    assert response.status_code == 422
    assert DictItem.objects.filter(pk=won.pk).exists()


def test_non_builtin_dict_item_can_be_deleted(org):
    a = DictItem.objects.create(kind="customer_source", code="fair", label="展会")
    b = DictItem.objects.create(kind="customer_source", code="ads", label="广告")
    assert ui(org.admin).post(f"/admin/dictionary/{a.pk}/delete/").status_code == 302
    assert not DictItem.objects.filter(pk=a.pk).exists()
    assert api(org.admin).delete(f"/api/v1/dictionary/{b.pk}").status_code == 204
    assert not DictItem.objects.filter(pk=b.pk).exists()


def test_dict_item_in_use_cannot_be_deleted(org):
    item = DictItem.objects.create(kind="customer_source", code="zz_test_referral", label="转介绍")
    make_customer(org.manager, "转介绍客户有限公司", source=item)
    assert ui(org.admin).post(f"/admin/dictionary/{item.pk}/delete/").status_code == 302
    assert DictItem.objects.filter(pk=item.pk).exists()
    assert api(org.admin).delete(f"/api/v1/dictionary/{item.pk}").status_code == 422


def test_dictionary_needs_admin(org):
    item = DictItem.objects.create(kind="customer_source", code="cold", label="陌拜")
    assert ui(org.manager).post(f"/admin/dictionary/{item.pk}/delete/").status_code == 403
    assert DictItem.objects.filter(pk=item.pk).exists()


# --- attachments ---------------------------------------------------------------------

def _upload(client, customer, name, data):
    return client.post(f"/customers/{customer.pk}/attachments/upload/",
                       {"file": SimpleUploadedFile(name, data)})


def test_upload_and_download(org):
    c = make_customer(org.manager, "附件客户有限公司")
    client = ui(org.manager)
    response = _upload(client, c, "报价单.pdf", b"%PDF-1.4 test")
    assert response.status_code == 302
    att = Attachment.objects.get()
    assert att.filename == "报价单.pdf" and att.size == len(b"%PDF-1.4 test") and att.uploaded_by == org.manager
    response = client.get(f"/attachments/{att.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"


def test_upload_too_large_is_refused(org, settings):
    settings.KEHU_ATTACHMENT_MAX_BYTES = 10
    c = make_customer(org.manager, "大附件客户有限公司")
    response = _upload(ui(org.manager), c, "big.pdf", b"x" * 100)
    assert response.status_code == 302
    assert [str(m) for m in response.wsgi_request._messages]
    assert not Attachment.objects.exists()
    assert media_files(settings) == []


def test_upload_disallowed_extension_is_refused(org, settings):
    c = make_customer(org.manager, "坏附件客户有限公司")
    client = ui(org.manager)
    for name in ("setup.exe", "Setup.EXE", "noext"):
        response = _upload(client, c, name, b"MZ")
        assert response.status_code == 302
    assert not Attachment.objects.exists()
    assert media_files(settings) == []


@pytest.mark.parametrize("name,data", [
    ("notes.txt", b"<script>alert(1)</script>"),
    ("page.html", b"<html><script>alert(1)</script></html>"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
])
def test_active_content_is_never_served_inline(org, settings, name, data):
    # an administrator may allow more types; even then they are never rendered by the browser
    settings.KEHU_ATTACHMENT_EXTENSIONS = [*settings.KEHU_ATTACHMENT_EXTENSIONS, "html", "svg"]
    c = make_customer(org.manager, "活动内容客户有限公司")
    client = ui(org.manager)
    assert _upload(client, c, name, data).status_code == 302
    att = Attachment.objects.get()
    response = client.get(f"/attachments/{att.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    content_type = response["Content-Type"]
    assert "html" not in content_type and "svg" not in content_type and not content_type.startswith("text/")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_attachment_needs_view_right_on_parent(org):
    c = make_customer(org.manager, "私密附件客户有限公司")
    assert _upload(ui(org.manager), c, "a.pdf", b"%PDF").status_code == 302
    att = Attachment.objects.get()
    assert ui(org.nobody).get(f"/attachments/{att.pk}/").status_code == 404
    assert ui(org.manager2).get(f"/attachments/{att.pk}/").status_code == 404
    assert ui(org.supervisor).get(f"/attachments/{att.pk}/").status_code == 200
    assert Client().get(f"/attachments/{att.pk}/").status_code == 302  # to the login page
    # out of scope: no upload either
    assert _upload(ui(org.manager2), c, "b.pdf", b"%PDF").status_code == 404
    # no edit right: no upload, no delete
    assert _upload(ui(org.executive), c, "c.pdf", b"%PDF").status_code == 403
    assert ui(org.executive).post(f"/attachments/{att.pk}/delete/").status_code == 403
    assert Attachment.objects.count() == 1
    # a soft-deleted parent hides its attachments
    c.soft_delete(org.supervisor)
    assert ui(org.manager).get(f"/attachments/{att.pk}/").status_code == 404


# --- export safety -------------------------------------------------------------------

DANGEROUS = ['=HYPERLINK("http://x","y")', "+1", "@SUM(1)", "-2+3"]


@pytest.fixture
def dangerous(org):
    return [make_customer(org.manager, name) for name in DANGEROUS]


def test_csv_export_neutralises_formulas(org, dangerous):
    response = ui(org.manager).get("/customers/", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    for name in DANGEROUS:
        assert "'" + name in cells, name
    assert len(rows) == 1 + len(DANGEROUS)
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_xlsx_export_writes_strings_not_formulas(org, dangerous):
    response = ui(org.manager).get("/customers/", {"format": "xlsx"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    found = {}
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.value
            if isinstance(cell.value, str) and cell.value.lstrip("'") in DANGEROUS:
                found[cell.value.lstrip("'")] = cell
    assert set(found) == set(DANGEROUS)
    for cell in found.values():
        assert cell.data_type == "s"


def test_export_needs_export_right(org, dangerous):
    assert ui(org.service).get("/customers/", {"format": "csv"}).status_code == 403


# --- keyset pagination ---------------------------------------------------------------

@pytest.fixture
def many(org):
    return [make_customer(org.manager, f"分页客户{i:03d}有限公司") for i in range(120)]


def test_api_keyset_walk(org, many):
    client = api(org.manager)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 50}
        if cursor:
            params["cursor"] = cursor
        body = client.get(API, params).json()
        seen += [r["id"] for r in body["results"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
        assert pages < 10
    assert pages == 3
    assert len(seen) == len(set(seen)) == 120
    assert set(seen) == {c.pk for c in many}
    assert seen == sorted(seen, reverse=True)  # default sort -id


def test_api_keyset_walk_sorted_by_name(org, many):
    client = api(org.manager)
    seen, cursor = [], None
    while True:
        params = {"limit": 50, "sort": "name"}
        if cursor:
            params["cursor"] = cursor
        body = client.get(API, params).json()
        seen += [r["name"] for r in body["results"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(c.name for c in many)


def test_api_bogus_cursor_is_422(org, many):
    client = api(org.manager)
    for bogus in ("not-a-cursor", "e30", "!!!"):
        response = client.get(API, {"cursor": bogus})
        assert response.status_code == 422, bogus
        assert "cursor" in response.json()["errors"]
    # a cursor of another sort order
    cursor = client.get(API, {"limit": 50}).json()["next_cursor"]
    response = client.get(API, {"cursor": cursor, "sort": "name"})
    assert response.status_code == 422
    assert "cursor" in response.json()["errors"]


def test_ui_list_next_and_prev(org, many):
    client = ui(org.manager)
    first = client.get("/customers/", {"per_page": 50})
    page = first.context["page"]
    assert len(page.items) == 50 and page.has_next and not page.has_prev
    assert page.next_cursor in first.content.decode()
    second = client.get("/customers/", {"per_page": 50, "cursor": page.next_cursor})
    page2 = second.context["page"]
    assert len(page2.items) == 50 and page2.has_next and page2.has_prev
    assert not {c.pk for c in page.items} & {c.pk for c in page2.items}
    assert page2.prev_cursor in second.content.decode()
    back = client.get("/customers/", {"per_page": 50, "cursor": page2.prev_cursor}).context["page"]
    assert [c.pk for c in back.items] == [c.pk for c in page.items]
    third = client.get("/customers/", {"per_page": 50, "cursor": page2.next_cursor}).context["page"]
    assert len(third.items) == 20 and not third.has_next and third.has_prev
    # a broken cursor in the UI falls back to the first page
    broken = client.get("/customers/", {"per_page": 50, "cursor": "garbage"})
    assert broken.status_code == 200
    assert [c.pk for c in broken.context["page"].items] == [c.pk for c in page.items]


def _walk(fetch):
    """Follow next_cursor from the first page; then prev_cursor back from the last page."""
    pages, cursor = [], None
    while True:
        page = fetch(cursor)
        pages.append(page)
        cursor = page.next_cursor
        if not cursor:
            break
        assert len(pages) < 20
    back, cursor = [pages[-1]], pages[-1].prev_cursor
    while cursor:
        back.insert(0, fetch(cursor))
        cursor = back[0].prev_cursor
    return pages, back


@pytest.mark.parametrize("sort", ["due_at", "-due_at"])
@pytest.mark.parametrize("as_values", [False, True])
def test_keyset_walk_over_nullable_sort_field(org, sort, as_values):
    """A task list sorted by due date, where many tasks have none: every task once, in the
    database's own order (NULLs where it puts them), forwards and back, as instances (UI)
    and as rows (API, reusing the compiled query between pages)."""
    from datetime import timedelta

    from django.utils import timezone

    from kehu.activities.models import Task
    from kehu.core.pagination import paginate

    start = timezone.now().replace(microsecond=0)
    for i in range(23):
        due = None if i % 3 == 0 else start + timedelta(days=i % 5)  # NULLs and ties
        Task.objects.create(title=f"任务{i}", owner=org.manager, due_at=due)
    expected = list(Task.objects.order_by(sort, sort.replace("due_at", "id")).values_list("id", flat=True))
    built = []

    def build():
        built.append(1)
        return Task.objects.all()

    def fetch(cursor):
        if as_values:
            return paginate(build, sort=sort, cursor=cursor, size=5, values=["title", "due_at"],
                            reuse=("test-nullable", sort))
        return paginate(Task.objects.all(), sort=sort, cursor=cursor, size=5)

    pages, back = _walk(fetch)
    ids = [row["id"] if as_values else row.pk for page in pages for row in page.items]
    assert ids == expected
    assert [len(p.items) for p in pages] == [5, 5, 5, 5, 3]
    assert [[r["id"] if as_values else r.pk for r in p.items] for p in back][-1] == ids[-3:]
    back_ids = [row["id"] if as_values else row.pk for page in back for row in page.items]
    assert sorted(back_ids) == sorted(expected) and len(back_ids) == len(set(back_ids))
    if as_values:
        # one build per shape of query (first page; cursor on a date; cursor on a NULL; each
        # direction), not one per page
        assert 2 <= len(built) <= 6 < len(pages) + len(back)


def test_api_list_reuses_compiled_query_per_scope(org):
    """The list API compiles its query once per record type and data scope: the next request
    runs it with one query, and users of another scope never get the first user's rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    mine = make_customer(org.manager, "一组的客户")
    theirs = make_customer(org.manager2, "二部的客户")
    supervisor, manager2 = api(org.supervisor), api(org.manager2)
    assert mine.pk in {r["id"] for r in supervisor.get(API).json()["results"]}
    with CaptureQueriesContext(connection) as ctx:
        ids = {r["id"] for r in supervisor.get(API).json()["results"]}
    list_queries = [q for q in ctx.captured_queries if "customers_customer" in q["sql"]]
    assert len(list_queries) == 1
    assert mine.pk in ids and theirs.pk not in ids
    ids2 = {r["id"] for r in manager2.get(API).json()["results"]}
    assert theirs.pk in ids2 and mine.pk not in ids2
    # moving manager2 into the supervisor's department widens the supervisor's scope at once
    org.manager2.department = org.sales1
    org.manager2.save()
    assert theirs.pk in {r["id"] for r in supervisor.get(API).json()["results"]}


def test_api_json_times_and_money(org):
    """Times are RFC 3339 in UTC ending in Z; money is a decimal string, never a float."""
    import re
    from decimal import Decimal

    customer = make_customer(org.manager, "金额客户", annual_revenue=Decimal("1234567.89"))
    body = api(org.manager).get(f"{API}{customer.pk}").json()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z", body["created_at"])
    assert body["annual_revenue"] == "1234567.89"
    row = next(r for r in api(org.manager).get(API).json()["results"] if r["id"] == customer.pk)
    assert row["created_at"] == body["created_at"] and row["annual_revenue"] == "1234567.89"


# --- notifications -------------------------------------------------------------------

def test_notifications_unread_count_and_open(org):
    first = notify(org.manager, "第一条通知", url="/customers/")
    notify(org.manager, "第二条通知")
    notify(org.manager2, "别人的通知")
    client = ui(org.manager)
    response = client.get("/")
    assert response.context["unread_count"]() == 2
    assert "unread-count" in response.content.decode()
    listing = client.get("/notifications/")
    assert listing.status_code == 200
    content = listing.content.decode()
    assert "第一条通知" in content and "别人的通知" not in content
    response = client.get(f"/notifications/{first.pk}/")
    assert response.status_code == 302 and response["Location"] == "/customers/"
    first.refresh_from_db()
    assert first.read_at is not None
    assert client.get("/").context["unread_count"]() == 1
    # another user's notification is not yours to open
    other = Notification.objects.get(user=org.manager2)
    assert client.get(f"/notifications/{other.pk}/").status_code == 404
    other.refresh_from_db()
    assert other.read_at is None
    assert client.post("/notifications/read-all/").status_code == 302
    assert client.get("/").context["unread_count"]() == 0
    assert "unread-count" not in client.get("/").content.decode()


def test_notification_with_external_url_does_not_redirect_offsite(org):
    note = notify(org.manager, "钓鱼", url="https://evil.example.com/")
    response = ui(org.manager).get(f"/notifications/{note.pk}/")
    assert response.status_code == 302
    assert "evil.example.com" not in response["Location"]


# --- recycle bin and audit log -------------------------------------------------------

def test_recycle_bin_lists_deleted_rows_in_scope(org):
    team_deleted = make_customer(org.manager, "一组已删有限公司")
    team_alive = make_customer(org.manager, "一组在用有限公司")
    other_deleted = make_customer(org.manager2, "二部已删有限公司")
    team_deleted.soft_delete(org.supervisor)
    other_deleted.soft_delete(org.admin)
    response = ui(org.supervisor).get("/customers/recycle-bin/")
    assert response.status_code == 200
    assert [c.pk for c in response.context["page"].items] == [team_deleted.pk]
    assert team_alive.pk not in [c.pk for c in response.context["page"].items]
    admin_ids = {c.pk for c in ui(org.admin).get("/customers/recycle-bin/").context["page"].items}
    assert admin_ids == {team_deleted.pk, other_deleted.pk}
    # restoring outside the scope is a 404
    assert ui(org.supervisor).post(f"/customers/{other_deleted.pk}/restore/").status_code == 404
    assert not Customer.objects.filter(pk=other_deleted.pk).exists()
    # without the delete right there is no recycle bin
    assert ui(org.manager).get("/customers/recycle-bin/").status_code == 403


def test_audit_log_page_rights(org):
    make_customer(org.manager, "审计客户有限公司")
    assert ui(org.manager).get("/admin/audit/").status_code == 403
    assert ui(org.supervisor).get("/admin/audit/").status_code == 403
    response = ui(org.admin).get("/admin/audit/")
    assert response.status_code == 200
    assert len(response.context["page"].items) >= 1


# --- e-mail through a real SMTP server -----------------------------------------------

@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_notify_sends_real_smtp_mail_on_commit(settings):
    from aiosmtpd.controller import Controller

    from kehu.core.testing.factories import make_user

    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        user = make_user("mailtarget", email="mail.target@example.com")
        with transaction.atomic():
            notify(user, "Kehu SMTP check", "Hello from the test.", url="/customers/", email=True)
            assert collector.messages == []  # nothing before the commit
        deadline = time.monotonic() + 10
        while not collector.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(collector.messages) == 1
        rcpt, message = collector.messages[0]
        assert rcpt == ["mail.target@example.com"]
        assert message["Subject"] == "Kehu SMTP check"
        assert message["To"] == "mail.target@example.com"
        body = message.get_payload(decode=True).decode()
        assert "Hello from the test." in body and "/customers/" in body
        # a rolled-back transaction sends nothing
        try:
            with transaction.atomic():
                notify(user, "Rolled back", email=True)
                raise RuntimeError
        except RuntimeError:
            pass
        time.sleep(0.3)
        assert len(collector.messages) == 1
    finally:
        controller.stop()
