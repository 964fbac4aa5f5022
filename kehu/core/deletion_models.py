"""Deletion: one delete to the recycle bin and the records its declared cascades took with it
(kehu/core/relations.py), so that a restore brings back exactly those.

Imported at the end of kehu/core/models.py so that Django finds it in the core app.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Deletion(models.Model):
    """A record moved to the recycle bin by `kehu.core.relations.delete_record`."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    deleted_at = models.DateTimeField(_("deleted at"), default=timezone.now)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("deleted by"))

    class Meta:
        indexes = [models.Index(fields=["content_type", "object_id", "id"], name="core_deletion_obj_idx")]
        verbose_name = _("deletion")
        verbose_name_plural = _("deletions")

    def __str__(self):
        return f"{self.content_type_id}:{self.object_id}"


class DeletedItem(models.Model):
    """A record a cascade took with its deletion (a customer's contacts)."""

    deletion = models.ForeignKey(Deletion, on_delete=models.CASCADE, related_name="items")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["content_type", "object_id"], name="core_deleteditem_obj_idx")]

    def __str__(self):
        return f"{self.content_type_id}:{self.object_id}"
