"""The imports API under /api/v1/imports/.

    POST /api/v1/imports/             multipart: file, record_type, dry_run (default true), duplicates,
                                      mode, preset, mapping (JSON {"column header": "field"})
    GET  /api/v1/imports/{id}         status, counts, progress, a page of bad rows (errors_offset/limit)
    POST /api/v1/imports/{id}/run     import a checked job
    POST /api/v1/imports/{id}/undo    remove what it created, put back what it updated

Rules as on the pages: importing needs the record type's create right (403), a job is the caller's
(anyone else: 404; an administrator may undo it), bad input is a 422 naming the field."""

from __future__ import annotations

import datetime
import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile

from . import base, files, jobs
from .models import ImportJob

router = Router(tags=["imports"])


class ImportOut(Schema):
    id: int
    record_type: str
    filename: str
    status: str = Field(..., description="new, queued, running, checked (dry run done), done, failed, cancelled, undone")
    dry_run: bool = Field(..., description="Whether the queued or last run is a check that writes nothing.")
    duplicates: str
    mode: str
    headers: list[str]
    mapping: dict[str, str] = Field(..., description="Column index -> field.")
    rows_total: int | None = None
    rows_done: int
    percent: int
    rows_per_second: float | None = None
    seconds_left: int | None = None
    created: int
    updated: int
    skipped: int
    bad_rows: int
    duplicate_rows: int
    errors: list[dict] = Field(..., description="A page of bad rows: line, column, message.")
    errors_total: int = Field(..., description="Bad-row messages kept (the first 500); all are in the error file.")
    duplicates_found: list[dict]
    unknown_values: dict
    error: str = ""
    errors_file_url: str | None = None
    created_at: datetime.datetime
    finished_at: datetime.datetime | None = None
    url: str


def out(job: ImportJob, offset: int = 0, limit: int = 100) -> dict:
    rate = job.rows_per_second
    return {
        "id": job.pk, "record_type": job.record_type, "filename": job.filename, "status": job.status,
        "dry_run": job.dry_run, "duplicates": job.duplicates, "mode": job.mode, "headers": job.headers,
        "mapping": job.mapping, "rows_total": job.rows_total, "rows_done": job.rows_done, "percent": job.percent,
        "rows_per_second": round(rate, 1) if rate else None, "seconds_left": job.seconds_left,
        "created": job.created, "updated": job.updated, "skipped": job.skipped, "bad_rows": job.failed_rows,
        "duplicate_rows": job.duplicate_rows, "errors": job.errors[offset:offset + limit],
        "errors_total": len(job.errors), "duplicates_found": job.duplicates_found[:100],
        "unknown_values": job.unknown_values, "error": job.error,
        "errors_file_url": f"/imports/{job.pk}/errors/" if job.errors_file else None,
        "created_at": job.created_at, "finished_at": job.finished_at, "url": f"/api/v1/imports/{job.pk}",
    }


def own(request, pk: int) -> ImportJob:
    job = ImportJob.objects.filter(pk=pk, user=request.auth).first()
    if job is None:
        raise Http404
    return job


@router.post("/", response={201: ImportOut}, operation_id="import_create", summary="Upload a file to import")
def create_import(request, file: File[UploadedFile], record_type: Form[str], dry_run: Form[bool] = True,
                  duplicates: Form[str] = "skip", mode: Form[str] = "good", preset: Form[str] = "",
                  mapping: Form[str] = ""):
    """Reads the file, maps its columns (the caller's saved mapping, the preset, the fields' names;
    `mapping` overrides: {"column header": "field" or ""}), then checks it (`dry_run`, the default:
    nothing is written) or imports it. Poll the job's `url` until its status is checked or done."""
    if record_type not in base.all_importers():
        raise ValidationError({"record_type": [f"One of: {', '.join(sorted(base.all_importers()))}."]})
    if duplicates not in ImportJob.Duplicates.values:
        raise ValidationError({"duplicates": [f"One of: {', '.join(ImportJob.Duplicates.values)}."]})
    if mode not in ImportJob.Mode.values:
        raise ValidationError({"mode": [f"One of: {', '.join(ImportJob.Mode.values)}."]})
    if not jobs.may_import(request.auth, record_type):
        raise PermissionDenied("No right to create these records.")
    overrides = {}
    if mapping:
        try:
            overrides = json.loads(mapping)
            assert isinstance(overrides, dict)
        except (ValueError, AssertionError):
            raise ValidationError({"mapping": ["A JSON object: column header -> field."]}) from None
    if file.size > files.MAX_UPLOAD_MB * 1024 * 1024:
        raise ValidationError({"file": [f"Larger than {files.MAX_UPLOAD_MB} MB."]})
    job = jobs.create(request.auth, record_type, file.name or "upload.csv", upload=file, preset=preset)
    if overrides:
        importer = base.get(record_type)
        allowed = {f.name for f in importer.fields()} | set(importer.virtual_fields())
        bad = [k for k, v in overrides.items() if v and v not in allowed]
        if bad:
            raise ValidationError({"mapping": [f"Unknown field for {k!r}." for k in bad]})
        by_header = {h: str(i) for i, h in enumerate(job.headers)}
        for header, target in overrides.items():
            if header not in by_header:
                raise ValidationError({"mapping": [f"No column {header!r}."]})
            job.mapping = {k: v for k, v in job.mapping.items() if v != target or not target}
            job.mapping[by_header[header]] = target
        job.mapping = {k: v for k, v in job.mapping.items() if v}
    job.duplicates, job.mode = duplicates, mode
    job.save()
    if dry_run:
        jobs.start(job, dry_run=True)
    else:
        jobs.start(job, dry_run=False, checked=False)
    job.refresh_from_db()
    return 201, out(job)


@router.get("/{int:pk}", response=ImportOut, operation_id="import_get", summary="An import's status and report")
def get_import(request, pk: int, errors_offset: int = 0, errors_limit: int = 100):
    return out(jobs.live(own(request, pk)), max(0, errors_offset), max(1, min(errors_limit, 500)))


@router.post("/{int:pk}/run", response=ImportOut, operation_id="import_run", summary="Import a checked file")
def run_import(request, pk: int):
    job = own(request, pk)
    if not jobs.may_import(request.auth, job.record_type):
        raise PermissionDenied("No right to create these records.")
    jobs.start(job, dry_run=False)
    job.refresh_from_db()
    return out(job)


@router.post("/{int:pk}/undo", response=dict, operation_id="import_undo", summary="Undo an import")
def undo_import(request, pk: int):
    job = ImportJob.objects.filter(pk=pk).first()
    if job is None or not jobs.may_undo(request.auth, job):
        raise Http404
    return jobs.undo(job, request.auth)
