from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kehu.core.models import Notification
from kehu.core.registry import registry

NAV = [
    # (section label, [record type keys]); keys not registered (yet) are left out
    (_("Customers"), ["customer", "contact"]),
    (_("Sales"), ["opportunity"]),
    (_("Activities"), ["followup", "task"]),
]
ADMIN_NAV = ["user", "department", "role", "stage", "dictitem", "customfield"]


def kehu(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def items(keys):
        out = []
        for key in keys:
            if key not in registry.keys():
                continue
            rt = registry.get(key)
            if user.has_right(rt.module, "view"):
                out.append({"label": rt.label_plural, "url": reverse(rt.url_name("list")), "icon": rt.nav_icon,
                            "key": key})
        return out

    nav = [{"label": label, "items": items(keys)} for label, keys in NAV]
    admin_items = items(ADMIN_NAV)
    if user.has_right("audit", "view"):
        admin_items.append({"label": _("Audit log"), "url": reverse("core:audit_log"), "icon": "ti-history",
                            "key": "audit"})
    if user.has_right("outbox", "view"):  # e-mail kept instead of sent (kehu/core/mail.py)
        admin_items.append({"label": _("Outbox"), "url": reverse("core:outbox"), "icon": "ti-mail",
                            "key": "outbox"})
    return {
        "nav": [n for n in nav if n["items"]],
        "admin_nav": admin_items,
        "unread_count": lambda: Notification.objects.filter(user=user, read_at__isnull=True).count(),
    }
