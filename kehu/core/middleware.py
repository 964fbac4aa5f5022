"""Request ids and error responses (issue 9).

`ErrorMiddleware` is the outermost middleware. It gives every request an id (the `X-Request-ID`
header of the request if it is a sane one, else a new one), puts it in every log line written while
the request runs (`RequestIdFilter`) and in the response's `X-Request-ID`, and turns errors into
answers a client can use:

- under /api/ every error is JSON: `{"detail": ..., "request_id": ...}`, whatever raised it and
  whether DEBUG is on or off;
- database unreachable (OperationalError / InterfaceError, e.g. while PostgreSQL restarts) → 503
  with `Retry-After`, a one-line warning in the log instead of a traceback per request;
- a statement past the request's time limit (kehu/core/deadline.py) → 503 saying so, the SQL logged;
- a body over DATA_UPLOAD_MAX_MEMORY_SIZE → 413, refused before anything reads it;
- an unhandled exception → 500; Django logs the traceback (with the request id), the UI shows
  500.html and the API the JSON above.

The 500, 503 and 413 pages are rendered without the request: no database query, no request.user.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .deadline import is_timeout, limit_ms, request_deadline

log = logging.getLogger("kehu.errors")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("kehu_request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = "2"  # an immediate PostgreSQL restart takes 0.4-0.8 s


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every log record ("-" outside a request)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            # Django logs 4xx after the middleware returned, with the request in `extra`
            record.request_id = getattr(getattr(record, "request", None), "request_id", None) or request_id_var.get()
        return True


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def _remember_exception(sender, request=None, **kwargs):
    """Django's uncaught-exception path (also for exceptions raised in other middleware): keep the
    exception so ErrorMiddleware can answer it (503 for the database, JSON for the API)."""
    import sys

    if request is not None:
        request._kehu_exception = sys.exc_info()[1]


got_request_exception.connect(_remember_exception, dispatch_uid="kehu-remember-exception")


def _limit_text() -> str:
    from django.template.defaultfilters import filesizeformat

    return filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def error_response(request, status: int, detail: str, template: str | None = None) -> HttpResponse:
    rid = getattr(request, "request_id", request_id_var.get())
    if is_api(request) or template is None:
        return JsonResponse({"detail": detail, "request_id": rid}, status=status,
                            json_dumps_params={"ensure_ascii": False})
    html = render_to_string(template, {"request_id": rid, "detail": detail})  # no request: no DB, no user
    return HttpResponse(html, status=status)


def database_unavailable(request, exc) -> HttpResponse:
    if is_timeout(exc):
        return took_too_long(request)
    log.warning("database unavailable, answered 503: %s %s: %s: %s", request.method, request.path,
                type(exc).__name__, str(exc).strip().splitlines()[0] if str(exc).strip() else "")
    response = error_response(request, 503, _("The database is unavailable for a moment. Please retry shortly."),
                              "503.html")
    response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def took_too_long(request) -> HttpResponse:
    """A statement stopped by the request's time limit (the statement itself is logged by deadline.py)."""
    log.warning("request stopped by the time limit: %s %s", request.method, request.get_full_path()[:500])
    seconds = max(1, limit_ms() // 1000)
    return error_response(request, 503, _("This took longer than %(seconds)d seconds and was stopped. Narrow the "
                                          "filter or search, or try again later.") % {"seconds": seconds}, "503.html")


def too_large(request) -> HttpResponse:
    return error_response(request, 413, _("The request is too large; the limit is %(limit)s.") % {
        "limit": _limit_text()}, "413.html")


def body_too_large(request) -> bool:
    """What Django refuses when the body is read (request.body), known from the headers alone. Multipart
    uploads are left to Django: their files do not count against the limit."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None or request.content_type == "multipart/form-data":
        return False
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > limit
    except ValueError:
        return False


class ErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        rid = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = rid
        token = request_id_var.set(rid)
        try:
            if body_too_large(request):
                response = too_large(request)
            else:
                with request_deadline():  # no request holds a worker for long (kehu/core/deadline.py)
                    response = self.get_response(request)
                response = self.after(request, response)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = rid
        return response

    def after(self, request, response):
        exc = getattr(request, "_kehu_exception", None)
        if exc is not None and response.status_code == 500:
            if isinstance(exc, DATABASE_ERRORS):
                return database_unavailable(request, exc)
            if is_api(request) or not settings.DEBUG:  # in DEBUG the UI keeps Django's technical page
                return error_response(request, 500, _("Internal server error. Quote the request id when you "
                                                      "report it."), "500.html")
        if is_api(request) and response.status_code >= 400 and not response.get("Content-Type", "").startswith(
                "application/json"):
            # Django's own 400/403/404/500 pages (an unknown /api/ URL, a CSRF failure, ...)
            return error_response(request, response.status_code, response.reason_phrase)
        return response

    def process_exception(self, request, exc):
        """Exceptions raised by a view (the API re-raises what it does not handle itself)."""
        if isinstance(exc, DATABASE_ERRORS):
            return database_unavailable(request, exc)
        if isinstance(exc, RequestDataTooBig):
            return too_large(request)
        if is_api(request):
            if isinstance(exc, Http404):
                return error_response(request, 404, _("Not found."))
            if isinstance(exc, PermissionDenied):
                return error_response(request, 403, str(exc) or _("Permission denied."))
            if isinstance(exc, (BadRequest, SuspiciousOperation)):
                return error_response(request, 400, _("Bad request."))
        return None  # Django logs it with its traceback and answers 500; __call__ makes it JSON for the API
