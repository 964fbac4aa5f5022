"""vCard 名片 (issue 15): contacts from .vcf files of every version phones and mail clients write
(2.1 quoted-printable in GBK and UTF-8, 3.0, 4.0, photos, several phones and e-mails) through the
import engine — mapping, dry run, duplicates, undo — and contacts to .vcf and QR codes. Every
card is written by the test itself."""

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import translation

from kehu.core.imports import jobs, readers, vcard
from kehu.core.models import Attachment, ImportJob
from kehu.customers.models import Contact
from kehu.customers.testing import (
    JPEG,
    PNG,
    card21_gbk,
    card21_utf8,
    card30,
    card40,
    make_contact,
    make_customer,
    vcf,
)


def start(job, dry_run):
    with TestCase.captureOnCommitCallbacks(execute=True):
        jobs.start(job, dry_run=dry_run)
    job.refresh_from_db()
    return job


def run(user, data, *, duplicates="skip", default_customer=None, dry_only=False, filename="通讯录.vcf",
        key="contact"):
    with translation.override("en"):
        job = jobs.create(user, key, filename, data=data)
    if default_customer is not None:
        job.value_map = {**job.value_map, "customer": {"*": default_customer.pk}}
    job.duplicates = duplicates
    job.save()
    start(job, True)
    assert job.status == ImportJob.Status.CHECKED, job.error
    if dry_only:
        return job
    return start(job, False)


# --- reading ----------------------------------------------------------------------------------------

def table_of(tmp_path, data: bytes):
    path = tmp_path / "cards.vcf"
    path.write_bytes(data)
    table = readers.open_table(path, readers.format_of(path.name))
    return table, {row[0]: dict(zip(table.headers, row[1], strict=True)) for row in table.rows()}


def test_vcard_21_quoted_printable_gbk_with_soft_line_breaks_photo_and_many_phones(tmp_path):
    table, rows = table_of(tmp_path, vcf(card21_gbk(), card21_utf8()))
    assert table.format == "vcf" and table.headers == vcard.HEADERS and table.header_line == 0
    assert list(rows) == [1, card21_gbk().count("\r\n") + 1]  # the line of each BEGIN:VCARD
    first = rows[1]
    assert first["FN"] == "王芳" and first["ORG"] == "华东精密机械有限公司" and first["ORG (department)"] == "华东销售部"
    assert first["TITLE"] == "销售经理"
    assert first["TEL (CELL)"] == "139-1234-5678" and first["TEL"] == "021-62345678"
    assert first["TEL (other)"] == "010-88886666; 021-62345679"  # home, then the fax
    assert first["EMAIL"] == "wangfang@huadong.cn" and first["EMAIL (other)"] == "wf1985@example.com"
    assert first["NOTE"] == "老客户，2019年展会认识。喜欢喝茶，周末不要打电话。" * 2  # across soft line breaks
    assert first["BDAY"] == "1985-03-12"
    photo = vcard.photo_path(table.path, first["PHOTO"])
    assert photo is not None and photo.read_bytes() == JPEG and photo.suffix == ".jpg"
    second = list(rows.values())[1]
    assert (second["FN"], second["ORG"], second["TEL (CELL)"]) == ("李娜", "北方物流集团", "13987654321")


def test_vcard_21_in_raw_gbk_bytes_is_decoded(tmp_path):
    """Some exporters write GBK bytes as they are (8-bit) with CHARSET=GBK: the file is GB18030."""
    text = "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=GBK:赵;敏;;;\r\nFN;CHARSET=GBK:赵敏\r\nORG;CHARSET=GBK:明教集团\r\n" \
           "TEL;CELL:13700001111\r\nEND:VCARD\r\n"
    table, rows = table_of(tmp_path, text.encode("gbk"))
    assert table.encoding == "gb18030"
    assert [(r["FN"], r["ORG"]) for r in rows.values()] == [("赵敏", "明教集团")]


def test_vcard_30_types_groups_wechat_categories_and_photo(tmp_path):
    _table, rows = table_of(tmp_path, vcf(card30()))
    row = next(iter(rows.values()))
    assert row["FN"] == "张伟" and row["ORG"] == "华东精密机械有限公司" and row["TITLE"] == "采购总监"
    assert row["TEL (CELL)"] == "+86 138 0013 8000" and row["TEL"] == "0512-66668888"
    assert row["EMAIL"] == "zhang.wei@huadong.cn"
    assert row["EMAIL (other)"] == "zw@example.com; zw.backup@example.com"
    assert row["X-WECHAT"] == "zhangwei_sz" and row["CATEGORIES"] == "展会, 重点"
    assert row["PHOTO"].endswith(".png")


def test_vcard_40_uris_pref_gender_and_data_photo(tmp_path):
    table, rows = table_of(tmp_path, vcf(card40()))
    row = next(iter(rows.values()))
    assert row["FN"] == "Chen Jing" and row["GENDER"] == "female" and row["BDAY"] == "1990-01-02"
    assert row["TEL (CELL)"] == "+86-137-1111-2222" and row["TEL"] == "+86-10-6552-9988"
    assert row["EMAIL"] == "chen.jing@north.cn"
    assert vcard.photo_path(table.path, row["PHOTO"]).read_bytes() == PNG


def test_a_card_with_a_broken_line_keeps_the_rest_and_a_file_without_cards_is_refused(tmp_path):
    broken = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:周杰\r\nthis line is no property\r\nTEL;TYPE=CELL:13600002222\r\n" \
             "END:VCARD\r\n"
    _table, rows = table_of(tmp_path, broken.encode())
    assert [(r["FN"], r["TEL (CELL)"]) for r in rows.values()] == [("周杰", "13600002222")]
    path = tmp_path / "empty.vcf"
    path.write_bytes(b"not a vcard at all\r\n")
    with pytest.raises(readers.ReadError):
        readers.open_table(path, "vcf")


def test_a_remote_photo_url_is_never_fetched(tmp_path):
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:X\r\nPHOTO;VALUE=uri:http://127.0.0.1:1/photo.jpg\r\nEND:VCARD\r\n"
    _table, rows = table_of(tmp_path, card.encode())
    assert next(iter(rows.values()))["PHOTO"] == ""


# --- importing ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_contacts_from_every_version_checked_then_imported_with_photos_then_undone(org):
    huadong = make_customer(org.manager, "华东精密机械有限公司")
    north = make_customer(org.manager, "北方物流集团")
    data = vcf(card21_gbk(), card30(), card40(), card21_utf8(org="没有这家公司"))
    job = run(org.manager, data, dry_only=True)
    assert job.format == "vcf" and job.preset == "vcard"
    mapped = {job.headers[int(i)]: f for i, f in job.mapping.items()}
    assert mapped["FN"] == "name" and mapped["ORG"] == "customer" and mapped["TEL (CELL)"] == "mobile"
    assert mapped["TEL (other)"] == "more_phones" and mapped["PHOTO"] == "photo"
    assert (job.rows_total, job.created, job.failed_rows) == (4, 3, 1), job.errors
    assert job.errors[0]["column"] == "ORG" and "没有这家公司" in job.errors[0]["message"]
    assert not Contact.objects.filter(name="王芳").exists()  # a dry run writes nothing

    job = start(job, False)
    assert job.status == ImportJob.Status.DONE and job.created == 3
    wang = Contact.objects.get(name="王芳")
    assert wang.customer == huadong and wang.title == "销售经理" and wang.mobile == "+8613912345678"
    assert wang.phone == "+862162345678" and wang.email == "wangfang@huadong.cn"
    assert str(wang.birthday) == "1985-03-12"
    assert wang.notes.startswith("老客户,2019年展会认识。")  # full-width punctuation: half-width (coerce.text)
    assert "Other phones: 010-88886666; 021-62345679" in wang.notes and "wf1985@example.com" in wang.notes
    zhang = Contact.objects.get(name="张伟")
    assert zhang.wechat == "zhangwei_sz" and sorted(t.name for t in zhang.tags) == ["展会", "重点"]
    chen = Contact.objects.get(name="Chen Jing")
    assert chen.customer == north and chen.gender == "female" and chen.mobile == "+8613711112222"
    photos = Attachment.objects.filter(object_id__in=[wang.pk, zhang.pk, chen.pk])
    assert sorted(a.filename for a in photos) == ["Chen Jing.png", "张伟.png", "王芳.jpg"]
    assert Attachment.objects.get(filename="王芳.jpg").file.read() == JPEG

    result = jobs.undo(job, org.manager)
    assert result["removed"] == 3 and not Contact.objects.filter(name__in=["王芳", "张伟", "Chen Jing"]).exists()
    assert not Attachment.objects.filter(pk__in=[a.pk for a in photos]).exists()


@pytest.mark.django_db
def test_cards_without_a_known_organization_go_to_the_chosen_customer(org):
    chosen = make_customer(org.manager, "展会名片客户")
    no_org = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:孙丽\r\nTEL;TYPE=CELL:13500003333\r\nEND:VCARD\r\n"
    job = run(org.manager, vcf(card21_utf8(org="没有这家公司"), no_org), default_customer=chosen)
    assert job.created == 2 and job.failed_rows == 0, job.errors
    assert set(Contact.objects.filter(customer=chosen).values_list("name", flat=True)) == {"李娜", "孙丽"}
    # a spreadsheet without a customer column: the chosen customer is what "customer" needs
    job = jobs.create(org.manager, "contact", "名单.csv", data="姓名,手机\r\n周八,13500004444\r\n".encode())
    with translation.override("en"):
        assert jobs.missing_required(job) == ["Customer"]
        job.value_map = {"customer": {"*": chosen.pk}}
        assert jobs.missing_required(job) == []
    start(job, True)
    job = start(job, False)
    assert Contact.objects.get(name="周八").customer == chosen


@pytest.mark.django_db
def test_the_mapping_screen_offers_the_customer_and_saves_it(client, org):
    chosen = make_customer(org.manager, "展会名片客户")
    outside = make_customer(org.manager2, "别人的客户")
    client.force_login(org.manager)
    job = jobs.create(org.manager, "contact", "名片.vcf", data=vcf(card30(org="不存在")))
    page = client.get(reverse("core:import_detail", args=[job.pk]))
    assert page.status_code == 200 and b'data-testid="contact-import-options"' in page.content
    post = {f"col_{i}": f for i, f in job.mapping.items()} | {"duplicates": "skip", "mode": "good"}
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("core:import_map", args=[job.pk]), post | {"default_customer": outside.pk})
    job.refresh_from_db()
    assert "customer" not in job.value_map  # outside the user's scope: not taken
    assert job.failed_rows == 1
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(reverse("core:import_map", args=[job.pk]), post | {"default_customer": chosen.pk})
    job.refresh_from_db()
    assert job.value_map["customer"] == {"*": chosen.pk} and job.failed_rows == 0 and job.created == 1


@pytest.mark.django_db
def test_duplicates_by_mobile_and_e_mail_follow_the_contact_rules(org):
    customer = make_customer(org.manager, "华东精密机械有限公司")
    make_contact(customer, "王芳（旧）", mobile="13912345678")
    make_contact(customer, "张伟（旧）", email="zhang.wei@huadong.cn")
    job = run(org.manager, vcf(card21_gbk(), card30(), card30()), dry_only=True)
    assert job.duplicate_rows == 3 and job.created == 0 and job.skipped == 3
    reasons = {d["line"]: d for d in job.duplicates_found}
    assert reasons[1]["reasons"] == ["same mobile"] and "王芳（旧）" in reasons[1]["label"]
    job = start(job, True)
    job.duplicates = "update"
    job.save()
    job = start(job, True)
    job = start(job, False)
    assert job.updated == 2
    assert Contact.objects.get(mobile="+8613912345678").title == "销售经理"


@pytest.mark.django_db
def test_a_vcf_imports_customers_with_their_primary_contact(org):
    job = run(org.manager, vcf(card21_gbk(org="新客户甲有限公司"), card40(org="新客户乙有限公司")), key="customer")
    assert job.created == 2, job.errors
    contact = Contact.objects.get(customer__name="新客户甲有限公司")
    assert contact.name == "王芳" and contact.is_primary and contact.mobile == "+8613912345678"


# --- exporting ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_contacts_card_downloads_as_vcard_30_and_reads_back(client, org, tmp_path):
    customer = make_customer(org.manager, "华东精密机械有限公司")
    contact = make_contact(customer, "欧阳娜娜", title="总经理", mobile="13912345678", phone="021-62345678",
                           email="ouyang@huadong.cn", wechat="oyn", notes="第一行\n第二行; 含分号, 逗号", gender="female")
    contact.set_tags(["VIP"])
    client.force_login(org.manager)
    response = client.get(reverse("customers:contact_vcard", args=[contact.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "text/vcard; charset=utf-8"
    assert "filename*=utf-8''%E6%AC%A7%E9%98%B3%E5%A8%9C%E5%A8%9C.vcf" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert "VERSION:3.0" in text and "N:欧阳;娜娜;;;" in text and "TEL;TYPE=CELL:+8613912345678" in text
    _table, rows = table_of(tmp_path, response.content)
    row = next(iter(rows.values()))
    assert (row["FN"], row["ORG"], row["TITLE"], row["TEL (CELL)"], row["TEL"], row["EMAIL"], row["X-WECHAT"],
            row["GENDER"], row["NOTE"], row["CATEGORIES"]) == (
        "欧阳娜娜", "华东精密机械有限公司", "总经理", "+8613912345678", "+862162345678", "ouyang@huadong.cn", "oyn",
        "female", "第一行\n第二行; 含分号, 逗号", "VIP")


@pytest.mark.django_db
def test_the_qr_code_holds_the_card(client, org):
    contact = make_contact(make_customer(org.manager, "华东精密机械有限公司"), "王芳", mobile="13912345678")
    client.force_login(org.manager)
    response = client.get(reverse("customers:contact_qr", args=[contact.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    import segno

    from kehu.customers import vcard as export

    text = export.card_of(contact, compact=True).serialize()
    assert "FN:王芳" in text and "NOTE" not in text
    assert segno.make(text, encoding="utf-8", error="m").designator  # it fits a QR code
    download = client.get(reverse("customers:contact_qr", args=[contact.pk]) + "?download=1")
    assert "attachment" in download["Content-Disposition"]
    detail = client.get(reverse("customers:contact_detail", args=[contact.pk]))
    assert reverse("customers:contact_qr", args=[contact.pk]).encode() in detail.content


@pytest.mark.django_db
def test_cards_outside_the_data_scope_are_not_found(client, org):
    contact = make_contact(make_customer(org.manager2, "二部客户"), "钱多多", mobile="13912345678")
    client.force_login(org.manager)
    assert client.get(reverse("customers:contact_vcard", args=[contact.pk])).status_code == 404
    assert client.get(reverse("customers:contact_qr", args=[contact.pk])).status_code == 404
    client.force_login(org.nobody)
    assert client.get(reverse("customers:contact_vcard", args=[contact.pk])).status_code == 403


@pytest.mark.django_db
def test_the_filtered_list_and_the_selected_contacts_export_as_one_vcf(client, org):
    mine = make_customer(org.manager, "华东精密机械有限公司")
    a = make_contact(mine, "王芳", mobile="13912345678")
    b = make_contact(mine, "张伟", email="zw@huadong.cn")
    make_contact(make_customer(org.manager2, "二部客户"), "钱多多")
    client.force_login(org.manager)
    response = client.get(reverse("customers:contact_list") + "?format=vcf")
    body = b"".join(response.streaming_content).decode()
    assert body.count("BEGIN:VCARD") == 2 and "钱多多" not in body
    response = client.get(reverse("customers:contact_list") + "?format=vcf&q=张伟")
    assert b"".join(response.streaming_content).decode().count("BEGIN:VCARD") == 1
    response = client.post(reverse("customers:contact_bulk"), {"action": "vcard", "pk": [a.pk, b.pk]})
    assert response.status_code == 200 and response.content.decode().count("BEGIN:VCARD") == 2
    page = client.get(reverse("customers:contact_list"))
    assert b'data-testid="export-vcf"' in page.content
    client.force_login(org.service)  # may view contacts, not export them
    assert client.get(reverse("customers:contact_list") + "?format=vcf").status_code == 403
