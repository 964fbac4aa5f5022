"""The global change log and the outbox for administrators, and the notification centre."""

from auditlog.models import LogEntry
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .models import Notification, OutboxMessage
from .pagination import InvalidCursor, paginate


@login_required
def audit_log(request):
    if not request.user.has_right("audit", "view"):
        raise PermissionDenied
    qs = LogEntry.objects.select_related("actor", "content_type")
    if request.GET.get("actor"):
        qs = qs.filter(actor_id=request.GET["actor"])
    if request.GET.get("model"):
        qs = qs.filter(content_type__model=request.GET["model"])
    if request.GET.get("object"):
        qs = qs.filter(object_id=request.GET["object"])
    if request.GET.get("date"):
        qs = qs.filter(timestamp__date=request.GET["date"])
    try:
        page = paginate(qs, sort="-id", cursor=request.GET.get("cursor"), size=50)
    except InvalidCursor:
        page = paginate(qs, sort="-id", cursor=None, size=50)
    params = request.GET.copy()
    params.pop("cursor", None)
    return render(request, "core/audit_log.html", {"page": page, "query": params.urlencode()})


@login_required
def notifications(request):
    qs = Notification.objects.filter(user=request.user)
    try:
        page = paginate(qs, sort="-id", cursor=request.GET.get("cursor"), size=30)
    except InvalidCursor:
        page = paginate(qs, sort="-id", cursor=None, size=30)
    return render(request, "core/notifications.html", {"page": page})


@login_required
def open_notification(request, pk):
    note = get_object_or_404(Notification, pk=pk, user=request.user)
    if note.read_at is None:
        Notification.objects.filter(pk=pk).update(read_at=timezone.now())
    target = note.url if note.url and url_has_allowed_host_and_scheme(note.url, {request.get_host()}) else None
    return HttpResponseRedirect(target or "/notifications/")


@login_required
@require_POST
def read_all(request):
    Notification.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return HttpResponseRedirect("/notifications/")


def _require_outbox(request):
    # mail carries customers' names and links: administrators only (the admin role's "*")
    if not request.user.has_right("outbox", "view"):
        raise PermissionDenied


@login_required
def outbox(request):
    """E-mail kept instead of sent (no KEHU_EMAIL_HOST; kehu/core/mail.py), newest first."""
    _require_outbox(request)
    qs = OutboxMessage.objects.only("id", "subject", "recipients", "created_at")
    try:
        page = paginate(qs, sort="-id", cursor=request.GET.get("cursor"), size=50)
    except InvalidCursor:
        page = paginate(qs, sort="-id", cursor=None, size=50)
    return render(request, "core/outbox.html", {"page": page})


@login_required
def outbox_message(request, pk):
    _require_outbox(request)
    return render(request, "core/outbox_message.html", {"message": get_object_or_404(OutboxMessage, pk=pk)})
