"""Development mail (issue 9): with no KEHU_EMAIL_HOST mail goes to the outbox administrators read in
the UI; a real SMTP failure is one log line per message (no traceback) and the reminder is retried."""

import datetime
import logging
import os
import subprocess
import sys

import pytest
from django.core import mail
from django.utils import timezone

from kehu.core.models import OutboxMessage
from kehu.core.services import send_email
from kehu.core.testing.smtp import free_port


@pytest.fixture
def outbox(settings):
    settings.EMAIL_BACKEND = "kehu.core.mail.OutboxBackend"


@pytest.fixture
def dead_smtp(settings):
    """SMTP configured, nothing listening on the port."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2


def _backend(extra_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEHU_EMAIL")}
    env.update(extra_env)
    out = subprocess.run([sys.executable, "-c", "import kehu.settings as s; print(s.EMAIL_BACKEND)"], env=env,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_mail_goes_to_the_outbox_unless_an_smtp_host_is_set():
    assert _backend({}) == "kehu.core.mail.OutboxBackend"
    assert _backend({"KEHU_EMAIL_HOST": "mail.example.com"}) == "django.core.mail.backends.smtp.EmailBackend"
    assert _backend({"KEHU_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}) == (
        "django.core.mail.backends.console.EmailBackend")


@pytest.mark.django_db
def test_outbox_backend_keeps_the_message(outbox):
    assert send_email("wang.fang@example.com", "任务到期：给客户回电话", "请今天回电话。") is True
    message = OutboxMessage.objects.get()
    assert message.subject == "任务到期：给客户回电话"
    assert message.recipients == "wang.fang@example.com"
    assert message.body == "请今天回电话。" and message.from_email
    html = mail.EmailMultiAlternatives("s", "text", "a@example.com", ["b@example.com"], cc=["c@example.com"])
    html.attach_alternative("<p>hi</p>", "text/html")
    assert html.send() == 1
    latest = OutboxMessage.objects.first()
    assert latest.recipients == "b@example.com, c@example.com" and latest.html == "<p>hi</p>"


def test_outbox_page_for_administrators_only(org, client, outbox):
    send_email("manager@example.com", "<script>alert(1)</script> 提醒", "正文 <b>x</b>")
    message = OutboxMessage.objects.get()
    client.force_login(org.admin)
    page = client.get("/admin/outbox/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    assert "manager@example.com" in text and "&lt;script&gt;alert(1)&lt;/script&gt; 提醒" in text
    assert "<script>alert(1)" not in text
    assert f'href="/admin/outbox/{message.pk}/"' in text
    assert 'href="/admin/outbox/"' in client.get("/").content.decode()  # linked from the admin menu
    detail = client.get(f"/admin/outbox/{message.pk}/")
    assert detail.status_code == 200 and "正文 &lt;b&gt;x&lt;/b&gt;" in detail.content.decode()

    client.force_login(org.manager)
    assert client.get("/admin/outbox/").status_code == 403
    assert client.get(f"/admin/outbox/{message.pk}/").status_code == 403
    assert 'href="/admin/outbox/"' not in client.get("/").content.decode()


@pytest.mark.django_db
def test_smtp_failure_is_one_log_line_without_traceback(dead_smtp, caplog):
    with caplog.at_level(logging.DEBUG):
        assert send_email("due.task@example.com", "到期提醒", "body") is False
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(failures) == 1, [r.getMessage() for r in failures]
    line = failures[0]
    assert line.exc_info is None and "\n" not in line.getMessage()
    assert "due.task@example.com" in line.getMessage() and "ConnectionRefusedError" in line.getMessage()


@pytest.mark.django_db
def test_reminder_whose_mail_fails_is_logged_once_and_retried(dead_smtp, caplog):
    from kehu.activities.models import Reminder
    from kehu.activities.services import run_reminders
    from kehu.activities.testing import make_task
    from kehu.core.testing.factories import make_user

    user = make_user("duetask", email="due.task@example.com")
    make_task(user, title="给客户回电话", due_at=timezone.now() - datetime.timedelta(minutes=1))
    with caplog.at_level(logging.DEBUG):
        assert run_reminders()["failed"] == 1
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(failures) == 1 and failures[0].exc_info is None
    reminder = Reminder.objects.get()
    assert reminder.sent_at is None and reminder.attempts == 1 and reminder.last_error
    run_reminders()  # the next run retries
    assert Reminder.objects.get().attempts == 2
