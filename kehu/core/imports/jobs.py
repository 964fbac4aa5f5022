"""Import jobs: created from an upload, checked (dry run) and imported by the django-tasks worker
as the exports are (kehu/core/exports_jobs.py), cancelled, found dead, restarted and undone.

Crash safety: an all-or-nothing import runs in one transaction, so a killed worker leaves none of
its rows; a good-rows import commits each batch with its ImportBatch (what undo needs) and the
job's `resume_line`, so a restart goes on after the last committed batch. A running job whose
heartbeat (`progress_at`) is older than KEHU_IMPORT_STALE_MINUTES is marked failed by the
scheduler's `cleanup_imports` with a message saying so; the user can restart it."""

from __future__ import annotations

import datetime
import logging
import os

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django_tasks import task

from . import base, engine, files, readers
from .models import ImportBatch, ImportJob, ImportMapping

log = logging.getLogger(__name__)
STATISTICS_AFTER_ROWS = 1000  # an import this large refreshes the planner statistics (kehu/core/statistics.py)


def stale_minutes() -> int:
    return int(getattr(settings, "KEHU_IMPORT_STALE_MINUTES", None) or os.environ.get("KEHU_IMPORT_STALE_MINUTES")
               or 10)


def may_import(user, key: str) -> bool:
    """Importing is creating: the record type's create right."""
    from kehu.core.registry import registry

    try:
        rt = registry.get(key)
        base.get(key)
    except KeyError:
        return False
    return user.is_active and user.has_right(rt.module, "create")


def may_undo(user, job: ImportJob) -> bool:
    return job.user_id == user.pk or user.is_superuser or user.has_right("dictitem", "create")


# --- creating -----------------------------------------------------------------------------------

def create(user, key: str, filename: str, *, upload=None, data: bytes | None = None, preset: str = "",
           header_line: int | None = None, encoding: str = "", delimiter: str = "") -> ImportJob:
    """A job for an uploaded file: its table read (encoding, delimiter, header row), its columns
    mapped from the user's saved mapping, the preset and the fields' labels."""
    if not may_import(user, key):
        raise PermissionDenied
    fmt = readers.format_of(filename)
    if not fmt:
        raise ValidationError({"file": [_("Upload an .xlsx, .xls, .csv, .txt or .vcf file.")]})
    if fmt == "vcf":
        preset = "vcard"  # a vCard's columns are vCard's property names (kehu/core/imports/vcard.py)
    name = files.save_upload(upload, fmt) if upload is not None else files.save_bytes(data or b"", fmt)
    try:
        table = readers.open_table(files.imports_dir() / name, fmt, encoding=encoding, delimiter=delimiter,
                                   header_line=header_line)
    except readers.ReadError as exc:
        files.remove(name)
        raise ValidationError({"file": [_("The file cannot be read as a table (%(reason)s).") % {"reason": exc}]}) \
            from None
    if not table.headers:
        files.remove(name)
        raise ValidationError({"file": [_("The file has no header row.")]})
    saved = ImportMapping.objects.filter(user=user, record_type=key).first()
    importer = base.get(key)
    mapping = importer.guess_mapping(table.headers, preset, saved.columns if saved else None)
    return ImportJob.objects.create(
        user=user, record_type=key, filename=filename[:200], file_path=name, format=fmt, encoding=table.encoding,
        delimiter=table.delimiter, header_line=table.header_line, headers=table.headers, mapping=mapping,
        value_map=saved.values if saved else {}, preset=preset,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        time_zone=timezone.get_current_timezone_name())


def save_mapping(job: ImportJob) -> None:
    """Remember the job's mapping (by header) and value choices for the user's next import."""
    columns = {}
    for index, name in job.mapping.items():
        i = int(index)
        if name and i < len(job.headers):
            columns[readers_key(job.headers[i])] = name
    saved, _created = ImportMapping.objects.get_or_create(user=job.user, record_type=job.record_type)
    saved.columns = {**saved.columns, **columns}
    saved.values = {**saved.values, **job.value_map}
    saved.save()


def readers_key(header: str) -> str:
    from .coerce import key

    return key(header)


def missing_required(job: ImportJob) -> list[str]:
    importer = base.get(job.record_type)
    mapped = set(job.mapping.values())
    virtual = importer.virtual_fields()
    mapped |= {virtual[v] for v in mapped if v in virtual}
    form = importer.make_form(None, job.user)
    has_default = {name for name, ff in form.fields.items()
                   if form.get_initial_for_field(ff, name) not in (None, "", [])}
    return [str(f.label) for f in importer.fields() if f.required and not f.target and f.name not in mapped
            and f.name != "owner" and f.form_field not in has_default and f.name not in importer.provided_fields(job)]


# --- starting -----------------------------------------------------------------------------------

def start(job: ImportJob, *, dry_run: bool, checked: bool = True) -> ImportJob:
    """Queue the check or the import (the caller has checked the rights). An import needs a check
    first, unless `checked=False` (the API's one-step import: its rows are validated as it goes)."""
    if job.is_active:
        raise ValidationError(_("The import is already running."))
    if not dry_run and checked and job.status not in (ImportJob.Status.CHECKED, ImportJob.Status.FAILED,
                                          ImportJob.Status.CANCELLED):
        raise ValidationError(_("Check the file (dry run) before importing it."))
    if not dry_run and job.mode == ImportJob.Mode.ALL and job.failed_rows and job.imported_at is None:
        raise ValidationError(_("All or nothing: the check found bad rows. Correct the file, or import the good rows."))
    missing = missing_required(job)
    if missing:
        raise ValidationError(_("Map a column to: %(fields)s.") % {"fields": ", ".join(missing)})
    if dry_run or job.imported_at is None:  # from the start (a restart after a crash goes on instead)
        job.resume_line = 0
        job.rows_done = job.created = job.updated = job.skipped = job.failed_rows = job.duplicate_rows = 0
    job.dry_run = dry_run
    job.status = ImportJob.Status.QUEUED
    job.error = ""
    job.finished_at = None
    job.save()
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(pk: int):
    result = run_import.enqueue(pk)
    if not result.is_finished:  # the immediate backend (tests) has run it already
        ImportJob.objects.filter(pk=pk, task_id="").update(task_id=str(result.id)[:64])


def cancel(job: ImportJob) -> bool:
    """Stop a queued or running job. An all-or-nothing import (one transaction) sees the cancel
    file at its next progress tick, rolls back and is then marked cancelled; on SQLite its
    transaction holds the write lock, so the row is not written from here meanwhile."""
    if not job.is_active:
        return False
    files.request_cancel(job)
    if job.status == ImportJob.Status.RUNNING and job.mode == ImportJob.Mode.ALL and not job.dry_run:
        return True
    changed = ImportJob.objects.filter(pk=job.pk, status__in=ImportJob.ACTIVE).update(
        status=ImportJob.Status.CANCELLED, finished_at=timezone.now())
    if changed:
        job.refresh_from_db()
    return bool(changed)


def live(job: ImportJob) -> ImportJob:
    """The job with the running worker's latest counts (its progress file) over the row's."""
    if job.status == ImportJob.Status.RUNNING:
        data = files.read_progress(job)
        if data:
            for key in ("rows_done", "created", "updated", "skipped", "failed_rows", "duplicate_rows"):
                if key in data:
                    setattr(job, key, data[key])
            at = parse_datetime(data.get("at") or "")
            if at and (job.progress_at is None or at > job.progress_at):
                job.progress_at = at
    return job


# --- running ------------------------------------------------------------------------------------

@task
def run_import(job_id: int) -> dict:
    """Check or import job `job_id` (the django-tasks worker runs this)."""
    job = ImportJob.objects.select_related("user").filter(pk=job_id).first()
    if job is None or job.status != ImportJob.Status.QUEUED:
        return {"skipped": job.status if job else "deleted"}
    with translation.override(job.language or settings.LANGUAGE_CODE), \
            timezone.override(job.time_zone or settings.TIME_ZONE):
        return execute(job)


def execute(job: ImportJob) -> dict:
    now = timezone.now()
    dry = job.dry_run
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=now, progress_at=now, finished_at=None)
    if not claimed:
        return {"skipped": "not queued"}
    files.clear_run_files(job)
    job.refresh_from_db()
    if job.rows_total is None:
        total = readers.count_rows(engine.table_of(job))
        ImportJob.objects.filter(pk=job.pk).update(rows_total=total)
        job.rows_total = total
    try:
        if not may_import(job.user, job.record_type):
            raise PermissionDenied(_("You no longer have the right to import these records."))
        if not dry and job.imported_at is None:
            ImportJob.objects.filter(pk=job.pk).update(imported_at=timezone.now())
            job.imported_at = timezone.now()
        all_or_nothing = job.mode == ImportJob.Mode.ALL and not dry
        result = engine.run(job, dry_run=dry, progress=engine.Progress(job, in_transaction=all_or_nothing))
    except engine.Cancelled:
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
            status=ImportJob.Status.CANCELLED, finished_at=timezone.now(),
            **({"created": 0, "updated": 0, "resume_line": 0} if job.mode == ImportJob.Mode.ALL and not dry else {}))
        files.clear_run_files(job)
        return {"cancelled": job.pk}
    except engine.Abort:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED, finished_at=timezone.now(), created=0, updated=0, resume_line=0,
            error=_("All or nothing: a row could not be imported, so nothing was imported."))
        return {"failed": job.pk}
    except Exception as exc:
        if not isinstance(exc, (PermissionDenied, ValidationError)):
            log.exception("import job %s failed", job.pk)
        fields = {"created": 0, "updated": 0, "resume_line": 0} if job.mode == ImportJob.Mode.ALL else {}
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.FAILED, finished_at=timezone.now(),
                                                   error=(str(exc) or type(exc).__name__)[:2000], **fields)
        return {"failed": job.pk}
    files.clear_run_files(job)
    counts = result["counts"]
    status = ImportJob.Status.CHECKED if dry else ImportJob.Status.DONE
    done = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
        status=status, finished_at=timezone.now(), progress_at=timezone.now(), errors=result["errors"],
        duplicates_found=result["duplicates"], unknown_values=result["unknown"],
        errors_file=result["errors_file"], **counts)
    if done and not dry and counts["created"] + counts["updated"] >= STATISTICS_AFTER_ROWS:
        from kehu.core.statistics import refresh

        refresh()  # a table that grew by thousands of rows is planned with its new figures at once
    if done and not dry:
        from kehu.core.services import notify

        notify(job.user, _("Import finished: %(name)s") % {"name": job.filename},
               _("%(created)s created, %(updated)s updated, %(skipped)s skipped, %(bad)s bad rows.") % {
                   "created": counts["created"], "updated": counts["updated"], "skipped": counts["skipped"],
                   "bad": counts["failed_rows"]}, reverse("core:import_detail", args=[job.pk]))
    return {"done": job.pk, **counts}


# --- crashed workers ----------------------------------------------------------------------------

def cleanup(now=None) -> int:
    """Running jobs without a heartbeat for KEHU_IMPORT_STALE_MINUTES lost their worker: failed,
    with a message; what an all-or-nothing import wrote was rolled back by the database."""
    now = now or timezone.now()
    stale = now - datetime.timedelta(minutes=stale_minutes())
    dead = 0
    for job in ImportJob.objects.filter(status=ImportJob.Status.RUNNING, progress_at__lt=stale):
        beat = files.progress_mtime(job)
        if beat is not None and beat >= stale.timestamp():
            continue  # an all-or-nothing import writes its heartbeat to its progress file
        fields = {}
        with translation.override(job.language or settings.LANGUAGE_CODE):  # the message is the job's user's
            message = _recovery_message(job, fields)
        dead += ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING, progress_at__lt=stale).update(
            status=ImportJob.Status.FAILED, finished_at=now, error=message, **fields)
        files.clear_run_files(job)
    return dead


def _recovery_message(job, fields: dict) -> str:
    """What a job whose worker died says; `fields` gets the counters the death resets."""
    if job.mode == ImportJob.Mode.ALL and not job.dry_run:
        fields.update(created=0, updated=0, resume_line=0)
        return _("The import stopped (its worker ended); nothing was imported. Start it again.")
    if job.dry_run:
        return _("The check stopped (its worker ended). Start it again.")
    return _("The import stopped (its worker ended) after line %(line)s; the rows up to it are "
             "imported. Start it again to import the rest.") % {"line": job.resume_line}


@task
def cleanup_imports(now: str | None = None) -> dict:
    """Every minute (declared in kehu/core/registrations.py)."""
    return {"dead": cleanup(parse_datetime(now) if now else None)}


# --- undo ---------------------------------------------------------------------------------------

def undo(job: ImportJob, user) -> dict:
    """Remove the records the import created and put back what it overwrote (a record changed
    again since the import is left as it is and counted)."""
    from django.apps import apps
    from django.db.models.deletion import ProtectedError

    if not job.may_undo:
        raise ValidationError(_("This import cannot be undone."))
    importer = base.get(job.record_type)
    removed = restored = kept = 0
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().filter(pk=job.pk).exclude(status=ImportJob.Status.UNDONE)
        if not locked.exists():
            raise ValidationError(_("This import was undone already."))
        batches = list(ImportBatch.objects.filter(job=job).order_by("-id"))
        for batch in batches:
            model = importer.model if batch.model == "main" else apps.get_model(batch.model)
            for snap in batch.before:
                updated = model._base_manager.filter(pk=snap["id"], version=snap.get("version")).update(
                    version=F("version") + 1, **snap["fields"])
                if updated:
                    obj = model._base_manager.get(pk=snap["id"])
                    obj.set_tags(snap.get("tags", []))
                    if hasattr(obj, "refresh_search_text"):
                        obj.refresh_search_text()
                    importer.restored(obj, snap)
                    restored += 1
                else:
                    kept += 1
        ids_by_model: dict = {}
        for batch in batches:
            if batch.created:
                model = importer.model if batch.model == "main" else apps.get_model(batch.model)
                ids_by_model.setdefault(model, []).extend(batch.created)
        try:
            for model, ids in sorted(ids_by_model.items(), key=lambda kv: kv[0] is importer.model):
                for start in range(0, len(ids), 5000):
                    n = importer.remove(model, ids[start:start + 5000])
                    removed += n if model is importer.model else 0
        except ProtectedError:
            raise ValidationError(_("Records of this import are used by other records (orders, opportunities): "
                                    "they cannot be removed.")) from None
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.UNDONE, undone_at=timezone.now(),
                                                   undone_by=user)
    job.refresh_from_db()
    return {"removed": removed, "restored": restored, "kept": kept}
