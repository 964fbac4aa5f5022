"""A handled ticket asks its contact for a rating (kehu/service/surveys.py, kehu/surveys): the
e-mailed link's answer becomes the ticket's satisfaction and takes it to "feedback given"."""

import json
import re

import pytest
from django.core import mail
from django.test import Client

from kehu.core.testing.factories import auth
from kehu.customers.testing import make_contact, make_customer
from kehu.service.models import Ticket
from kehu.service.testing import make_ticket
from kehu.surveys.models import Survey

pytestmark = pytest.mark.django_db
LINK = re.compile(r"https?://[^\s\"<>]+(/s/[^/\s\"<>]+/)")


def handle(user, ticket, text="已恢复联网"):
    return Client(**auth(user)).post(f"/api/v1/tickets/{ticket.pk}/transitions/handle",
                                     json.dumps({"handling": text}), content_type="application/json")


def test_handling_a_ticket_sends_the_survey_and_the_answer_is_its_feedback(org, django_capture_on_commit_callbacks):
    customer = make_customer(org.manager)
    contact = make_contact(customer, "韩梅梅", email="han.meimei@example.com")
    ticket = make_ticket(org.manager, customer=customer, contact=contact, status="assigned", handler=org.service)
    with django_capture_on_commit_callbacks(execute=True):
        assert handle(org.service, ticket).status_code == 200
    survey = Survey.objects.get()
    assert survey.subject == ticket and survey.summary == f"{ticket.number} {ticket.summary}"
    mails = [m for m in mail.outbox if m.to == ["han.meimei@example.com"]]
    assert len(mails) == 1
    path = LINK.search(mails[0].body).group(1)
    page = Client().get(path)
    assert page.status_code == 200 and ticket.number.encode() in page.content
    assert customer.name.encode() not in page.content  # the summary only
    assert Client().post(path, {"rating": "4", "comment": "处理很快"}).status_code == 200
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.status == "feedback" and ticket.satisfaction == 4 and ticket.satisfaction_source == "survey"
    # the ticket page shows its survey
    c = Client()
    c.force_login(org.supervisor)
    html = c.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'data-testid="surveys-panel"' in html and 'data-status="answered"' in html


def test_no_second_survey_while_one_waits_and_none_without_an_e_mail(org, django_capture_on_commit_callbacks):
    customer = make_customer(org.manager)
    contact = make_contact(customer, "李雷", email="li.lei@example.com")
    ticket = make_ticket(org.manager, customer=customer, contact=contact, status="assigned", handler=org.service)
    agent = Client(**auth(org.service))
    with django_capture_on_commit_callbacks(execute=True):
        assert handle(org.service, ticket).status_code == 200
        assert agent.post(f"/api/v1/tickets/{ticket.pk}/transitions/reopen", json.dumps({"comment": "仍有问题"}),
                          content_type="application/json").status_code == 200
        assert handle(org.service, ticket, "更换网卡").status_code == 200
    assert Survey.objects.count() == 1  # the first still waits for its answer
    silent = make_ticket(org.manager, customer=customer, contact=make_contact(customer, "无邮箱"), status="assigned",
                         handler=org.service)
    with django_capture_on_commit_callbacks(execute=True):
        assert handle(org.service, silent).status_code == 200  # handled all the same
    assert Survey.objects.count() == 1
