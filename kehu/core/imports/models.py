"""ImportJob (one uploaded file: its mapping, dry run, import and undo), ImportBatch (what one
committed batch wrote: the ids it created and the values it overwrote, for undo), ImportMapping
(a user's saved column mapping per record type). Imported at the end of kehu/core/models.py so
that Django finds them in the core app."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.progress import RowProgress


class ImportJob(RowProgress, models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("Mapping")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        CHECKED = "checked", _("Checked")  # a dry run finished
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        UNDONE = "undone", _("Undone")

    class Duplicates(models.TextChoices):
        SKIP = "skip", _("Skip the row")
        UPDATE = "update", _("Update the existing record")
        CREATE = "create", _("Create a new record anyway")

    class Mode(models.TextChoices):
        GOOD = "good", _("Import the good rows, leave out the bad ones")
        ALL = "all", _("All or nothing: import only if every row is good")

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    progress_complete = (Status.DONE, Status.CHECKED)  # kehu/core/progress.py (total: rows_total)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs",
                             verbose_name=_("user"))
    record_type = models.CharField(_("record type"), max_length=40)
    filename = models.CharField(_("file"), max_length=200)
    file_path = models.CharField(max_length=300)  # relative to the imports directory
    format = models.CharField(_("format"), max_length=4)  # xlsx | xls | csv
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=2, blank=True)
    header_line = models.PositiveIntegerField(_("header row"), default=1)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)  # {column index: field name}
    value_map = models.JSONField(default=dict)  # {field: {value key: dictionary pk | "new" | "reject"}}
    preset = models.CharField(_("preset"), max_length=20, blank=True)
    duplicates = models.CharField(_("duplicates"), max_length=6, choices=Duplicates.choices, default=Duplicates.SKIP)
    mode = models.CharField(_("mode"), max_length=4, choices=Mode.choices, default=Mode.GOOD)
    dry_run = models.BooleanField(default=True)  # the phase queued or running: a check or the import
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    rows_total = models.BigIntegerField(_("rows"), null=True, blank=True)
    rows_done = models.BigIntegerField(_("rows read"), default=0)
    created = models.BigIntegerField(_("created"), default=0)
    updated = models.BigIntegerField(_("updated"), default=0)
    skipped = models.BigIntegerField(_("skipped"), default=0)
    failed_rows = models.BigIntegerField(_("bad rows"), default=0)
    duplicate_rows = models.BigIntegerField(_("duplicates"), default=0)
    resume_line = models.BigIntegerField(default=0)  # the last line whose batch is committed
    errors = models.JSONField(default=list)  # the first bad rows: [{line, column, message}]
    duplicates_found = models.JSONField(default=list)  # the first duplicates: [{line, id, label, reasons}]
    unknown_values = models.JSONField(default=dict)  # {field: [values not in the dictionary]}
    errors_file = models.CharField(max_length=300, blank=True)
    language = models.CharField(max_length=10, blank=True)
    time_zone = models.CharField(max_length=50, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)  # the worker's heartbeat
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    imported_at = models.DateTimeField(_("imported"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("undone by"))

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="core_import_user_idx"),
            models.Index(fields=["status", "progress_at"], condition=Q(status__in=["queued", "running"]),
                         name="core_import_active_idx"),
        ]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self):
        return self.filename





    @property
    def may_import(self) -> bool:
        """Checked (a dry run), and for all-or-nothing without a bad row."""
        return self.status == self.Status.CHECKED and not (self.mode == self.Mode.ALL and self.failed_rows)

    @property
    def may_undo(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.CANCELLED) and \
            self.imported_at is not None and (self.created or self.updated)


class ImportBatch(models.Model):
    """One committed batch of an import, written in the same transaction as its rows: undo
    removes `created` and puts `before` back."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="batches")
    model = models.CharField(max_length=60)  # app_label.model_name
    created = models.JSONField(default=list)  # ids
    before = models.JSONField(default=list)  # [{"id": ..., "version": version after the import, "fields": {...}}]

    class Meta:
        indexes = [models.Index(fields=["job", "id"], name="core_importbatch_job_idx")]


class ImportMapping(models.Model):
    """A column mapping a user saved for reuse: header key -> field name."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    record_type = models.CharField(max_length=40)
    columns = models.JSONField(default=dict)
    values = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "record_type"], name="core_importmapping_user_type")]
