"""The public answer page `/s/<signed token>/`: no login, no navigation, nothing but the company's
name and the subject's summary. Each request is counted per address and per link (429 above the
limits); a link that is not signed by us, or names no survey, is a 404 that says nothing more."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from kehu.core import ratelimit

from . import services
from .models import COMMENT_MAX

STARS = (1, 2, 3, 4, 5)

# the token is in the path: no Referer carries it to another site (same-origin: "no-referrer" would
# also make the browser send `Origin: null` with the answer, which the CSRF check refuses), no search
# engine keeps it, no cache stores the page; scripts are not needed and not allowed
HEADERS = {
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store, private",
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self' data:; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
}


def _page(request, template, ctx, *, status=200, language=None):
    language = language or translation.get_language()
    with translation.override(language):
        response = render(request, f"surveys/public/{template}.html",
                          {"company_name": settings.KEHU_COMPANY_NAME, "lang": language, **ctx}, status=status)
    for name, value in HEADERS.items():
        response[name] = value
    response["Content-Language"] = language
    return response


def _limited(request, token) -> int:
    window = settings.KEHU_SURVEY_RATE_WINDOW
    return (ratelimit.hit("survey-ip", ratelimit.client_ip(request), limit=settings.KEHU_SURVEY_RATE_PER_IP,
                          window=window)
            or ratelimit.hit("survey-link", token, limit=settings.KEHU_SURVEY_RATE_PER_LINK, window=window))


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def answer(request, token):
    retry = _limited(request, token)
    if retry:
        response = _page(request, "limited", {}, status=429)
        response["Retry-After"] = str(retry)
        return response
    survey = services.survey_for_token(token)
    if survey is None:
        return _page(request, "not_found", {}, status=404)
    lang = survey.language
    state = services.state_of(survey)
    if state == services.ALREADY:
        return _page(request, "already", {}, language=lang)
    if state == services.EXPIRED:
        return _page(request, "expired", {}, status=410, language=lang)
    errors, rating, comment = {}, None, ""
    if request.method == "POST":
        rating, comment = request.POST.get("rating"), request.POST.get("comment", "")
        try:
            result = services.answer_survey(survey, rating, comment)
        except ValidationError as exc:
            errors = {field: " ".join(messages) for field, messages in exc.message_dict.items()}
        else:
            if result == services.ANSWERED:
                return _page(request, "thanks", {"survey": survey}, language=lang)
            if result == services.ALREADY:
                return _page(request, "already", {}, language=lang)
            return _page(request, "expired", {}, status=410, language=lang)
    try:
        chosen = int(rating) if rating is not None else None
    except ValueError:
        chosen = None
    return _page(request, "form", {"summary": survey.summary, "stars": STARS, "chosen": chosen,
                                   "comment": comment, "errors": errors, "comment_max": COMMENT_MAX},
                 language=lang)
