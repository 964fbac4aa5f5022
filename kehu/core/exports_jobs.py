"""Exports as background jobs: above KEHU_EXPORT_SYNC_ROWS rows an export is an `ExportJob` run by
the django-tasks worker, never a long HTTP response that a worker timeout could cut off.

The job re-applies the list's query string with the requesting user's data scope (`rt.visible(user)`
and the record type's filter set: visibility lives in kehu/accounts/scope.py only), writes
`<exports dir>/<id>-<random>.<fmt>.part`, renames it when complete, and notifies the user. Progress
(`rows_done`, `progress_at`) is written about once a second; `progress_at` is also the heartbeat by
which `cleanup_exports` finds a job whose worker died (then marked failed, its temporary file removed).
Finished files are removed after KEHU_EXPORT_KEEP_DAYS.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import secrets
import time
import zipfile

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django_tasks import task

from . import export
from .exports_models import ExportJob
from .registry import Column, RecordType, registry

log = logging.getLogger(__name__)

FORMATS = ("csv", "xlsx")
PROGRESS_SECONDS = 1.0  # how often a running job writes its progress (and notices a cancel)


def _setting(name: str, default: int) -> int:
    """A Django setting, else the environment variable of the same name, else the default."""
    return int(getattr(settings, name, None) or os.environ.get(name) or default)


def sync_rows() -> int:
    """Up to this many rows an export streams from the list; above, it is a background job."""
    return _setting("KEHU_EXPORT_SYNC_ROWS", 5000)


def keep_days() -> int:
    """Finished export files are removed after this many days."""
    return _setting("KEHU_EXPORT_KEEP_DAYS", 7)


def stale_minutes() -> int:
    """A running export without progress for this long has lost its worker: marked failed."""
    return _setting("KEHU_EXPORT_STALE_MINUTES", 10)


class Cancelled(Exception):
    pass


# --- what is exported: the same rows the list shows the user -----------------------------------

def filtered_queryset(rt: RecordType, user, data: QueryDict | None):
    """The user's visible records of `rt` with the list's filters applied (invalid filters: a
    ValidationError, never a broader query)."""
    qs = rt.visible(user)
    if data:
        fs = rt.filterset(data, queryset=qs, user=user)
        if not fs.is_valid():
            raise ValidationError(fs.errors)
        return fs.qs
    return qs


def export_columns(rt: RecordType) -> list[Column]:
    """Every exportable field of the record type and its custom fields (not only the shown columns)."""
    from .customfields import fields_for

    names = list(rt.export_fields or [f.name for f in rt.model._meta.fields if f.name not in (
        "custom_fields", "deleted_at", "deleted_by", "version", "password", "search_text")])
    if rt.is_kehu_model and "tags" not in names:
        names.append("tags")  # every Kehu record has tags, and its import reads them back
    cols = [Column(n, rt.export_labels.get(n) or rt.field_label(n)) for n in names]
    if rt.is_kehu_model:
        cols += [Column(cf.key, cf.display_label) for cf in fields_for(rt.record_type_name)]
    if rt.export_lines is not None:
        cols += rt.export_lines.columns()
    return cols


def row_count(rt: RecordType, queryset) -> int:
    """The rows an export of `queryset` writes: a row per record, or per child (`rt.export_lines`)."""
    return rt.export_lines.row_count(queryset) if rt.export_lines is not None else queryset.count()


def base_filename(rt: RecordType) -> str:
    return f"{slugify(rt.url_prefix) or rt.key}-{timezone.localdate():%Y%m%d}"


def more_than(queryset, n: int) -> bool:
    """Whether the query has more than n rows, without COUNT(*): at most n + 1 ids are read."""
    return len(queryset.select_related(None).prefetch_related(None).order_by().values_list("pk", flat=True)[:n + 1]) > n


def clean_query(data: QueryDict) -> str:
    params = data.copy()
    for key in ("format", "cursor", "count", "per_page", "partial"):
        params.pop(key, None)
    return params.urlencode()


# --- starting, cancelling, deleting --------------------------------------------------------------

def start(user, rt: RecordType, fmt: str, data: QueryDict) -> ExportJob:
    """Create the job (the caller has checked the export right and validated the filters) and
    enqueue it once the transaction commits."""
    if fmt not in FORMATS:
        raise ValidationError({"format": [_("One of: %(formats)s.") % {"formats": ", ".join(FORMATS)}]})
    job = ExportJob.objects.create(
        user=user, record_type=rt.key, query=clean_query(data), format=fmt,
        filename=f"{base_filename(rt)}.{fmt}", language=translation.get_language() or settings.LANGUAGE_CODE,
        time_zone=timezone.get_current_timezone_name())
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


ACCOUNT = "*"  # the record type of a whole-account export: every type the user may export, one XLSX each


def account_types(user) -> list[RecordType]:
    """The record types a whole-account export holds: those the user may export, in menu order."""
    return [rt for rt in registry.all() if user.has_right(rt.module, "export")]


def start_account(user) -> ExportJob:
    """A whole-account export (issue 15: "for a customer leaving or auditing"): a zip with one XLSX
    per record type the user may export, each with the user's data scope; the caller has checked
    the right `account.export`."""
    job = ExportJob.objects.create(
        user=user, record_type=ACCOUNT, format="zip", filename=f"kehu-{timezone.localdate():%Y%m%d}.zip",
        language=translation.get_language() or settings.LANGUAGE_CODE, time_zone=timezone.get_current_timezone_name())
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(pk: int):
    result = run_export.enqueue(pk)
    if not result.is_finished:  # the immediate backend (tests) has run it already
        ExportJob.objects.filter(pk=pk, task_id="").update(task_id=str(result.id)[:64])


def cancel(job: ExportJob) -> bool:
    """Ask a queued or running job to stop; the worker removes its temporary file."""
    changed = ExportJob.objects.filter(pk=job.pk, status__in=ExportJob.ACTIVE).update(
        status=ExportJob.Status.CANCELLED, finished_at=timezone.now())
    if changed:
        job.refresh_from_db()
    return bool(changed)


def delete(job: ExportJob) -> None:
    """Remove the job and its file (a running job sees its row gone and stops)."""
    cancel(job)
    remove_file(job)
    ExportJob.objects.filter(pk=job.pk).delete()


def path_of(job: ExportJob):
    return export.exports_dir() / job.file_path if job.file_path else None


def remove_file(job: ExportJob) -> None:
    for path in filter(None, [path_of(job), _part_path(job)]):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _part_path(job: ExportJob):
    return export.exports_dir() / f"{job.file_path}.part" if job.file_path else None


def download_url(job: ExportJob) -> str:
    return reverse("core:export_download", args=[job.pk])


# --- running -------------------------------------------------------------------------------------

@task
def run_export(job_id: int) -> dict:
    """Write the export file of job `job_id` (the django-tasks worker runs this)."""
    job = ExportJob.objects.select_related("user").filter(pk=job_id).first()
    if job is None or job.status != ExportJob.Status.QUEUED:
        return {"skipped": job.status if job else "deleted"}
    with translation.override(job.language or settings.LANGUAGE_CODE), \
            timezone.override(job.time_zone or settings.TIME_ZONE):
        return execute(job)


def execute(job: ExportJob) -> dict:
    now = timezone.now()
    job.file_path = f"{job.pk}-{secrets.token_hex(8)}.{job.format}"
    claimed = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING, started_at=now, progress_at=now, file_path=job.file_path)
    if not claimed:
        return {"skipped": "not queued"}
    job.status, job.started_at, job.progress_at = ExportJob.Status.RUNNING, now, now
    part = _part_path(job)
    try:
        user = job.user
        progress = _Progress(job)
        if job.record_type == ACCOUNT:
            rows = _write_account(job, part, progress)
        else:
            rt = registry.get(job.record_type)
            if not user.is_active or not user.has_right(rt.module, "export"):
                raise PermissionDenied(_("You no longer have the right to export %(type)s.") % {
                    "type": rt.label_plural})
            qs = filtered_queryset(rt, user, QueryDict(job.query))
            total = row_count(rt, qs)  # once, in the background: the progress bar's denominator
            ExportJob.objects.filter(pk=job.pk).update(total_estimate=total)
            job.total_estimate = total
            columns = export_columns(rt)
            if job.format == "csv":
                rows = export.write_csv(part, qs, columns, progress)
            else:
                rows = export.write_xlsx(part, qs, columns, str(rt.label_plural), progress)
        progress.check()
        final = path_of(job)
        os.replace(part, final)
        size = final.stat().st_size
        done = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
            status=ExportJob.Status.DONE, rows_done=rows, total_estimate=rows, size=size,
            progress_at=timezone.now(), finished_at=timezone.now())
        if not done:  # cancelled or deleted in the last moment
            os.unlink(final)
            raise Cancelled
    except Cancelled:
        _discard(part)
        return {"cancelled": job.pk}
    except Exception as exc:
        _discard(part)
        message = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.message_dict.items()) \
            if isinstance(exc, ValidationError) and hasattr(exc, "error_dict") else str(exc)
        if not isinstance(exc, (PermissionDenied, ValidationError)):
            log.exception("export job %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.FAILED, error=message[:2000] or
                                                   type(exc).__name__, finished_at=timezone.now())
        from .services import notify

        notify(job.user, _("Export failed: %(name)s") % {"name": job.filename}, message[:500],
               reverse("core:export_detail", args=[job.pk]))
        return {"failed": job.pk, "error": message[:200]}
    from .services import notify

    notify(job.user, _("Your export is ready: %(name)s") % {"name": job.filename},
           _("%(rows)s rows, %(size)s.") % {"rows": f"{rows:,}", "size": _size(size)}, download_url(job))
    return {"done": job.pk, "rows": rows}


def _write_account(job: ExportJob, part, progress) -> int:
    """The zip of a whole-account export: `<type>.xlsx` per record type the user may export (the
    list's columns and custom fields, the user's data scope, as each list exports), and
    `manifest.json` with the row count of each file. Returns the rows written in all."""
    user = job.user
    if not user.is_active or not user.has_right("account", "export"):
        raise PermissionDenied(_("You no longer have the right to export the whole account."))
    types = [(rt, rt.visible(user)) for rt in account_types(user)]
    total = sum(row_count(rt, qs) for rt, qs in types)
    ExportJob.objects.filter(pk=job.pk).update(total_estimate=total)
    job.total_estimate = total
    done, manifest = 0, []
    sheet = export.exports_dir() / f"{job.file_path}.sheet"
    try:
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_STORED) as archive:  # xlsx is compressed
            for rt, qs in types:
                offset = done
                rows = export.write_xlsx(sheet, qs, export_columns(rt), str(rt.label_plural),
                                         lambda n, offset=offset: progress(offset + n))
                name = f"{slugify(rt.url_prefix.replace('/', '-')) or rt.key}.xlsx"
                archive.write(sheet, name)
                manifest.append({"file": name, "record_type": rt.key, "label": str(rt.label_plural), "rows": rows})
                done += rows
                progress(done)
            archive.writestr("manifest.json", json.dumps(
                {"exported_at": timezone.now().isoformat(), "user": user.get_username(), "files": manifest},
                ensure_ascii=False, indent=1), compress_type=zipfile.ZIP_DEFLATED)
    finally:
        _discard(sheet)
    return done


def _size(size: int) -> str:
    from django.template.defaultfilters import filesizeformat

    return str(filesizeformat(size))


def _discard(path) -> None:
    try:
        if path is not None:
            os.unlink(path)
    except FileNotFoundError:
        pass


class _Progress:
    """Called by the writers after each batch: writes rows_done about once a second, and stops
    the export (Cancelled) when the job was cancelled or deleted meanwhile."""

    def __init__(self, job: ExportJob):
        self.job = job
        self.last = 0.0

    def __call__(self, rows: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_SECONDS:
            return
        self.last = now
        if not ExportJob.objects.filter(pk=self.job.pk, status=ExportJob.Status.RUNNING).update(
                rows_done=rows, progress_at=timezone.now()):
            raise Cancelled

    def check(self) -> None:
        if not ExportJob.objects.filter(pk=self.job.pk, status=ExportJob.Status.RUNNING).exists():
            raise Cancelled


# --- cleanup -------------------------------------------------------------------------------------

def cleanup(now=None) -> dict:
    """Mark jobs whose worker died failed (their temporary file removed), delete finished jobs and
    their files after KEHU_EXPORT_KEEP_DAYS, and remove files no job knows of."""
    now = now or timezone.now()
    stale = now - datetime.timedelta(minutes=stale_minutes())
    dead = 0
    for job in ExportJob.objects.filter(status=ExportJob.Status.RUNNING, progress_at__lt=stale):
        if ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING, progress_at__lt=stale).update(
                status=ExportJob.Status.FAILED, finished_at=now,
                error=_("The export stopped making progress (its worker ended); start it again.")):
            remove_file(job)
            dead += 1
    # queued for a day: no worker is running
    never = ExportJob.objects.filter(status=ExportJob.Status.QUEUED, created_at__lt=now - datetime.timedelta(days=1))
    dead += never.update(status=ExportJob.Status.FAILED, finished_at=now, error=_("No worker ran the export."))
    expired = 0
    for job in ExportJob.objects.filter(created_at__lt=now - datetime.timedelta(days=keep_days())).exclude(
            status__in=ExportJob.ACTIVE):
        remove_file(job)
        job.delete()
        expired += 1
    orphans = 0
    known = set()
    for name in ExportJob.objects.exclude(file_path="").values_list("file_path", flat=True):
        known |= {name, f"{name}.part"}
    directory = export.exports_dir()
    for entry in os.scandir(directory):
        # files of no job (a deleted row, a crashed small XLSX export) older than the stale limit
        if entry.is_file() and entry.name not in known and entry.stat().st_mtime < stale.timestamp():
            _discard(entry.path)
            orphans += 1
    return {"dead": dead, "expired": expired, "orphans": orphans}


@task
def cleanup_exports(now: str | None = None) -> dict:
    """Every minute (declared in kehu/core/registrations.py): see `cleanup`."""
    return cleanup(parse_datetime(now) if now else None)
