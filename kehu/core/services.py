"""Shared actions: attachments, notifications, e-mail. Views, API and jobs all call these."""

from __future__ import annotations

import logging
import mimetypes
import os

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from .models import Attachment, Notification

log = logging.getLogger(__name__)


def validate_upload(upload) -> None:
    if upload is None:
        raise ValidationError(_("Choose a file to upload."), code="required")
    if upload.size > settings.KEHU_ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            _("The file is too large (%(size)s); the limit is %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(settings.KEHU_ATTACHMENT_MAX_BYTES)},
            code="too_large",
        )
    ext = os.path.splitext(upload.name)[1].lower().lstrip(".")
    if ext not in settings.KEHU_ATTACHMENT_EXTENSIONS:
        raise ValidationError(
            _("Files of type .%(ext)s are not allowed. Allowed: %(allowed)s.")
            % {"ext": ext or "?", "allowed": ", ".join(settings.KEHU_ATTACHMENT_EXTENSIONS)},
            code="type",
        )


def add_attachment(obj, upload, user) -> Attachment:
    validate_upload(upload)
    name = os.path.basename(upload.name)[:255]
    return Attachment.objects.create(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=obj.pk,
        file=upload,
        filename=name,
        size=upload.size,
        mime_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        uploaded_by=user,
    )


def notify(user, title: str, body: str = "", url: str = "", email: bool = False) -> Notification:
    """An in-app notification, and optionally the same by e-mail once the transaction commits."""
    note = Notification.objects.create(user=user, title=title[:200], body=body, url=url[:300])
    if email and user.email:
        link = settings.KEHU_BASE_URL.rstrip("/") + url if url else ""
        transaction.on_commit(lambda: send_email(user.email, title, body + ("\n\n" + link if link else "")))
    return note


def send_email(to: str, subject: str, body: str) -> bool:
    """Send through Django's configured backend (SMTP with KEHU_EMAIL_HOST, else the outbox).

    A failure is logged as one line (no traceback: an unreachable mail server is an operating
    condition, not a bug, and a worker retrying reminders every minute must not fill the log) and
    reported by returning False; the caller decides on a retry (reminders are retried on the next run).
    """
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)
        return True
    except Exception as exc:  # the request that triggered the mail must not fail because of it
        reason = " ".join(str(exc).split()) or "-"
        log.warning("sending mail %r to %s failed: %s: %s", subject[:80], to, type(exc).__name__, reason[:300])
        return False
