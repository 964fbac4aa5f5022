"""The exports API under /api/v1/exports/: an export of any record type's list is a background job.

    POST /api/v1/exports/          {"record_type": "customer", "format": "csv", "filters": {"q": "北京"}}
    GET  /api/v1/exports/{id}      status, progress, download_url when done
    GET  /api/v1/exports/{id}/download
    GET  /api/v1/exports/          the caller's exports, newest first
    DELETE /api/v1/exports/{id}

Rules: creating needs the record type's `export` right (403); the job exports exactly the rows the
caller sees in the list (their data scope, the same filters). A job is visible to its creator only:
anyone else's id is a 404. Unknown record types, formats and filters are a 422 naming the field.
"""

from __future__ import annotations

import datetime
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, QueryDict
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from pydantic import ConfigDict

from . import exports_jobs
from .exports_models import ExportJob
from .exports_views import CONTENT_TYPES
from .registry import registry

router = Router(tags=["exports"])

FilterValue = str | int | float | bool | list[str | int]


class ExportIn(Schema):
    model_config = ConfigDict(extra="forbid")

    record_type: str = Field(..., description="The record type's key, e.g. `customer`, `contact`, `opportunity`.")
    format: Literal["csv", "xlsx"] = Field("csv", description="`csv` (UTF-8 with BOM) or `xlsx`.")
    filters: dict[str, FilterValue] = Field(
        default_factory=dict,
        description="The list's filters, as its list endpoint takes them (`q`, `owner`, `tag`, `created_after`, "
                    "`cf_<name>`, ...). A list value repeats the parameter.")


class ExportOut(Schema):
    id: int
    record_type: str
    format: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    rows_done: int = Field(..., description="Rows written so far.")
    total_estimate: int | None = Field(None, description="Rows expected (counted when the job starts).")
    percent: int
    rows_per_second: float | None = None
    seconds_left: int | None = Field(None, description="Estimated, while running.")
    filename: str
    size: int | None = Field(None, description="Bytes, when done.")
    error: str = ""
    created_at: datetime.datetime
    started_at: datetime.datetime | None = None
    finished_at: datetime.datetime | None = None
    url: str = Field(..., description="This job in the API (poll it every 1-2 s).")
    download_url: str | None = Field(None, description="The file, once `status` is `done`.")


def out(job: ExportJob) -> dict:
    base = f"/api/v1/exports/{job.pk}"
    rate = job.rows_per_second
    return {
        "id": job.pk, "record_type": job.record_type, "format": job.format, "status": job.status,
        "rows_done": job.rows_done, "total_estimate": job.total_estimate, "percent": job.percent,
        "rows_per_second": round(rate, 1) if rate else None, "seconds_left": job.seconds_left,
        "filename": job.filename, "size": job.size, "error": job.error, "created_at": job.created_at,
        "started_at": job.started_at, "finished_at": job.finished_at, "url": base,
        "download_url": f"{base}/download" if job.status == ExportJob.Status.DONE else None,
    }


def own(request, pk: int) -> ExportJob:
    job = ExportJob.objects.filter(pk=pk, user=request.auth).first()
    if job is None:
        raise Http404
    return job


@router.post("/", response={201: ExportOut}, operation_id="export_create",
             summary="Export a list (a background job)")
def create_export(request, payload: ExportIn):
    """Starts the export of the caller's visible records of `record_type` matching `filters`.
    403 without the record type's export right; 422 for an unknown record type or filter."""
    if payload.record_type not in registry.keys():
        raise ValidationError({"record_type": [f"One of: {', '.join(sorted(registry.keys()))}."]})
    rt = registry.get(payload.record_type)
    if not request.auth.has_right(rt.module, "export"):
        raise PermissionDenied(f"No right {rt.module}.export.")
    data = QueryDict(mutable=True)
    unknown = [k for k in payload.filters if k not in rt.filterset.base_filters and not k.startswith("cf_")]
    if unknown:
        raise ValidationError({f"filters.{k}": ["Unknown filter."] for k in unknown})
    for key, value in payload.filters.items():
        values = value if isinstance(value, list) else [value]
        data.setlist(key, [str(v).lower() if isinstance(v, bool) else str(v) for v in values])
    exports_jobs.filtered_queryset(rt, request.auth, data)  # 422 for invalid filter values, now
    job = exports_jobs.start(request.auth, rt, payload.format, data)
    return 201, out(job)


@router.get("/", response=list[ExportOut], operation_id="export_list", summary="My exports")
def list_exports(request):
    return [out(job) for job in ExportJob.objects.filter(user=request.auth).order_by("-id")[:100]]


@router.get("/{int:pk}", response=ExportOut, operation_id="export_get", summary="An export's status and progress")
def get_export(request, pk: int):
    """404 unless the caller created it."""
    return out(own(request, pk))


@router.get("/{int:pk}/download", operation_id="export_download", summary="Download an export's file",
            response={200: None, 409: dict})
def download_export(request, pk: int):
    """The file (404 unless the caller created it; 409 while it is not done)."""
    job = own(request, pk)
    path = exports_jobs.path_of(job)
    if job.status != ExportJob.Status.DONE:
        raise HttpError(409, f"The export is {job.status}.")
    if path is None or not path.exists():
        raise Http404
    return FileResponse(open(path, "rb"), as_attachment=True, filename=job.filename,  # noqa: SIM115
                        content_type=CONTENT_TYPES.get(job.format, "application/octet-stream"))


@router.delete("/{int:pk}", response={204: None}, operation_id="export_delete",
               summary="Cancel and delete an export")
def delete_export(request, pk: int):
    exports_jobs.delete(own(request, pk))
    return 204, None
