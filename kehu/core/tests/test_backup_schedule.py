"""The scheduled backup: retention, the daily job in the worker's scheduler, its record, the notice to
administrators when it fails, and the administrators' card (issue 15)."""

import datetime
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from kehu.core import scheduler
from kehu.core.backup import jobs, retention
from kehu.core.backup.models import BackupRun
from kehu.core.backup.service import archive_name, archive_time
from kehu.core.models import Notification
from kehu.core.testing.backup import english  # noqa: F401 - autouse

UTC = datetime.UTC

def ui(user):
    client = Client()
    client.force_login(user)
    return client


# --- retention ---------------------------------------------------------------------------------------

def daily(start, days, hour=2):
    return [timezone.make_aware(datetime.datetime.combine(start - datetime.timedelta(days=d), datetime.time(hour)))
            for d in range(days)]


def test_retention_keeps_7_daily_4_weekly_12_monthly():
    today = datetime.date(2026, 12, 4)  # a Friday
    times = daily(today, 500)
    keep = retention.to_keep(times, daily=7, weekly=4, monthly=12)
    local = sorted((timezone.localtime(t).date() for t in keep), reverse=True)
    assert local[:7] == [today - datetime.timedelta(days=d) for d in range(7)]  # the last seven days
    # weekly: the newest of each of the last four ISO weeks (this week's Friday, then Sundays)
    assert {datetime.date(2026, 11, 29), datetime.date(2026, 11, 22), datetime.date(2026, 11, 15)} <= set(local)
    # monthly: the newest of each of the last twelve months (month ends), back to January 2026
    assert {datetime.date(2026, 10, 31), datetime.date(2026, 1, 31)} <= set(local)
    assert datetime.date(2025, 12, 31) not in local
    # the daily seven already hold this week's, last week's (Sun 29 Nov) and November's (30 Nov) newest
    assert len(keep) == 7 + 2 + 10


def test_retention_counts_periods_that_have_a_backup_and_keeps_the_newest():
    # a month without backups (the server was off) does not expire the older ones
    old = daily(datetime.date(2026, 6, 30), 10)
    keep = retention.to_keep(old, daily=7, weekly=4, monthly=12)
    assert len(keep) >= 7 and max(old) in keep
    assert retention.to_keep([], daily=7) == set()
    one = daily(datetime.date(2026, 1, 1), 1)
    assert retention.to_keep(one, daily=0, weekly=0, monthly=0) == set(one)  # the newest always stays
    # two backups on one day: the newer is the day's
    a, b = daily(datetime.date(2026, 3, 3), 1, hour=2)[0], daily(datetime.date(2026, 3, 3), 1, hour=14)[0]
    assert retention.to_keep([a, b], daily=1, weekly=0, monthly=0) == {b}


def test_prune_removes_only_old_kehu_archives(tmp_path):
    start = datetime.datetime(2026, 12, 4, 2, tzinfo=UTC)
    for d in range(40):
        (tmp_path / archive_name(start - datetime.timedelta(days=d))).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "kehu-backup-garbage.tar").write_text("not ours by name")
    removed = retention.prune(tmp_path, keep_policy={"daily": 7, "weekly": 4, "monthly": 12})
    left = sorted(p.name for p in tmp_path.iterdir())
    assert "notes.txt" in left and "kehu-backup-garbage.tar" in left
    kept = [n for n in left if archive_time(n)]
    assert len(kept) + len(removed) == 40
    assert archive_name(start) in kept and 7 <= len(kept) <= 7 + 4 + 12


# --- the job -----------------------------------------------------------------------------------------

@pytest.fixture
def backups_on(settings, tmp_path):
    settings.KEHU_BACKUP_SCHEDULE = "daily"
    settings.KEHU_BACKUP_HOUR = 0
    settings.KEHU_BACKUP_DIR = str(tmp_path / "backups")
    Path(settings.MEDIA_ROOT).mkdir(parents=True, exist_ok=True)
    (Path(settings.MEDIA_ROOT) / "a.txt").write_text("附件")
    return Path(settings.KEHU_BACKUP_DIR)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_runs_the_backup_once_a_day_and_records_it(backups_on, org):
    now = timezone.now()
    out = scheduler.run_due_jobs(now, execute=True)
    assert out["scheduled_backup"]["status"] == "succeeded", out["scheduled_backup"]
    run = BackupRun.objects.get()
    assert run.succeeded and run.trigger == "scheduled" and run.rows > 0 and run.tables > 50
    assert run.media_files == 1 and run.verify_seconds is not None
    assert Path(run.file).parent == backups_on and Path(run.file).exists()
    assert "scheduled_backup" not in scheduler.run_due_jobs(now + datetime.timedelta(minutes=1), execute=True)
    assert not Notification.objects.filter(title__icontains="backup").exists()


@pytest.mark.django_db
def test_the_schedule_can_be_switched_off(settings):
    settings.KEHU_BACKUP_SCHEDULE = "off"
    assert jobs.scheduled_backup.call(timezone.now().isoformat()) == {"skipped": "KEHU_BACKUP_SCHEDULE=off"}
    assert not BackupRun.objects.exists()


@pytest.mark.django_db
def test_the_scheduled_job_prunes_old_archives(backups_on, monkeypatch, django_capture_on_commit_callbacks):
    backups_on.mkdir(parents=True)
    old = timezone.now() - datetime.timedelta(days=400)
    for d in range(3):
        (backups_on / archive_name(old - datetime.timedelta(days=d))).write_bytes(b"x")
    monkeypatch.setattr(jobs, "create_backup", _fake_backup)
    jobs.scheduled_backup.call(timezone.now().isoformat())
    run = BackupRun.objects.get()
    # the new one, the 3 old are within 7 days that have backups: kept; with daily=1 and no weekly/monthly
    # only the newest stays
    assert run.succeeded and run.pruned == 0
    monkeypatch.setattr(retention, "policy", lambda: {"daily": 1, "weekly": 0, "monthly": 0})
    jobs.scheduled_backup.call(timezone.now().isoformat())
    assert BackupRun.objects.first().pruned >= 3
    left = [p.name for p in backups_on.iterdir()]
    assert len(left) == 1 and archive_time(left[0]) > old


def _fake_backup(directory, now, **kw):
    from kehu.core.backup.service import BackupResult

    path = Path(directory) / archive_name(now)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"archive")
    return BackupResult(path, 7, {"tables": {"t": {"rows": 1, "checksum": "x"}}, "media": {"files": 0}}, 0.1, 0.1)


@pytest.mark.django_db
def test_a_failed_backup_notifies_the_administrators(backups_on, org, monkeypatch, django_capture_on_commit_callbacks):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jobs, "create_backup", broken)
    with django_capture_on_commit_callbacks(execute=True):
        out = jobs.scheduled_backup.call(timezone.now().isoformat())
    assert out["status"] == "failed" and "No space left" in out["message"]
    run = BackupRun.objects.get()
    assert not run.succeeded and "No space left on device" in run.message
    notes = Notification.objects.filter(url="/admin/backups/")
    assert list(notes.values_list("user__username", flat=True)) == ["admin"]  # administrators only
    assert "No space left on device" in notes.get().body
    assert [m.to for m in mail.outbox] == [["admin@example.com"]]
    assert "No space left on device" in mail.outbox[0].body


# --- what administrators see -------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_card_shows_the_last_backup_to_administrators(org, settings):
    settings.KEHU_BACKUP_SCHEDULE = "daily"
    admin = ui(org.admin)
    page = admin.get("/?panel=backup")
    assert page.status_code == 200 and 'data-level="none"' in page.content.decode()
    ok = BackupRun.objects.create(status="succeeded", size=2_500_000, tables=140, rows=1000, file="/x.tar")
    page = admin.get("/?panel=backup").content.decode()
    assert 'data-level="ok"' in page and "2.4" in page and "140" in page
    BackupRun.objects.create(status="failed", message="pg_dump failed: permission denied for table x")
    page = admin.get("/?panel=backup").content.decode()
    assert 'data-level="failed"' in page and "permission denied for table x" in page
    # an old success with no failure since is late
    BackupRun.objects.filter(status="failed").delete()
    BackupRun.objects.filter(pk=ok.pk).update(finished_at=timezone.now() - datetime.timedelta(days=3))
    assert 'data-level="late"' in admin.get("/?panel=backup").content.decode()
    full = admin.get("/admin/backups/")
    assert full.status_code == 200 and 'data-testid="backup-runs"' in full.content.decode()
    assert 'href="/admin/backups/"' in admin.get("/").content.decode()  # in the Administration menu


@pytest.mark.django_db
def test_others_do_not_see_backups(org):
    for user in (org.manager, org.supervisor):
        client = ui(user)
        assert client.get("/?panel=backup").status_code == 404
        assert client.get("/admin/backups/").status_code == 403
        assert 'data-home-panel="backup"' not in client.get("/").content.decode()
