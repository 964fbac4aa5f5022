"""Service levels with a frozen clock (time-machine): business hours across evenings, weekends,
holidays and make-up working days 调休; the reminders before a breach (handler) and at the breach
(supervisors), each sent once; the breach flag and badge."""

import datetime
import zoneinfo

import pytest
import time_machine

from kehu.activities.models import Reminder
from kehu.activities.services import run_reminders
from kehu.core.models import Notification
from kehu.service import sla, tasks
from kehu.service.home import BREACH_KIND, WARN_KIND
from kehu.service.models import Holiday, SlaPolicy, Ticket
from kehu.service.testing import make_ticket, ticket_type

pytestmark = pytest.mark.django_db
SH = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime.datetime(*args, tzinfo=SH)


def test_business_time_skips_evenings_and_weekends():
    cal = sla.Calendar.load()
    # Friday 2026-12-04 17:00 + 120 business minutes: 60 on Friday, 60 on Monday from 9:00
    assert cal.add(at(2026, 12, 4, 17, 0), 120) == at(2026, 12, 7, 10, 0)
    # created in the evening: the clock starts at 9:00 the next working morning
    assert cal.add(at(2026, 12, 8, 20, 30), 30) == at(2026, 12, 9, 9, 30)
    # created on Saturday: Monday
    assert cal.add(at(2026, 12, 5, 11, 0), 60) == at(2026, 12, 7, 10, 0)
    # 1620 minutes = 3 working days of 9 hours
    assert cal.add(at(2026, 12, 7, 9, 0), 1620) == at(2026, 12, 9, 18, 0)
    assert cal.between(at(2026, 12, 4, 17, 0), at(2026, 12, 7, 10, 0)) == 120


def test_a_lunch_break_counts_no_business_time():
    from kehu.service.models import WorkingHours

    WorkingHours.objects.update_or_create(weekday=0, defaults={  # Monday 9:00–18:00, lunch 12:00–13:30
        "working": True, "starts": datetime.time(9), "ends": datetime.time(18),
        "break_starts": datetime.time(12), "break_ends": datetime.time(13, 30)})
    Holiday.objects.create(date=datetime.date(2026, 12, 12), kind="workday", name="调休", starts=datetime.time(9),
                           ends=datetime.time(17), break_starts=datetime.time(11, 30), break_ends=datetime.time(12))
    cal = sla.Calendar.load()
    monday = datetime.date(2026, 12, 7)
    assert cal.windows(monday) == [(at(2026, 12, 7, 9, 0), at(2026, 12, 7, 12, 0)),
                                   (at(2026, 12, 7, 13, 30), at(2026, 12, 7, 18, 0))]
    # Monday 11:30 + 60: 30 before lunch, 30 after it
    assert cal.add(at(2026, 12, 7, 11, 30), 60) == at(2026, 12, 7, 14, 0)
    # created during lunch: the clock starts when it ends
    assert cal.add(at(2026, 12, 7, 12, 40), 0) == at(2026, 12, 7, 13, 30)
    assert cal.add(at(2026, 12, 7, 12, 40), 15) == at(2026, 12, 7, 13, 45)
    # exactly the morning: the answer is due at its last minute, not after lunch
    assert cal.add(at(2026, 12, 7, 9, 0), 180) == at(2026, 12, 7, 12, 0)
    assert cal.between(at(2026, 12, 7, 11, 0), at(2026, 12, 7, 14, 0)) == 90
    assert cal.between(at(2026, 12, 7, 9, 0), at(2026, 12, 8, 9, 0)) == 450  # a 7.5-hour Monday
    # a make-up Saturday with its own break
    assert cal.add(at(2026, 12, 12, 11, 0), 45) == at(2026, 12, 12, 12, 15)
    # Tuesday keeps its default hours without a break
    assert cal.add(at(2026, 12, 8, 11, 30), 60) == at(2026, 12, 8, 12, 30)


def test_break_validation():
    from django.core.exceptions import ValidationError

    from kehu.service.models import WorkingHours

    def errors(**kw):
        row = WorkingHours(weekday=6, **{"starts": datetime.time(9), "ends": datetime.time(18), **kw})
        with pytest.raises(ValidationError) as exc:
            row.clean()
        return exc.value.message_dict

    assert "break_ends" in errors(break_starts=datetime.time(12))
    assert "break_starts" in errors(break_ends=datetime.time(13))
    assert "break_ends" in errors(break_starts=datetime.time(13), break_ends=datetime.time(12))
    assert "break_starts" in errors(break_starts=datetime.time(8), break_ends=datetime.time(10))
    WorkingHours(weekday=6, starts=datetime.time(9), ends=datetime.time(18), break_starts=datetime.time(12),
                 break_ends=datetime.time(13)).clean()
    WorkingHours(weekday=6, working=False, break_starts=datetime.time(12)).clean()  # a day off: no hours to check


def test_holidays_and_make_up_days():
    # National Day 2026: 1-7 October off, Saturday 10 October a make-up working day
    for day in range(1, 8):
        Holiday.objects.create(date=datetime.date(2026, 10, day), name="国庆节")
    Holiday.objects.create(date=datetime.date(2026, 10, 10), kind="workday", name="国庆调休")
    cal = sla.Calendar.load()
    # Wednesday 30 September 17:00 + 120: 60 that day, then nothing until Thursday 8 October
    assert cal.add(at(2026, 9, 30, 17, 0), 120) == at(2026, 10, 8, 10, 0)
    # Friday 9 October 17:30 + 60: 30 on Friday, 30 on the make-up Saturday
    assert cal.add(at(2026, 10, 9, 17, 30), 60) == at(2026, 10, 10, 9, 30)
    assert cal.windows(datetime.date(2026, 10, 11)) == []  # an ordinary Sunday


def test_due_times_on_creation_and_on_a_priority_change(org):
    with time_machine.travel(at(2026, 12, 4, 16, 0), tick=False):  # Friday 16:00
        ticket = make_ticket(org.manager, priority="urgent")  # 30 / 240 business minutes
        assert ticket.response_due == at(2026, 12, 4, 16, 30)
        assert ticket.resolution_due == at(2026, 12, 7, 11, 0)  # 120 on Friday, 120 on Monday
        assert ticket.response_warn_at == at(2026, 12, 4, 16, 0)  # lead 30: at once
        ticket.priority = "low"  # 480 / 2700
        ticket.save()
        assert ticket.response_due == at(2026, 12, 7, 15, 0)  # 120 on Friday, 360 on Monday
        assert ticket.resolution_due == at(2026, 12, 11, 16, 0)  # 120 + 4 × 540 + 420


def test_a_type_specific_policy_wins(org):
    SlaPolicy.objects.create(ticket_type=ticket_type("repair"), priority="normal", response_minutes=15,
                             resolution_minutes=60, remind_before_minutes=10)
    with time_machine.travel(at(2026, 12, 7, 10, 0), tick=False):
        repair = make_ticket(org.manager, type=ticket_type("repair"))
        other = make_ticket(org.manager)
    assert repair.response_due == at(2026, 12, 7, 10, 15) and repair.resolution_due == at(2026, 12, 7, 11, 0)
    assert other.response_due == at(2026, 12, 7, 14, 0)  # the default normal policy: 240


def test_reminder_before_breach_then_at_breach_each_once(org):
    with time_machine.travel(at(2026, 12, 7, 9, 0), tick=False):  # Monday 9:00
        ticket = make_ticket(org.manager, priority="urgent", handler=org.service, status="assigned")
    assert ticket.response_due == at(2026, 12, 7, 9, 30)
    # 9:05: the handler's warning (lead 30 ≥ 30: from the start) for the first response
    run_reminders(at(2026, 12, 7, 9, 5))
    warned = Reminder.objects.filter(kind=WARN_KIND, user=org.service)
    assert warned.count() == 1 and warned.get().sent_at is not None
    assert run_reminders(at(2026, 12, 7, 9, 6))["sent"] == 0  # once
    assert not Reminder.objects.filter(kind=BREACH_KIND).exists()
    # 9:31: the response is late: marked, and the supervisor is told, once
    assert tasks.mark_breaches.call(at(2026, 12, 7, 9, 31).isoformat()) == 1
    ticket.refresh_from_db()
    assert ticket.breached and ticket.response_breached and not ticket.resolution_breached
    run_reminders(at(2026, 12, 7, 9, 31))
    breach = Reminder.objects.filter(kind=BREACH_KIND)
    assert list(breach.values_list("user__username", flat=True)) == ["supervisor"]
    assert Notification.objects.filter(user=org.supervisor, title__contains=ticket.number).count() == 1
    assert run_reminders(at(2026, 12, 7, 9, 40))["sent"] == 0
    assert Reminder.objects.filter(kind=BREACH_KIND).count() == 1
    # the resolution warning at 12:30 (240 - 30), the resolution breach at 13:00
    run_reminders(at(2026, 12, 7, 12, 31))
    assert Reminder.objects.filter(kind=WARN_KIND, due_at=at(2026, 12, 7, 13, 0)).count() == 1
    run_reminders(at(2026, 12, 7, 13, 1))
    assert Reminder.objects.filter(kind=BREACH_KIND, due_at=at(2026, 12, 7, 13, 0)).count() == 1
    assert run_reminders(at(2026, 12, 7, 13, 2))["sent"] == 0


def test_a_handled_ticket_is_not_reminded(org):
    with time_machine.travel(at(2026, 12, 7, 9, 0), tick=False):
        ticket = make_ticket(org.manager, priority="urgent", handler=org.service, status="handled")
    run_reminders(at(2026, 12, 7, 9, 50))
    assert not Reminder.objects.filter(object_id=ticket.pk, kind__in=(WARN_KIND, BREACH_KIND)).exists()
    assert tasks.mark_breaches.call(at(2026, 12, 7, 9, 50).isoformat()) == 0


def test_breached_tickets_are_badged_in_the_list(org):
    from django.test import Client

    with time_machine.travel(at(2026, 12, 7, 9, 0), tick=False):
        ticket = make_ticket(org.manager, priority="urgent")
    tasks.mark_breaches.call(at(2026, 12, 8, 9, 0).isoformat())
    client = Client()
    client.force_login(org.manager)
    page = client.get("/tickets/").content.decode()
    assert 'data-testid="breached"' in page and ticket.number in page
    assert Ticket.objects.filter(breached=True).count() == 1


def test_the_home_queue_lists_an_unassigned_breach_once_and_names_no_handler_none(org):
    from django.test import Client

    with time_machine.travel(at(2026, 12, 7, 9, 0), tick=False):
        alone = make_ticket(org.manager, priority="urgent")
        taken = make_ticket(org.manager, priority="urgent", handler=org.service, status=Ticket.Status.ASSIGNED)
    tasks.mark_breaches.call(at(2026, 12, 8, 9, 0).isoformat())
    client = Client()
    client.force_login(org.supervisor)
    panel = client.get("/", {"panel": "service_queue"}).content.decode()
    assert 'data-testid="home-service-queue"' in panel
    assert panel.count(alone.number) == 1  # among the unassigned, not again among the breaches
    assert taken.number in panel and str(org.service) in panel and "None" not in panel


def test_one_policy_per_type_and_priority_on_every_database():
    """SQLite creates no unique constraint whose NULLs are not distinct (Django's models.W047, silenced
    in settings): the model's validation refuses the second "any type, any priority" policy there
    as PostgreSQL's constraint does."""
    from django.core.exceptions import ValidationError

    SlaPolicy.objects.filter(ticket_type=None, priority="").delete()
    SlaPolicy.objects.create(ticket_type=None, priority="", response_minutes=10, resolution_minutes=20)
    second = SlaPolicy(ticket_type=None, priority="", response_minutes=15, resolution_minutes=30)
    with pytest.raises(ValidationError):
        second.full_clean()
