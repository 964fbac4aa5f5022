"""The whole-account export (issue 15, "Export and round trip"): one XLSX per record type the user
may export, each with the user's data scope, in a zip with a manifest; the right account.export."""

import io
import json
import zipfile

import openpyxl
import pytest
from django.test import Client

from kehu.core import exports_jobs
from kehu.core.models import ExportJob
from kehu.customers.models import Contact
from kehu.customers.testing import make_customer

pytestmark = pytest.mark.django_db


def ui(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def start(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/exports/account/")


def test_the_whole_account_in_one_zip(org, django_capture_on_commit_callbacks):
    for i in range(3):
        make_customer(org.manager, f"全量导出客户{i}有限公司")
    make_customer(org.manager2, "另一部门的客户")
    client = ui(org.admin)
    assert 'data-testid="export-account"' in client.get("/exports/").content.decode()
    response = start(client, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get(user=org.admin)
    assert response.status_code == 302 and response["Location"] == f"/exports/{job.pk}/"
    assert job.status == "done", job.error
    assert job.format == "zip" and job.filename.endswith(".zip")
    download = client.get(f"/exports/{job.pk}/download/")
    assert download["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    manifest = json.loads(archive.read("manifest.json"))
    files = {f["record_type"]: f for f in manifest["files"]}
    # every record type the administrator may export, each a readable workbook with its rows
    assert {rt.key for rt in exports_jobs.account_types(org.admin)} == set(files)
    assert {"customer", "contact", "user"} <= set(files)
    assert files["customer"]["rows"] == 4
    assert job.rows_done == sum(f["rows"] for f in manifest["files"])
    sheet = openpyxl.load_workbook(io.BytesIO(archive.read(files["customer"]["file"])), read_only=True).active
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted(["全量导出客户0有限公司", "全量导出客户1有限公司", "全量导出客户2有限公司", "另一部门的客户"])
    contacts = openpyxl.load_workbook(io.BytesIO(archive.read(files["contact"]["file"])), read_only=True).active
    assert contacts.max_row == 1 + Contact.objects.count()
    assert not list(exports_jobs.export.exports_dir().glob("*.sheet"))  # no temporary sheet left


def test_the_right_is_needed(org, django_capture_on_commit_callbacks):
    client = ui(org.manager)
    assert 'data-testid="export-account"' not in client.get("/exports/").content.decode()
    assert start(client, django_capture_on_commit_callbacks).status_code == 403
    assert not ExportJob.objects.exists()


def test_a_role_given_the_right_exports_its_own_scope(org, django_capture_on_commit_callbacks):
    """The right alone does not widen what is seen: each file holds the user's visible records of
    the types they may export."""
    from kehu.accounts.models import Role

    make_customer(org.manager, "我的客户甲")
    make_customer(org.manager2, "别人的客户乙")
    role = Role.objects.get(code="account_manager")
    role.rights = [*role.rights, "account.export"]
    role.save()
    org.manager.refresh_from_db()
    client = ui(org.manager)
    start(client, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get(user=org.manager)
    assert job.status == "done", job.error
    archive = zipfile.ZipFile(exports_jobs.path_of(job))
    files = {f["record_type"]: f for f in json.loads(archive.read("manifest.json"))["files"]}
    assert "user" not in files  # an account manager may not export users
    sheet = openpyxl.load_workbook(io.BytesIO(archive.read(files["customer"]["file"])), read_only=True).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["我的客户甲"]
