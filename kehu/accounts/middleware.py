"""Session timeouts, forced password change, the user's language and time zone."""

import time
import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

SESSION_LAST_SEEN = "kehu_last_seen"
SESSION_LOGIN_AT = "kehu_login_at"
EXEMPT_PREFIXES = ("/static/", "/accounts/login", "/accounts/logout", "/i18n/", "/accounts/password", "/api/",
                   "/healthz")


class UserLanguageMiddleware:
    """Before LocaleMiddleware: a logged-in user's saved language wins over the browser's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        lang = request.session.get("kehu_language") if hasattr(request, "session") else None
        if lang and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = lang
        return self.get_response(request)


class SessionTimeoutMiddleware:
    """Log out after KEHU_IDLE_TIMEOUT_MINUTES without a request, and after the absolute lifetime."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and SESSION_LOGIN_AT in request.session:
            now = time.time()
            last = request.session.get(SESSION_LAST_SEEN, now)
            login_at = request.session.get(SESSION_LOGIN_AT, now)
            idle = settings.KEHU_IDLE_TIMEOUT_MINUTES * 60
            if now - last > idle or now - login_at > settings.SESSION_COOKIE_AGE:
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                messages.info(request, _("Your session expired. Please log in again."))
                login = reverse("accounts:login")
                if getattr(request, "htmx", False):
                    from django.http import HttpResponse

                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = login
                    return response
                return redirect(f"{login}?next={request.path}")
            if now - last > 30:  # write the session at most every 30 s
                request.session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


class ForcePasswordChangeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(EXEMPT_PREFIXES)
        ):
            return redirect("accounts:password_change")
        return self.get_response(request)


def activate_time_zone(user) -> None:
    """The user's time zone for this request (the default one for nobody): dates are the user's
    local days (a date filter's bounds), times shown in it. The middleware does it for a session;
    the API does it once a token names the user (kehu.core.api.TokenAuth)."""
    tz = getattr(user, "time_zone", None) if user is not None and user.is_authenticated else None
    if tz:
        try:
            timezone.activate(zoneinfo.ZoneInfo(tz))
            return
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    timezone.deactivate()


class UserTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        activate_time_zone(user)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)
