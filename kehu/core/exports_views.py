"""My exports: the progress page (HTMX polling), the list, download, cancel and delete.

Every view finds the job among the requesting user's own (`user=request.user`): another user's
job is a 404, never a 403, so ids reveal nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import exports_jobs
from .exports_models import ExportJob
from .registry import registry

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}


def _own(request, pk) -> ExportJob:
    return get_object_or_404(ExportJob, pk=pk, user=request.user)


def _label(job: ExportJob) -> str:
    if job.record_type == exports_jobs.ACCOUNT:
        return _("The whole account")
    try:
        return str(registry.get(job.record_type).label_plural)
    except KeyError:
        return job.record_type


def start_from_list(request, rt, fmt: str, qs):
    """The list view's export branch (`qs`: the list's rows, scope and filters applied): a small
    export streams at once, a large one becomes a job (the count is decided by reading at most
    KEHU_EXPORT_SYNC_ROWS + 1 ids, not by COUNT(*))."""
    from . import export
    if exports_jobs.more_than(qs, exports_jobs.sync_rows()):
        job = exports_jobs.start(request.user, rt, fmt, request.GET)
        messages.info(request, _("The export runs in the background; you will be notified when the file is ready."))
        return HttpResponseRedirect(reverse("core:export_detail", args=[job.pk]))
    name = exports_jobs.base_filename(rt)
    columns = exports_jobs.export_columns(rt)
    return (export.csv_response if fmt == "csv" else export.xlsx_response)(qs, columns, name)


@login_required
def export_list(request):
    jobs = list(ExportJob.objects.filter(user=request.user).order_by("-id")[:100])
    for job in jobs:
        job.type_label = _label(job)
    polling = any(job.is_active for job in jobs)
    template = "core/exports_table.html" if request.htmx else "core/exports_list.html"
    return render(request, template, {"jobs": jobs, "polling": polling, "keep_days": exports_jobs.keep_days(),
                                      "may_export_account": request.user.has_right("account", "export")})


@login_required
@require_POST
def export_account(request):
    """Start a whole-account export: one XLSX per record type the user may export, in a zip."""
    if not request.user.has_right("account", "export"):
        raise PermissionDenied
    job = exports_jobs.start_account(request.user)
    messages.info(request, _("The export runs in the background; you will be notified when the file is ready."))
    return HttpResponseRedirect(reverse("core:export_detail", args=[job.pk]))


@login_required
def export_detail(request, pk):
    job = _own(request, pk)
    job.type_label = _label(job)
    template = "core/exports_progress.html" if request.htmx else "core/exports_detail.html"
    return render(request, template, {"job": job})


@login_required
def export_download(request, pk):
    job = _own(request, pk)
    path = exports_jobs.path_of(job)
    if job.status != ExportJob.Status.DONE or path is None or not path.exists():
        raise Http404
    return FileResponse(open(path, "rb"), as_attachment=True, filename=job.filename,  # noqa: SIM115
                        content_type=CONTENT_TYPES.get(job.format, "application/octet-stream"))


@login_required
@require_POST
def export_cancel(request, pk):
    job = _own(request, pk)
    if exports_jobs.cancel(job):
        messages.info(request, _("The export was cancelled."))
    return HttpResponseRedirect(reverse("core:export_detail", args=[job.pk]))


@login_required
@require_POST
def export_delete(request, pk):
    job = _own(request, pk)
    exports_jobs.delete(job)
    messages.success(request, _("The export was deleted."))
    return HttpResponseRedirect(reverse("core:export_list"))


urlpatterns = [
    path("exports/", export_list, name="export_list"),
    path("exports/account/", export_account, name="export_account"),
    path("exports/<int:pk>/", export_detail, name="export_detail"),
    path("exports/<int:pk>/download/", export_download, name="export_download"),
    path("exports/<int:pk>/cancel/", export_cancel, name="export_cancel"),
    path("exports/<int:pk>/delete/", export_delete, name="export_delete"),
]
