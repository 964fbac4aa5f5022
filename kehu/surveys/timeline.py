"""Survey answers on the customer's timeline: "Survey answered: 4/5 ‘…’"."""

from django.urls import reverse

from kehu.core import timeline

from .models import Survey
from .services import answer_title


@timeline.register("surveys", right="survey.view")
def survey_events(customer, user, cursor, limit):
    rows = (Survey.objects.visible_to(user).filter(customer=customer, answered_at__isnull=False)
            .filter(cursor.older("answered_at", "surveys")).select_related("contact")
            .order_by("-answered_at", "-id")[:limit])
    return [timeline.Event(s.answered_at, "survey", answer_title(s), body=s.summary,
                           url=reverse("surveys:survey_detail", args=[s.pk]), actor=None,
                           icon="ti-mood-smile", id=s.pk, source="surveys") for s in rows]
