from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from kehu.core import registries
from kehu.core.models import Notification


def notifications_panel(request, ctx):
    ctx["notes"] = list(Notification.objects.filter(user=request.user, read_at__isnull=True)[:8])
    return "ui/home_notifications.html"


@login_required
def home(request):
    """My day: what the person should look at first.

    The page is a shell that answers without reading any record: each panel the apps declare
    (kehu.core.registries.home_panel) and the user holds the right for is a fragment
    (`?panel=tasks`, ...) that HTMX loads after the page (`hx-trigger="load"`), in place of a
    placeholder of the panel's size. Each is bounded (LIMIT) and read from an index, and a slow one
    only delays itself. A panel the user has no right to answers 404."""
    user = request.user
    panels = registries.home_panels_for(user)
    ctx = {"today": timezone.localdate()}
    name = request.GET.get("panel")
    if name is not None:
        panel = next((p for p in panels if p.key == name), None)
        template = panel.build(request, ctx) if panel else None
        if template is None:
            raise Http404
        return render(request, template, ctx)
    ctx["main_panels"] = [p for p in panels if p.column == "main"]
    ctx["side_panels"] = [p for p in panels if p.column != "main"]
    ctx["home_actions"] = registries.home_actions_for(user)
    return render(request, "ui/home.html", ctx)


def healthz(request):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
