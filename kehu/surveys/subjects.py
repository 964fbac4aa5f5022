"""What a record must say to be a survey subject, declared by its own app (as core's registries):

    # kehu/service/registrations.py
    from kehu.surveys.subjects import register_subject

    register_subject(Ticket,
                     summary=lambda t: f"{t.number} {t.subject}",     # all the answer page shows
                     customer=lambda t: t.customer,
                     contact=lambda t: t.contact,                     # the recipient (its e-mail)
                     on_answer=lambda t, rating, comment, survey: record_satisfaction(t, rating, comment))

`on_answer` runs in the answer's transaction, once (the survey is answered at most once): an
exception in it rolls the answer back. `language(obj)` (optional) chooses the e-mail's and the
page's language; without it the contact's `language` if it has one, else the company's.
`url(obj)` (optional) links the survey's page back to the subject.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class SurveySubject:
    model: type
    summary: Callable[[Any], str]
    customer: Callable[[Any], Any]
    contact: Callable[[Any], Any]
    on_answer: Callable[[Any, int, str, Any], None]
    language: Callable[[Any], str | None] | None = None
    url: Callable[[Any], str] | None = None


_subjects: dict[str, SurveySubject] = {}


def register_subject(model, *, summary, customer, contact, on_answer, language=None, url=None) -> SurveySubject:
    """Declare `model` a survey subject. A model is declared once (a second, different declaration
    is an error: two apps would answer for the same records)."""
    label = model._meta.label_lower
    subject = SurveySubject(model, summary, customer, contact, on_answer, language, url)
    current = _subjects.get(label)
    if current is not None and current != subject:
        raise ImproperlyConfigured(f"{label} is already a survey subject")
    _subjects[label] = subject
    return subject


def unregister_subject(model) -> None:
    _subjects.pop(model._meta.label_lower, None)


def subject_for(model) -> SurveySubject | None:
    return _subjects.get(model._meta.label_lower)


def get_subject(model) -> SurveySubject:
    found = subject_for(model)
    if found is None:
        raise ImproperlyConfigured(f"{model._meta.label_lower} is not a survey subject (register_subject)")
    return found
