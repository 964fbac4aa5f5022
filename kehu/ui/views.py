from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone

from kehu.core.models import Notification


@login_required
def home(request):
    """My day: what the person should look at first. Later modules add their panels here."""
    from kehu.customers.models import Customer

    user = request.user
    ctx = {"today": timezone.localdate(), "notes": Notification.objects.filter(user=user, read_at__isnull=True)[:8]}
    if user.has_right("customer", "view"):
        mine = Customer.objects.filter(owner=user)
        ctx["recent_customers"] = mine.select_related("type", "level").order_by("-updated_at", "-id")[:8]
        ctx["pool_count_link"] = True
    return render(request, "ui/home.html", ctx)


def healthz(request):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
