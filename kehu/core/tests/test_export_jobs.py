"""Exports above KEHU_EXPORT_SYNC_ROWS run as background jobs (issue 17.2): the data scope and the
filters of the requesting user, complete files, progress, cancel, dead-worker cleanup, ownership."""

import csv
import datetime
import io
import os

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone

from kehu.core import export, exports_jobs
from kehu.core.models import ExportJob, Notification
from kehu.core.testing.factories import auth
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer


def ui(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def read_csv(path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


@pytest.fixture
def small_threshold(settings, monkeypatch):
    settings.KEHU_EXPORT_SYNC_ROWS = 3
    monkeypatch.setattr(export, "BATCH", 2)  # several keyset batches even with a few rows
    monkeypatch.setattr(exports_jobs, "PROGRESS_SECONDS", 0)


@pytest.fixture
def data(org):
    mine = [make_customer(org.manager, f"经理客户{i}有限公司", status="active") for i in range(5)]
    lost = make_customer(org.manager, "经理流失客户有限公司", status="lost")
    other = [make_customer(org.manager2, f"别人客户{i}有限公司") for i in range(4)]
    return mine, lost, other


def export_via_list(user, django_capture_on_commit_callbacks, fmt="csv", **params):
    client = ui(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/customers/", {"format": fmt, **params})
    return client, response


def test_large_export_is_a_job_with_the_managers_scope(org, data, small_threshold, django_capture_on_commit_callbacks):
    mine, lost, other = data
    client, response = export_via_list(org.manager, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert response["Location"] == f"/exports/{job.pk}/"
    assert job.user == org.manager and job.status == "done"
    rows = read_csv(exports_jobs.path_of(job))
    names = {r[1] for r in rows[1:]}
    assert names == {c.name for c in [*mine, lost]}
    assert not names & {c.name for c in other}  # another manager's customers never leak
    assert job.rows_done == job.total_estimate == len(rows) - 1 == 6
    assert job.size == os.path.getsize(exports_jobs.path_of(job))
    note = Notification.objects.get(user=org.manager)
    assert note.url == f"/exports/{job.pk}/download/"
    download = client.get(note.url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).decode("utf-8-sig").count("\n") == 7
    assert not [n for n in os.listdir(export.exports_dir()) if n.endswith(".part")]


def test_small_export_still_streams(org, data, settings):
    settings.KEHU_EXPORT_SYNC_ROWS = 100
    response = ui(org.manager).get("/customers/", {"format": "csv"})
    assert response.status_code == 200 and response.streaming
    assert not ExportJob.objects.exists()
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 1 + 6


def test_filters_are_honoured(org, data, small_threshold, django_capture_on_commit_callbacks):
    mine, lost, other = data
    _client, response = export_via_list(org.manager, django_capture_on_commit_callbacks, status="active")
    job = ExportJob.objects.get()
    assert "status=active" in job.query and "format" not in job.query
    names = {r[1] for r in read_csv(exports_jobs.path_of(job))[1:]}
    assert names == {c.name for c in mine}


def test_xlsx_job_is_complete(org, data, small_threshold, django_capture_on_commit_callbacks):
    make_customer(org.manager, "=HYPERLINK(\"http://x\",\"y\")", annual_revenue="12345678901.23")
    _client, response = export_via_list(org.admin, django_capture_on_commit_callbacks, fmt="xlsx")
    job = ExportJob.objects.get()
    assert job.status == "done" and job.filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(exports_jobs.path_of(job), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) - 1 == Customer.objects.count() == job.rows_done == 11
    header = list(rows[0])
    names = [r[header.index("客户名称") if "客户名称" in header else 1] for r in rows[1:]]
    assert "'=HYPERLINK(\"http://x\",\"y\")" in names  # still neutralised
    revenue = [r for r in rows[1:] if r[1].startswith("'=")][0]
    assert 12345678901.23 in revenue  # a number cell, not text


def test_cancelled_job_stops_and_leaves_no_file(org, data, small_threshold, monkeypatch):
    job = exports_jobs.start(org.admin, exports_jobs.registry.get("customer"), "csv", exports_jobs.QueryDict())
    calls = []
    real = exports_jobs._Progress.__call__

    def cancel_after_first_batch(self, rows):
        calls.append(rows)
        if len(calls) == 1:
            exports_jobs.cancel(job)
        real(self, rows)

    monkeypatch.setattr(exports_jobs._Progress, "__call__", cancel_after_first_batch)
    result = exports_jobs.run_export.call(job.pk)
    job.refresh_from_db()
    assert result == {"cancelled": job.pk}
    assert job.status == "cancelled"
    assert calls == [2]  # the second batch was never written
    assert os.listdir(export.exports_dir()) == []


def test_progress_is_written(org, data, small_threshold, monkeypatch):
    job = exports_jobs.start(org.admin, exports_jobs.registry.get("customer"), "csv", exports_jobs.QueryDict())
    seen = []
    real = exports_jobs._Progress.__call__

    def spy(self, rows):
        real(self, rows)
        seen.append(ExportJob.objects.values_list("status", "rows_done", "total_estimate").get(pk=job.pk))

    monkeypatch.setattr(exports_jobs._Progress, "__call__", spy)
    exports_jobs.run_export.call(job.pk)
    assert seen[:3] == [("running", 2, 10), ("running", 4, 10), ("running", 6, 10)]
    job.refresh_from_db()
    assert job.status == "done" and job.rows_done == 10 and job.rows_per_second


def test_dead_job_is_failed_and_its_temp_file_removed(org):
    now = timezone.now()
    job = ExportJob.objects.create(user=org.admin, record_type="customer", format="csv", filename="x.csv",
                                   status="running", started_at=now - datetime.timedelta(hours=1),
                                   progress_at=now - datetime.timedelta(minutes=30), file_path="9-abc.csv")
    part = export.exports_dir() / "9-abc.csv.part"
    part.write_text("half a file")
    alive = ExportJob.objects.create(user=org.admin, record_type="customer", format="csv", filename="y.csv",
                                     status="running", started_at=now, progress_at=now, file_path="10-def.csv")
    (export.exports_dir() / "10-def.csv.part").write_text("in progress")
    result = exports_jobs.cleanup_exports.call(now.isoformat())
    job.refresh_from_db()
    alive.refresh_from_db()
    assert result["dead"] == 1
    assert job.status == "failed" and job.error
    assert not part.exists()
    assert alive.status == "running" and (export.exports_dir() / "10-def.csv.part").exists()


def test_old_exports_are_removed(org, data, small_threshold, django_capture_on_commit_callbacks):
    export_via_list(org.manager, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    path = exports_jobs.path_of(job)
    assert path.exists()
    exports_jobs.cleanup(timezone.now() + datetime.timedelta(days=exports_jobs.keep_days() - 1))
    assert path.exists()
    exports_jobs.cleanup(timezone.now() + datetime.timedelta(days=exports_jobs.keep_days() + 1))
    assert not path.exists() and not ExportJob.objects.exists()


def test_scheduler_runs_the_cleanup(org):
    from kehu.core import scheduler

    out = scheduler.run_due_jobs(timezone.now(), execute=True)
    assert out["cleanup_exports"] == {"dead": 0, "expired": 0, "orphans": 0}


def test_another_users_export_is_a_404(org, data, small_threshold, django_capture_on_commit_callbacks):
    export_via_list(org.manager, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    other = ui(org.manager2)
    for url in (f"/exports/{job.pk}/", f"/exports/{job.pk}/download/"):
        assert other.get(url).status_code == 404
    assert other.post(f"/exports/{job.pk}/delete/").status_code == 404
    assert ui(org.admin).get(f"/exports/{job.pk}/download/").status_code == 404  # not even an admin
    assert ExportJob.objects.filter(pk=job.pk).exists()
    mine = ui(org.manager)
    assert mine.get(f"/exports/{job.pk}/download/").status_code == 200
    page = mine.get("/exports/")
    assert page.status_code == 200 and job.filename in page.content.decode()
    assert mine.post(f"/exports/{job.pk}/delete/").status_code == 302
    assert not ExportJob.objects.exists() and os.listdir(export.exports_dir()) == []


def test_progress_page_polls_while_running(org):
    job = ExportJob.objects.create(user=org.manager, record_type="customer", format="csv", filename="c.csv",
                                   status="running", started_at=timezone.now() - datetime.timedelta(seconds=10),
                                   progress_at=timezone.now(), rows_done=50_000, total_estimate=200_000)
    client = ui(org.manager)
    html = client.get(f"/exports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in html and "25%" in html
    partial = client.get(f"/exports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'data-status="running"' in partial
    ExportJob.objects.filter(pk=job.pk).update(status="done", size=10, finished_at=timezone.now())
    partial = client.get(f"/exports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "every 1s" not in partial and f"/exports/{job.pk}/download/" in partial


# --- the API -------------------------------------------------------------------------------------

def test_api_export_job(org, data, django_capture_on_commit_callbacks):
    mine, lost, other = data
    client = Client(**auth(org.manager))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/exports/", {"record_type": "customer", "format": "csv",
                                                    "filters": {"status": "active"}}, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued" and body["url"] == f"/api/v1/exports/{body['id']}"
    status = client.get(body["url"]).json()
    assert status["status"] == "done" and status["rows_done"] == 5 and status["percent"] == 100
    file = client.get(status["download_url"])
    assert file.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(file.streaming_content).decode("utf-8-sig"))))
    assert {r[1] for r in rows[1:]} == {c.name for c in mine}
    # someone else's job: 404, also for its file
    other_client = Client(**auth(org.manager2))
    assert other_client.get(body["url"]).status_code == 404
    assert other_client.get(status["download_url"]).status_code == 404
    assert other_client.delete(body["url"]).status_code == 404
    assert [j["id"] for j in client.get("/api/v1/exports/").json()] == [body["id"]]
    assert client.delete(body["url"]).status_code == 204
    assert client.get(body["url"]).status_code == 404


def test_api_export_rules(org):
    def post(user, payload):
        return Client(**auth(user)).post("/api/v1/exports/", payload, content_type="application/json")

    assert post(org.service, {"record_type": "customer"}).status_code == 403
    bad_type = post(org.admin, {"record_type": "nothing"})
    assert bad_type.status_code == 422 and "record_type" in bad_type.json()["errors"]
    assert post(org.admin, {"record_type": "customer", "format": "pdf"}).status_code == 422
    unknown = post(org.admin, {"record_type": "customer", "filters": {"colour": "red"}})
    assert unknown.status_code == 422 and "filters.colour" in unknown.json()["errors"]
    assert post(org.admin, {"record_type": "customer", "filters": {"created_after": "yesterday"}}).status_code == 422
    assert post(org.admin, {"record_type": "customer", "extra": 1}).status_code == 422
    assert not ExportJob.objects.exists()
