"""ExportJob: an export of a list that runs in the background (kehu/core/exports_jobs.py).

Imported at the end of kehu/core/models.py so that Django finds it in the core app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .progress import RowProgress


class ExportJob(RowProgress, models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    progress_total = "total_estimate"  # kehu/core/progress.py

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs",
                             verbose_name=_("user"))
    record_type = models.CharField(_("record type"), max_length=40)
    query = models.TextField(_("filters"), blank=True)  # the list's query string: filters, sort, columns
    format = models.CharField(_("format"), max_length=4)  # csv | xlsx
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_done = models.BigIntegerField(_("rows written"), default=0)
    total_estimate = models.BigIntegerField(_("rows expected"), null=True, blank=True)
    filename = models.CharField(_("file name"), max_length=200)  # offered to the browser
    file_path = models.CharField(max_length=300, blank=True)  # relative to the exports directory
    size = models.BigIntegerField(_("size"), null=True, blank=True)
    language = models.CharField(max_length=10, blank=True)  # the requester's, for labels in the file
    time_zone = models.CharField(max_length=50, blank=True)  # the requester's, for times in the file
    task_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)  # the worker's heartbeat: last progress written
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="core_export_user_idx"),
            models.Index(fields=["status", "progress_at"], condition=Q(status__in=["queued", "running"]),
                         name="core_export_active_idx"),
            models.Index(fields=["created_at"], name="core_export_created_idx"),
        ]
        verbose_name = _("export")
        verbose_name_plural = _("exports")

    def __str__(self):
        return self.filename


    @property
    def rows_text(self) -> str:
        return f"{self.rows_done:,}"

    @property
    def total_text(self) -> str:
        return "" if self.total_estimate is None else f"{self.total_estimate:,}"



