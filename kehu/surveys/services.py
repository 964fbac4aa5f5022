"""Satisfaction surveys: sending, the signed link, answering once, the follow-up of the unanswered.
The ticket page, the API, the public page and the daily job all call these."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import COMMENT_MAX, Survey
from .subjects import get_subject

log = logging.getLogger(__name__)

SALT = "kehu.surveys.link"  # a link signed for surveys is valid for nothing else signed with SECRET_KEY


# --- the link ------------------------------------------------------------------------------------

def link_token(survey: Survey) -> str:
    """`<token id>:<signature>`: only the survey's random public id, signed (HMAC of SECRET_KEY)."""
    return signing.Signer(salt=SALT).sign(survey.token_id)


def survey_for_token(token: str) -> Survey | None:
    """The survey a link names, or None for a tampered, foreign or unknown link (never a hint why)."""
    try:
        token_id = signing.Signer(salt=SALT).unsign(token or "")
    except signing.BadSignature:
        return None
    return Survey.objects.filter(token_id=token_id).select_related("customer").first()


def survey_link(survey: Survey) -> str:
    path = reverse("surveys:answer", args=[link_token(survey)])
    return settings.KEHU_BASE_URL.rstrip("/") + path


def survey_language(value: str | None) -> str:
    """One of settings.LANGUAGES' codes: "en" for any English, "zh-hans" for Chinese, else the company's."""
    code = (value or "").strip().lower().replace("_", "-")
    if code.startswith("en"):
        return "en"
    if code.startswith("zh"):
        return "zh-hans"
    default = settings.LANGUAGE_CODE.lower()
    return "en" if default.startswith("en") else "zh-hans"


# --- sending -------------------------------------------------------------------------------------

def send_survey(subject, user, *, language: str | None = None) -> Survey:
    """Create the survey of `subject` (a registered survey subject) and e-mail its contact the link,
    once the transaction commits. Refused (ValidationError on `contact`) when the subject has no
    contact with an e-mail address: nothing is created and nothing sent."""
    spec = get_subject(type(subject))
    customer = spec.customer(subject)
    contact = spec.contact(subject)
    email = (getattr(contact, "email", "") or "").strip()
    if customer is None:
        raise ValidationError({"customer": _("A survey needs the customer it asks.")})
    if not email:
        message = (_("%(contact)s has no e-mail address: no survey was sent.") % {"contact": contact}
                   if contact is not None else _("There is no contact to send the survey to."))
        raise ValidationError({"contact": message})
    if language is None and spec.language is not None:
        language = spec.language(subject)
    if language is None:
        language = getattr(contact, "language", None) or settings.LANGUAGE_CODE
    now = timezone.now()
    survey = Survey(
        content_type=ContentType.objects.get_for_model(type(subject)), object_id=subject.pk,
        summary=str(spec.summary(subject))[:300], customer=customer, contact=contact, email=email,
        language=survey_language(language), created_at=now,
        expires_at=now + datetime.timedelta(days=settings.KEHU_SURVEY_DAYS),
        owner_id=customer.owner_id, created_by=user if getattr(user, "pk", None) else None,
    )
    survey.save()
    transaction.on_commit(lambda: deliver(survey.pk))
    return survey


def render_email(survey: Survey) -> tuple[str, str, str]:
    """(subject, text, html) in the survey's language, from that language's own templates."""
    lang = survey.language
    ctx = {"survey": survey, "link": survey_link(survey), "company_name": settings.KEHU_COMPANY_NAME,
           "contact_name": survey.contact.name if survey.contact_id else "",
           "days": settings.KEHU_SURVEY_DAYS,
           "expires_on": timezone.localtime(survey.expires_at).date()}
    with translation.override(lang):
        subject = render_to_string(f"surveys/email/survey_subject.{lang}.txt", ctx).strip()
        text = render_to_string(f"surveys/email/survey.{lang}.txt", ctx)
        html = render_to_string(f"surveys/email/survey.{lang}.html", ctx)
    return " ".join(subject.split()), text, html


def deliver(survey_pk: int) -> bool:
    """Send the survey's e-mail (SMTP, or core's outbox without a mail server); `sent_at` records
    that the mail server took it. A failure is logged and leaves `sent_at` empty."""
    survey = Survey.objects.select_related("contact", "customer").filter(pk=survey_pk).first()
    if survey is None:
        return False
    subject, text, html = render_email(survey)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [survey.email])
    message.attach_alternative(html, "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # the ticket's transition that asked for the survey must not fail
        log.warning("sending survey %s to %s failed: %s: %s", survey.pk, survey.email, type(exc).__name__,
                    " ".join(str(exc).split())[:300])
        return False
    Survey.objects.filter(pk=survey.pk).update(sent_at=timezone.now())
    return True


# --- answering -----------------------------------------------------------------------------------

ANSWERED, ALREADY, EXPIRED = "answered", "already", "expired"


def state_of(survey: Survey, now=None) -> str:
    """What the link leads to now: the form ("open"), ALREADY answered or EXPIRED."""
    now = now or timezone.now()
    if survey.answered_at is not None:
        return ALREADY
    if survey.status == Survey.Status.EXPIRED or survey.expires_at <= now:
        return EXPIRED
    return "open"


def clean_answer(rating, comment) -> tuple[int, str]:
    errors = {}
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        errors["rating"] = _("Choose from 1 to 5 stars.")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        errors["comment"] = _("At most %(n)s characters, please.") % {"n": COMMENT_MAX}
    if errors:
        raise ValidationError(errors)
    return rating, comment


def answer_survey(survey: Survey, rating, comment: str = "", *, now=None) -> str:
    """Record the answer, once: ANSWERED, or ALREADY / EXPIRED and nothing written. Single use is
    the database's: one conditional UPDATE (`WHERE answered_at IS NULL AND status = 'sent' AND
    expires_at > now`) in the answer's transaction; of two concurrent answers the second finds the
    row answered (PostgreSQL re-reads it after the first commits; SQLite writes one at a time).
    The subject's `on_answer` runs in the same transaction, for the one that won."""
    rating, comment = clean_answer(rating, comment)
    now = now or timezone.now()
    with transaction.atomic():
        won = Survey.objects.filter(pk=survey.pk, answered_at__isnull=True, status=Survey.Status.SENT,
                                    expires_at__gt=now).update(
            answered_at=now, rating=rating, comment=comment, status=Survey.Status.ANSWERED, updated_at=now,
            version=F("version") + 1)
        survey.refresh_from_db()
        if not won:
            return ALREADY if survey.answered_at is not None else EXPIRED
        subject = survey.subject
        if subject is not None:
            get_subject(type(subject)).on_answer(subject, rating, comment, survey)
        owner = survey.customer.owner
        if owner is not None:
            from kehu.core.services import notify

            with translation.override(owner.language or settings.LANGUAGE_CODE):
                notify(owner, answer_title(survey), survey.summary,
                       url=reverse("surveys:survey_detail", args=[survey.pk]))
    return ANSWERED


def answer_title(survey: Survey) -> str:
    """"Survey answered: 4/5 ‘快速解决，谢谢’" (the comment shortened)."""
    comment = survey.comment if len(survey.comment) <= 60 else survey.comment[:59] + "…"
    if comment:
        return _("Survey answered: %(rating)s/5 ‘%(comment)s’") % {"rating": survey.rating, "comment": comment}
    return _("Survey answered: %(rating)s/5") % {"rating": survey.rating}


# --- the daily job -------------------------------------------------------------------------------

class _Taken(Exception):
    """Another run followed the survey up first: this run's task is rolled back."""


def follow_up_unanswered(now=None) -> int:
    """One follow-up task for the customer's account manager per survey unanswered for
    KEHU_SURVEY_FOLLOW_UP_DAYS, linked both ways; a survey is followed up once (a conditional
    UPDATE claims it: a second run, or a concurrent one, creates nothing). Returns the tasks made."""
    from kehu.activities.models import Task

    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.KEHU_SURVEY_FOLLOW_UP_DAYS)
    made = 0
    due = (Survey.objects.filter(status=Survey.Status.SENT, followed_up_task__isnull=True, created_at__lte=cutoff)
           .select_related("customer__owner", "contact").order_by("created_at"))
    for survey in due.iterator():
        manager = survey.customer.owner
        if manager is None or not manager.is_active:  # a customer in the public pool: nobody to call
            continue
        try:
            with transaction.atomic(), translation.override(manager.language or settings.LANGUAGE_CODE):
                contact = survey.contact.name if survey.contact_id else survey.email
                task = Task(
                    title=(_("Follow up the unanswered survey: %(summary)s") % {"summary": survey.summary})[:200],
                    customer=survey.customer, owner=manager, due_at=now + datetime.timedelta(days=1),
                    description=_("%(contact)s did not answer the satisfaction survey sent on %(date)s. "
                                  "Ask how it went: %(url)s") % {
                        "contact": contact, "date": timezone.localtime(survey.created_at).date().isoformat(),
                        "url": settings.KEHU_BASE_URL.rstrip("/") + reverse("surveys:survey_detail",
                                                                            args=[survey.pk])})
                task.save()
                if not Survey.objects.filter(pk=survey.pk, followed_up_task__isnull=True,
                                             status=Survey.Status.SENT).update(followed_up_task=task):
                    raise _Taken
        except _Taken:
            continue
        made += 1
    return made


def expire_surveys(now=None) -> int:
    """Unanswered surveys past their date become expired (the link said so already)."""
    now = now or timezone.now()
    return Survey.objects.filter(status=Survey.Status.SENT, expires_at__lte=now).update(
        status=Survey.Status.EXPIRED, updated_at=now, version=F("version") + 1)
