"""Satisfaction surveys: sending (both languages, through a real SMTP server), the signed link
(once, expired, tampered, another survey's), what the public page shows, its rate limit and
headers, the answer on the timeline and the subject's panel, and the daily follow-up."""

import datetime
import re
import time

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.utils import timezone

from kehu.activities.models import Task
from kehu.core import timeline
from kehu.core.testing.smtp import free_port, smtp_fixture
from kehu.customers.testing import make_contact, make_customer
from kehu.surveys import services, testing
from kehu.surveys.models import Survey
from kehu.surveys.testing import make_subject, make_survey

LINK = re.compile(r"https?://[^\s\"<>]+/s/([^/\s\"<>]+)/")


def link_path(survey) -> str:
    return f"/s/{services.link_token(survey)}/"


# --- sending --------------------------------------------------------------------------------------

def test_send_survey_creates_it_and_mails_the_contact_once_committed(org, django_capture_on_commit_callbacks):
    order = make_subject(org.manager, email="li.lei@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        survey = services.send_survey(order, org.manager, language="en")
        assert mail.outbox == []  # not before the commit
    survey.refresh_from_db()
    assert survey.subject == order and survey.customer == order.customer and survey.contact == order.contact
    assert survey.status == "sent" and survey.sent_at is not None and survey.created_by == org.manager
    assert survey.owner == order.customer.owner
    assert survey.expires_at - survey.created_at == datetime.timedelta(days=14)
    assert survey.summary == f"{order.number} 年度运维服务"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["li.lei@example.com"]
    assert link_path(survey) in mail.outbox[0].body
    token = LINK.search(mail.outbox[0].body).group(1).split(":")[0]
    assert token == survey.token_id and len(token) >= 16 and token != str(survey.pk)  # random, not the row's number


def test_the_validity_is_a_setting(org, settings):
    settings.KEHU_SURVEY_DAYS = 5
    survey = make_survey(org.manager)
    assert survey.expires_at - survey.created_at == datetime.timedelta(days=5)


def test_nothing_is_sent_without_an_e_mail_address(org, django_capture_on_commit_callbacks):
    order = make_subject(org.manager, email="")
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ValidationError) as refused:
            services.send_survey(order, org.manager)
    assert "contact" in refused.value.message_dict and "李雷" in refused.value.message_dict["contact"][0]
    assert not Survey.objects.exists() and mail.outbox == []


def test_language_is_the_subjects_then_the_contacts_then_the_companys(org, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    order = make_subject(org.manager)
    assert services.send_survey(order, org.manager).language == "zh-hans"  # the company's
    order.contact.language = "en-GB"  # a contact that knows its language (a field the contact may get)
    assert services.send_survey(order, org.manager).language == "en"
    assert services.send_survey(order, org.manager, language="zh_CN").language == "zh-hans"


smtp = pytest.fixture(smtp_fixture, name="smtp")


def received(collector, n=1):
    deadline = time.monotonic() + 10
    while len(collector.messages) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(collector.messages) == n
    return collector.messages[-1]


def parts(message) -> dict:
    return {p.get_content_type(): p.get_payload(decode=True).decode(p.get_content_charset())
            for p in message.walk() if not p.is_multipart()}


def test_the_e_mail_reaches_a_real_smtp_server_in_chinese(org, smtp, settings, django_capture_on_commit_callbacks):
    settings.KEHU_COMPANY_NAME = "苏州客户科技有限公司"
    with django_capture_on_commit_callbacks(execute=True):
        survey = make_survey(org.manager, language="zh-hans", email="wang.fang@example.cn", contact_name="王芳")
    rcpt, message = received(smtp)
    assert rcpt == ["wang.fang@example.cn"]
    from email.header import decode_header, make_header

    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == "苏州客户科技有限公司：请为我们的服务打分"
    body = parts(message)
    assert set(body) == {"text/plain", "text/html"}
    for text in body.values():
        assert link_path(survey) in text and survey.summary in text
    assert "王芳，您好" in body["text/plain"] and "仅可使用一次" in body["text/plain"]
    assert "为本次服务打分" in body["text/html"] and 'lang="zh-Hans"' in body["text/html"]
    assert Survey.objects.get(pk=survey.pk).sent_at is not None


def test_the_e_mail_reaches_a_real_smtp_server_in_english(org, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        survey = make_survey(org.manager, language="en", email="john@example.com", contact_name="John Smith")
    _rcpt, message = received(smtp)
    assert message["Subject"] == "Kehu: how did we do?"
    body = parts(message)
    assert "Dear John Smith," in body["text/plain"] and "works once" in body["text/plain"]
    assert "Rate our service" in body["text/html"] and link_path(survey) in body["text/html"]
    assert "您好" not in body["text/plain"]


def test_a_mail_server_that_is_down_leaves_the_survey_unsent(org, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    with django_capture_on_commit_callbacks(execute=True):
        survey = make_survey(org.manager)  # the caller is not failed by the mail server
    assert Survey.objects.get(pk=survey.pk).sent_at is None


# --- the link ---------------------------------------------------------------------------------------

def test_the_link_works_once(org):
    survey = make_survey(org.manager, language="en")
    client = Client()
    page = client.get(link_path(survey))
    assert page.status_code == 200 and b'data-testid="survey-form"' in page.content
    done = client.post(link_path(survey), {"rating": "4", "comment": "快速解决，谢谢"})
    assert done.status_code == 200 and b'data-testid="survey-thanks"' in done.content
    survey.refresh_from_db()
    assert (survey.status, survey.rating, survey.comment) == ("answered", 4, "快速解决，谢谢")
    assert survey.answered_at is not None
    assert testing.ANSWERS == [(survey.object_id, 4, "快速解决，谢谢", survey.pk)]  # the subject's on_answer, once
    again = client.post(link_path(survey), {"rating": "1", "comment": "changed my mind"})
    assert again.status_code == 200 and b'data-testid="survey-already"' in again.content
    assert b"already answered" in again.content
    assert client.get(link_path(survey)).content.count(b'data-testid="survey-already"') == 1
    survey.refresh_from_db()
    assert (survey.rating, survey.comment) == (4, "快速解决，谢谢") and len(testing.ANSWERS) == 1


def test_an_expired_link_is_refused_on_a_frozen_clock(org):
    with time_machine.travel(datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC), tick=False):
        survey = make_survey(org.manager, language="en")
    client = Client()
    with time_machine.travel(datetime.datetime(2026, 3, 15, 8, 59, tzinfo=datetime.UTC), tick=False):
        assert b'data-testid="survey-form"' in client.get(link_path(survey)).content  # a minute left
    with time_machine.travel(datetime.datetime(2026, 3, 15, 9, 0, tzinfo=datetime.UTC), tick=False):
        page = client.get(link_path(survey))
        assert page.status_code == 410 and b"This link has expired" in page.content
        answer = client.post(link_path(survey), {"rating": "5"})
        assert answer.status_code == 410 and b'data-testid="survey-expired"' in answer.content
        assert services.answer_survey(survey, 5) == services.EXPIRED
    survey.refresh_from_db()
    assert survey.answered_at is None and survey.rating is None and testing.ANSWERS == []


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature changed
    lambda t: "x" + t,  # the id changed
    lambda t: t.split(":")[0],  # no signature
    lambda t: t.split(":")[0] + ":",
    lambda t: "nothing",
    lambda t: "%3Cscript%3E",
])
def test_a_tampered_link_is_a_404_that_says_nothing(org, tamper):
    survey = make_survey(org.manager, language="en")
    client = Client()
    page = client.get(f"/s/{tamper(services.link_token(survey))}/")
    assert page.status_code == 404 and b'data-testid="survey-not-found"' in page.content
    assert survey.summary.encode() not in page.content and b"expired" not in page.content
    assert client.post(f"/s/{tamper(services.link_token(survey))}/", {"rating": "5"}).status_code == 404
    assert Survey.objects.get(pk=survey.pk).answered_at is None


def test_a_link_signed_for_something_else_is_refused(org):
    from django.core import signing

    survey = make_survey(org.manager)
    other_salt = signing.Signer(salt="kehu.something.else").sign(survey.token_id)
    plain = signing.Signer().sign(survey.token_id)
    for token in (other_salt, plain):
        assert Client().get(f"/s/{token}/").status_code == 404


def test_a_deleted_survey_s_link_is_a_404(org):
    survey = make_survey(org.manager)
    survey.soft_delete(org.admin)
    assert Client().get(link_path(survey)).status_code == 404


def test_one_survey_s_link_cannot_read_or_answer_another(org):
    a = make_survey(org.manager, language="en", title="甲项目验收")
    b = make_survey(org.manager2, language="en", title="乙项目维修")
    client = Client()
    page = client.get(link_path(a))
    assert a.summary.encode() in page.content and b.summary.encode() not in page.content
    # the survey is named by the link only: form fields naming another survey change nothing
    client.post(link_path(a), {"rating": "2", "survey": b.pk, "id": b.pk, "token": services.link_token(b)})
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.rating == 2 and b.rating is None and b.answered_at is None
    # A's id with B's signature (and the other way) is no link at all
    a_id, _sig = services.link_token(a).split(":", 1)
    _b_id, b_sig = services.link_token(b).split(":", 1)
    assert client.get(f"/s/{a_id}:{b_sig}/").status_code == 404


def test_the_page_shows_only_the_summary_and_the_company(org, settings):
    settings.KEHU_COMPANY_NAME = "苏州客户科技有限公司"
    customer = make_customer(org.manager, "保密客户股份有限公司", phone="021-55550000")
    survey = make_survey(org.manager, language="en", customer=customer, email="secret.person@example.com",
                         contact_name="秘密联系人")
    order = survey.subject
    page = Client().get(link_path(survey))
    html = page.content.decode()
    assert survey.summary in html and "苏州客户科技有限公司" in html
    for secret in ("保密客户股份有限公司", "021-55550000", "secret.person@example.com", "秘密联系人",
                   org.manager.username, str(order.total), "/customers/", "/orders/", "navbar"):
        assert secret not in html, secret
    assert "<script" not in html
    assert page["Referrer-Policy"] == "same-origin"  # never to another site
    assert '<meta name="referrer" content="same-origin">' in html
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "no-store" in page["Cache-Control"]
    assert page["X-Frame-Options"] == "DENY" and page["X-Content-Type-Options"] == "nosniff"
    assert "script-src" not in page["Content-Security-Policy"] and "default-src 'none'" in page["Content-Security-Policy"]


def test_the_page_is_in_the_survey_s_language(org):
    zh = make_survey(org.manager, language="zh-hans")
    en = make_survey(org.manager, language="en")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    zh_page = client.get(link_path(zh))
    assert zh_page["Content-Language"] == "zh-hans" and b'<html lang="zh-hans">' in zh_page.content
    en_page = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get(link_path(en))
    assert en_page["Content-Language"] == "en" and b"How did we do?" in en_page.content


def test_the_answer_is_csrf_protected(org):
    survey = make_survey(org.manager)
    client = Client(enforce_csrf_checks=True)
    assert client.post(link_path(survey), {"rating": "5"}).status_code == 403
    assert Survey.objects.get(pk=survey.pk).answered_at is None
    page = client.get(link_path(survey))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    # what a browser sends: its Origin (with Referrer-Policy no-referrer it would be "null": refused)
    assert client.post(link_path(survey), {"rating": "5", "csrfmiddlewaretoken": token},
                       HTTP_ORIGIN="null").status_code == 403
    assert client.post(link_path(survey), {"rating": "5", "csrfmiddlewaretoken": token},
                       HTTP_ORIGIN="http://testserver").status_code == 200
    assert Survey.objects.get(pk=survey.pk).rating == 5


@pytest.mark.parametrize("data,field", [
    ({}, "rating"), ({"rating": "0"}, "rating"), ({"rating": "6"}, "rating"), ({"rating": "abc"}, "rating"),
    ({"rating": "3", "comment": "很" * 1001}, "comment"),
])
def test_bad_answers_are_shown_on_their_field(org, data, field):
    survey = make_survey(org.manager, language="en")
    page = Client().post(link_path(survey), data)
    assert page.status_code == 200 and f'data-testid="error-{field}"'.encode() in page.content
    assert Survey.objects.get(pk=survey.pk).answered_at is None


def test_rate_limited_per_link(org, settings):
    settings.KEHU_SURVEY_RATE_PER_LINK = 3
    survey, other = make_survey(org.manager, language="en"), make_survey(org.manager, language="en")
    client = Client(REMOTE_ADDR="10.1.1.1")
    assert [client.get(link_path(survey)).status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get(link_path(survey))
    assert limited.status_code == 429 and b'data-testid="survey-limited"' in limited.content
    assert int(limited["Retry-After"]) > 0 and limited["Referrer-Policy"] == "same-origin"
    assert client.post(link_path(survey), {"rating": "5"}).status_code == 429
    assert Survey.objects.get(pk=survey.pk).answered_at is None  # a refused request writes nothing
    assert client.get(link_path(other)).status_code == 200  # another link is counted on its own


def test_rate_limited_per_address(org, settings):
    settings.KEHU_SURVEY_RATE_PER_IP = 4
    surveys = [make_survey(org.manager, language="en") for _ in range(2)]
    guesser = Client(REMOTE_ADDR="10.2.2.2")
    codes = [guesser.get(f"/s/guess{i}:abc/").status_code for i in range(4)]
    assert codes == [404] * 4
    assert guesser.get(link_path(surveys[0])).status_code == 429  # even a good link, from that address
    assert Client(REMOTE_ADDR="10.3.3.3").get(link_path(surveys[1])).status_code == 200


def test_behind_a_proxy_the_forwarded_address_is_counted(org, settings):
    settings.KEHU_SURVEY_RATE_PER_IP = 2
    settings.KEHU_PROXY_COUNT = 1
    survey = make_survey(org.manager, language="en")
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    for _ in range(2):
        assert proxy.get(link_path(survey), HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 200
    assert proxy.get(link_path(survey), HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    # a client that writes its own X-Forwarded-For gets its own real address counted (the last hop)
    assert proxy.get(link_path(survey), HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7").status_code == 200


# --- where the answer lands ---------------------------------------------------------------------------

def test_the_answer_is_on_the_customer_s_timeline_and_notifies_the_account_manager(org):
    from kehu.core.models import Notification

    survey = make_survey(org.manager, language="en")
    Client().post(link_path(survey), {"rating": "4", "comment": "快速解决，谢谢"})
    from django.utils import translation

    with translation.override("en"):
        events = [e for e in timeline.events_for(survey.customer, org.manager) if e.kind == "survey"]
        assert [str(e.title) for e in events] == ["Survey answered: 4/5 ‘快速解决，谢谢’"]
    assert events[0].body == survey.summary
    assert events[0].url == f"/surveys/{survey.pk}/"
    assert timeline.events_for(survey.customer, org.supervisor)  # their department's customer
    assert not [e for e in timeline.events_for(survey.customer, org.manager2) if e.kind == "survey"]
    note = Notification.objects.get(user=org.manager)
    assert "4/5" in note.title and note.url == f"/surveys/{survey.pk}/"


def test_an_unanswered_survey_is_not_on_the_timeline(org):
    survey = make_survey(org.manager)
    assert not [e for e in timeline.events_for(survey.customer, org.manager) if e.kind == "survey"]


def render_panel(subject, user):
    request = RequestFactory().get("/")
    request.user = user
    return Template('{% include "surveys/_panel.html" with subject=subject %}').render(
        Context({"subject": subject, "request": request}))


def test_the_subject_s_panel_lists_its_surveys_and_their_state(org):
    answered = make_survey(org.manager, language="en")
    order = answered.subject
    services.answer_survey(answered, 5, "非常满意")
    waiting = services.send_survey(order, org.manager, language="en")
    make_survey(org.manager)  # another subject's: not on this panel
    html = render_panel(order, org.manager)
    assert html.count('data-testid="survey-row"') == 2
    assert 'data-status="answered"' in html and 'data-status="sent"' in html and "非常满意" in html
    assert f"/surveys/{waiting.pk}/" in html
    assert 'data-testid="surveys-panel"' not in render_panel(order, org.nobody)  # no right: no panel
    assert 'data-testid="survey-row"' not in render_panel(order, org.manager2)  # outside the scope


# --- the daily follow-up -----------------------------------------------------------------------------

def test_unanswered_surveys_get_one_follow_up_task_for_the_account_manager(org):
    from kehu.surveys.tasks import follow_up_surveys

    start = datetime.datetime(2026, 5, 4, 1, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        late = make_survey(org.manager, title="逾期未答")
        answered = make_survey(org.manager, title="已经回答")
        services.answer_survey(answered, 3)
    with time_machine.travel(start + datetime.timedelta(days=2), tick=False):
        recent = make_survey(org.manager, title="新近发送")
    pool = make_survey(org.manager, title="公海客户")
    pool.customer.owner = None
    pool.customer.save()
    with time_machine.travel(start + datetime.timedelta(days=3, hours=1), tick=False):
        assert follow_up_surveys.call(timezone.now().isoformat()) == {"followed_up": 1, "expired": 0}
        assert follow_up_surveys.call(timezone.now().isoformat()) == {"followed_up": 0, "expired": 0}  # once
    late.refresh_from_db()
    task = late.followed_up_task
    assert task is not None and Task.objects.count() == 1
    assert task.owner == org.manager and task.customer == late.customer and task.status == "todo"
    assert late.summary in task.title and f"/surveys/{late.pk}/" in task.description
    for other in (answered, recent, pool):
        other.refresh_from_db()
        assert other.followed_up_task is None
    with time_machine.travel(start + datetime.timedelta(days=5, hours=1), tick=False):
        assert follow_up_surveys.call(timezone.now().isoformat())["followed_up"] == 1  # `recent`, now 3 days old
    with time_machine.travel(start + datetime.timedelta(days=20), tick=False):
        result = follow_up_surveys.call(timezone.now().isoformat())
    assert result["followed_up"] == 0 and result["expired"] == 2  # late and recent (pool: created today)
    assert Task.objects.count() == 2
    late.refresh_from_db()
    assert late.status == "expired" and late.followed_up_task == task


def test_follow_up_days_are_a_setting_and_the_job_is_declared_daily(org, settings):
    from kehu.core import registries
    from kehu.surveys.tasks import follow_up_surveys

    settings.KEHU_SURVEY_FOLLOW_UP_DAYS = 1
    survey = make_survey(org.manager)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1, minutes=1), tick=False):
        assert services.follow_up_unanswered() == 1
    assert Survey.objects.get(pk=survey.pk).followed_up_task is not None
    job = registries.jobs[follow_up_surveys.name]
    assert job.hour() is not None


def test_the_recipient_is_the_subjects_contact_at_send_time(org):
    """The recipient is the subject's contact at send time: a contact added later is not asked."""
    order = make_subject(org.manager)
    survey = services.send_survey(order, org.manager)
    make_contact(order.customer, "韩梅梅", email="han@example.com")
    assert survey.email == "li.lei@example.com"


# --- the supervisors' list ---------------------------------------------------------------------------

def test_the_list_shows_the_figures_of_what_it_lists(org):
    """The figures come in a request of their own (`?figures=1`) that the page and every filtered
    table ask for with the list's filters: the rows never wait for the aggregate."""
    a = make_survey(org.manager)
    b = make_survey(org.manager)
    make_survey(org.manager)
    make_survey(org.manager2)  # outside the supervisor's department
    services.answer_survey(a, 5)
    services.answer_survey(b, 2)
    client = Client()
    client.force_login(org.supervisor)
    page = client.get("/surveys/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'hx-get="/surveys/?figures=1"' in html and 'data-testid="fig-total"' not in html
    part = client.get("/surveys/", {"figures": "1"})
    figures = part.context["figures"]
    assert (figures["total"], figures["answered"], figures["sent"], figures["expired"]) == (3, 2, 1, 0)
    assert float(figures["average"]) == 3.5 and figures["response_rate"] == 67
    assert 'data-testid="fig-total">3<' in part.content.decode() and "<html" not in part.content.decode()
    low = client.get("/surveys/", {"rating_max": "2"})
    assert [s.pk for s in low.context["page"].items] == [b.pk]
    assert client.get("/surveys/", {"rating_max": "2", "figures": "1"}).context["figures"]["total"] == 1
    answered = client.get("/surveys/", {"status": "answered"})
    assert {s.pk for s in answered.context["page"].items} == {a.pk, b.pk}
    today = timezone.localdate().isoformat()
    assert len(client.get("/surveys/", {"answered_after": today}).context["page"].items) == 2
    # HTMX: the table and, out of band, the figures' placeholder asking for the filtered figures
    part = client.get("/surveys/", {"rating": "5"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="record-table")
    html = part.content.decode()
    assert 'id="survey-figures"' in html and 'hx-swap-oob="true"' in html and 'id="record-table"' in html
    assert 'hx-get="/surveys/?rating=5&amp;figures=1"' in html
    # the nobody gets no figures either
    nobody = Client()
    nobody.force_login(org.nobody)
    assert nobody.get("/surveys/", {"figures": "1"}).status_code == 403


def test_the_figures_of_a_large_list_are_those_of_its_newest_surveys_and_say_so(org, monkeypatch):
    """Above the limit the figures read only the newest surveys (by id), and the page says so; at
    or under it they are of every survey listed, with no such line."""
    from kehu.surveys import records

    monkeypatch.setattr(records, "FIGURES_LIMIT", 3)
    oldest = make_survey(org.manager)
    services.answer_survey(oldest, 1)
    newer = [make_survey(org.manager) for _ in range(3)]
    services.answer_survey(newer[0], 5)
    client = Client()
    client.force_login(org.supervisor)
    page = client.get("/surveys/", {"figures": "1"})
    figures = page.context["figures"]
    assert (figures["total"], figures["answered"], figures["sent"], figures["newest"]) == (3, 1, 2, True)
    assert float(figures["average"]) == 5.0 and figures["response_rate"] == 33
    assert 'data-testid="fig-newest"' in page.content.decode()
    # a filter that leaves exactly the limit: every survey counted, no line
    exact = client.get("/surveys/", {"status": "sent", "figures": "1"})
    assert (exact.context["figures"]["total"], exact.context["figures"]["newest"]) == (2, False)
    assert 'data-testid="fig-newest"' not in exact.content.decode()
    monkeypatch.setattr(records, "FIGURES_LIMIT", 4)
    whole = client.get("/surveys/", {"figures": "1"}).context["figures"]
    assert (whole["total"], whole["answered"], whole["newest"], float(whole["average"])) == (4, 2, False, 3.0)


def test_account_managers_see_their_customers_surveys_only_and_the_nobody_nothing(org):
    mine = make_survey(org.manager)
    theirs = make_survey(org.manager2)
    client = Client()
    client.force_login(org.manager)
    items = client.get("/surveys/").context["page"].items
    assert mine in items and theirs not in items
    assert client.get(f"/surveys/{theirs.pk}/").status_code == 404
    nobody = Client()
    nobody.force_login(org.nobody)
    assert nobody.get("/surveys/").status_code == 403
    # the link's secret half is not in the API
    from kehu.core.testing.factories import auth

    row = Client(**auth(org.manager)).get(f"/api/v1/surveys/{mine.pk}").json()
    assert "token_id" not in row and row["rating"] is None and row["summary"] == mine.summary


def test_a_survey_is_seen_through_its_copy_of_the_customers_owner_which_follows_the_customer(org):
    """A survey keeps its customer's owner (CarriesCustomerOwner) and is seen through that copy:
    by the account manager and their supervisor, by everybody while the customer is in the public
    pool; the copy moves with assignment, the pool and merge, also in the recycle bin."""
    from kehu.core.assignment import assign
    from kehu.customers import services as customer_services

    survey = make_survey(org.manager)
    binned = make_survey(org.manager, customer=survey.customer, email="han.mei@example.com", contact_name="韩梅")
    binned.soft_delete(org.admin)
    customer = survey.customer

    def copies():
        return [Survey.all_objects.get(pk=s.pk).customer_owner_id for s in (survey, binned)]

    def seen_by(*users):
        return [Survey.objects.visible_to(u).filter(pk=survey.pk).exists() for u in users]

    assert copies() == [org.manager.pk, org.manager.pk]
    assert seen_by(org.manager, org.supervisor, org.manager2, org.nobody) == [True, True, False, False]
    assign(customer, org.manager2, org.admin)
    assert copies() == [org.manager2.pk, org.manager2.pk]
    assert seen_by(org.manager, org.manager2) == [False, True]
    customer.refresh_from_db()
    customer_services.release(customer, org.admin)
    assert copies() == [None, None]
    assert seen_by(org.manager, org.manager2) == [True, True]  # the public pool is public
    customer.refresh_from_db()
    customer_services.claim(customer, org.manager)
    assert copies() == [org.manager.pk, org.manager.pk]
    keep = make_customer(org.manager2, "合并后的客户")
    customer.refresh_from_db()
    customer_services.merge_customers(keep, customer, org.admin)
    assert copies() == [org.manager2.pk, org.manager2.pk]
    assert seen_by(org.manager, org.manager2) == [False, True]
