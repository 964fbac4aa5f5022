"""One row per backup run (scheduled or `kehu backup`): what the administrators' card shows."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BackupRun(models.Model):
    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        MANUAL = "manual", _("Command line")

    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    trigger = models.CharField(_("started by"), max_length=12, choices=Trigger.choices, default=Trigger.MANUAL)
    file = models.CharField(_("file"), max_length=500, blank=True)
    size = models.BigIntegerField(_("size"), null=True, blank=True)
    tables = models.PositiveIntegerField(_("tables"), null=True, blank=True)
    rows = models.BigIntegerField(_("rows"), null=True, blank=True)
    media_files = models.PositiveIntegerField(_("files"), null=True, blank=True)
    backup_seconds = models.FloatField(_("backup time (s)"), null=True, blank=True)
    verify_seconds = models.FloatField(_("verification time (s)"), null=True, blank=True)
    pruned = models.PositiveIntegerField(_("old backups removed"), default=0)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        app_label = "core"
        ordering = ["-id"]
        verbose_name = _("backup")
        verbose_name_plural = _("backups")

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def succeeded(self) -> bool:
        return self.status == self.Status.SUCCEEDED
