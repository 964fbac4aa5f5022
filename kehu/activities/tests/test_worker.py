"""Reminders through the worker: a real SMTP server on loopback, once each, retried on failure."""

import datetime
import email
import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from kehu.activities.models import Reminder
from kehu.activities.services import run_reminders
from kehu.activities.testing import make_followup, make_task
from kehu.core.models import Notification
from kehu.core.testing.factories import make_user
from kehu.core.testing.smtp import Collector, free_port
from kehu.customers.testing import make_customer


class Server(Collector):
    """An aiosmtpd server on loopback that can go down and come back on the same port."""

    def __init__(self, port):
        super().__init__()
        self.port = port
        self.controller = None

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(settings):
    server = Server(free_port())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    server.start()
    yield server
    server.stop()


def wait_for(collector, n, timeout=5.0):
    deadline = time.monotonic() + timeout
    while len(collector.messages) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # and nothing more arrives
    return collector.messages


def worker_once():
    call_command("worker", "--once", stdout=open("/dev/null", "w"))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_due_task_sends_one_email_and_one_notification_also_after_restart(smtp):
    user = make_user("duetask", email="due.task@example.com")
    task = make_task(user, title="给客户回电话", due_at=timezone.now() - datetime.timedelta(minutes=1))
    make_task(user, title="明天的", due_at=timezone.now() + datetime.timedelta(days=1))
    worker_once()
    messages = wait_for(smtp, 1)
    assert len(messages) == 1
    rcpt, message = messages[0]
    assert rcpt == ["due.task@example.com"]
    assert "给客户回电话" in str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert f"/tasks/{task.pk}/" in message.get_payload(decode=True).decode()
    assert Notification.objects.filter(user=user).count() == 1
    # the worker restarts (a new process: nothing in memory) and runs again
    worker_once()
    worker_once()
    assert len(wait_for(smtp, 2, timeout=0.5)) == 1
    assert Notification.objects.filter(user=user).count() == 1
    reminder = Reminder.objects.get()
    assert reminder.sent_at is not None and reminder.attempts == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_failed_send_is_retried_and_then_sent_once(smtp, settings):
    user = make_user("retry", email="retry@example.com")
    make_task(user, title="发合同", due_at=timezone.now() - datetime.timedelta(minutes=5))
    smtp.stop()  # the mail server is down
    assert run_reminders()["failed"] == 1
    reminder = Reminder.objects.get()
    assert reminder.sent_at is None and reminder.attempts == 1 and reminder.last_error
    assert Notification.objects.filter(user=user).count() == 1  # in-app at once
    assert run_reminders()["failed"] == 1
    assert Reminder.objects.get().attempts == 2
    smtp.start()  # back up
    assert run_reminders()["sent"] == 1
    assert len(wait_for(smtp, 1)) == 1
    assert run_reminders() == {"sent": 0, "failed": 0, "skipped": 0}
    assert len(wait_for(smtp, 2, timeout=0.5)) == 1
    assert Notification.objects.filter(user=user).count() == 1
    reminder = Reminder.objects.get()
    assert reminder.sent_at is not None and reminder.attempts == 3 and reminder.last_error == ""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_followup_next_action_reminds_the_right_person(smtp):
    recorder = make_user("recorder", email="recorder@example.com")
    doer = make_user("doer", email="doer@example.com")
    customer = make_customer(recorder, name="远航科技有限公司")
    make_followup(customer, recorder, topic="演示", next_action="寄送样品",
                  next_action_at=timezone.now() - datetime.timedelta(minutes=2), next_action_by=doer)
    make_followup(customer, recorder, topic="以后再说", next_action="再联系",
                  next_action_at=timezone.now() + datetime.timedelta(days=2), next_action_by=doer)
    worker_once()
    messages = wait_for(smtp, 1)
    assert [m[0] for m in messages] == [["doer@example.com"]]
    note = Notification.objects.get(user=doer)
    assert "寄送样品" in note.title and "远航科技" in note.title
    assert not Notification.objects.filter(user=recorder).exists()
    worker_once()
    assert len(wait_for(smtp, 2, timeout=0.5)) == 1


@pytest.mark.django_db
def test_overdue_task_is_reminded_once_and_done_tasks_never(settings):
    from django.core import mail

    user = make_user("late")
    late = make_task(user, title="早该做完", due_at=timezone.now() - datetime.timedelta(days=2))
    make_task(user, title="做完了", due_at=timezone.now() - datetime.timedelta(minutes=3), status="done")
    assert run_reminders()["sent"] == 1
    assert Reminder.objects.get().kind == Reminder.Kind.TASK_OVERDUE
    assert len(mail.outbox) == 1 and "早该做完" in mail.outbox[0].subject
    assert run_reminders()["sent"] == 0
    # a new due time is a new reminder
    late.due_at = timezone.now() - datetime.timedelta(minutes=1)
    late.save()
    assert run_reminders()["sent"] == 1
    assert Reminder.objects.filter(kind=Reminder.Kind.TASK_DUE).count() == 1


@pytest.mark.django_db
def test_worker_once_runs_the_daily_pool_job_once_a_day(monkeypatch, settings):
    from kehu.core import scheduler

    calls = []
    monkeypatch.setattr("kehu.customers.services.pool_sweep", lambda now=None: calls.append(now) or {"ok": 1},
                        raising=False)
    settings.KEHU_POOL_SWEEP_HOUR = 0
    now = timezone.now()
    out = scheduler.run_due_jobs(now, execute=True)
    assert out["pool_sweep"] == {"ok": 1} and "send_reminders" in out
    assert "pool_sweep" not in scheduler.run_due_jobs(now + datetime.timedelta(minutes=1), execute=True)
    assert "pool_sweep" in scheduler.run_due_jobs(now + datetime.timedelta(days=1), execute=True)
    assert len(calls) == 2


@pytest.mark.django_db
def test_jobs_can_be_enqueued(settings):
    from kehu.activities import tasks

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

    user = make_user("queued")
    make_task(user, due_at=timezone.now() - datetime.timedelta(minutes=1))
    result = tasks.send_reminders.enqueue()
    assert result.return_value == {"sent": 1, "failed": 0, "skipped": 0}
    assert Notification.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_overdue_plan_step_reminds_its_responsible_person_once(org):
    from django.core import mail

    from kehu.sales.models import PlanStep
    from kehu.sales.testing import make_opportunity

    opp = make_opportunity(org.manager)
    PlanStep.objects.create(opportunity=opp, planned_on=timezone.localdate() - datetime.timedelta(days=1),
                            action="提交方案", responsible=org.manager)
    PlanStep.objects.create(opportunity=opp, planned_on=timezone.localdate() + datetime.timedelta(days=1),
                            action="以后的", responsible=org.manager)
    assert run_reminders()["sent"] == 1
    assert Reminder.objects.get().kind == Reminder.Kind.PLAN_STEP_OVERDUE
    assert [m.to for m in mail.outbox] == [[org.manager.email]] and "提交方案" in mail.outbox[0].subject
    assert Notification.objects.filter(user=org.manager, title__contains="提交方案").count() == 1
    assert run_reminders()["sent"] == 0
