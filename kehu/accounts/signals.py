"""Login bookkeeping: session start time, known devices and the login-anomaly alert."""

import hashlib
import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from kehu.core.audit import register

from .middleware import SESSION_LAST_SEEN, SESSION_LOGIN_AT
from .models import Department, KnownDevice, Role, User

register(User)
register(Role)
register(Department)


def client_ip(request):
    forwarded = request.headers.get("X-Forwarded-For")
    return (forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR")) or None


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    if request is None:
        return
    now = time.time()
    request.session[SESSION_LOGIN_AT] = now
    request.session[SESSION_LAST_SEEN] = now
    if user.language:
        request.session["kehu_language"] = user.language
    check_device(request, user)


def check_device(request, user):
    ip = client_ip(request)
    agent = request.headers.get("User-Agent", "")[:300]
    ua_hash = hashlib.sha256(agent.encode()).hexdigest()
    known = KnownDevice.objects.filter(user=user)
    had_any = known.exists()
    device, created = KnownDevice.objects.get_or_create(
        user=user, ip=ip, ua_hash=ua_hash, defaults={"user_agent": agent}
    )
    if not created:
        KnownDevice.objects.filter(pk=device.pk).update(last_seen=timezone.now())
        return
    if had_any:
        from kehu.core.services import notify

        with override(user.language or None):
            when = timezone.localtime().strftime("%Y-%m-%d %H:%M")
            notify(
                user,
                _("New sign-in to your Kehu account"),
                _("Your account was used to sign in from a new place: IP %(ip)s, browser %(agent)s, at %(when)s. "
                  "If this was not you, change your password now and tell your administrator.")
                % {"ip": ip or "?", "agent": agent or "?", "when": when},
                url="/accounts/password/",
                email=True,
            )
