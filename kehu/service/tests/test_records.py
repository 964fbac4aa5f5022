"""The generic record-type tests for tickets, feedback and the SLA settings."""

import datetime
import itertools

import pytest

from kehu.core.testing.records import BusinessRecordTests, RecordTypeTests
from kehu.customers.testing import make_customer
from kehu.service.models import Holiday, SlaPolicy, WorkingHours
from kehu.service.testing import make_feedback, make_ticket, ticket_type

pytestmark = pytest.mark.django_db
_seq = itertools.count(1)


class TestTicket(BusinessRecordTests):
    key = "ticket"
    update = {"summary": "打印机卡纸（复查）"}
    invalid = {"summary": ""}

    def make(self, org, owner):
        return make_ticket(owner)

    def form_data(self, org):
        customer = make_customer(org.manager)
        return {"type": ticket_type("repair").pk, "priority": "high", "channel": "phone", "customer": customer.pk,
                "summary": "投影仪不亮", "request": "会议室投影仪无法开机", "owner": org.manager.pk}

    def transition_data(self, org, t):
        if t.name == "assign":
            return {"handler": org.service.pk}
        if t.name == "handle":
            return {"handling": "远程指导重启后恢复"}
        if t.name == "feedback":
            return {"result": "已解决", "satisfaction": 5}
        if t.name == "reopen":
            return {"comment": "客户反映问题复现"}
        return {}

    def put_in_state(self, obj, state):
        super().put_in_state(obj, state)
        if state != "new":  # a ticket past "new" has a handler: the record's owner (may handle it)
            type(obj).all_objects.filter(pk=obj.pk).update(handler=obj.owner_id)
        return type(obj).all_objects.get(pk=obj.pk)


class TestFeedback(BusinessRecordTests):
    key = "feedback"
    update = {"result": "已回电致歉"}
    invalid = {"content": ""}

    def make(self, org, owner):
        return make_feedback(owner)

    def form_data(self, org):
        customer = make_customer(org.manager)
        return {"kind": "suggestion", "source": "hotline", "customer": customer.pk, "content": "希望增加微信通知",
                "owner": org.manager.pk}

    def transition_data(self, org, t):
        if t.name == "resolve":
            return {"result": "已采纳"}
        if t.name == "reopen":
            return {"comment": "客户不满意"}
        return {}


class TestSlaPolicy(RecordTypeTests):
    key = "slapolicy"
    update = {"response_minutes": 45}
    invalid = {"response_minutes": "x"}

    def make(self, org, owner):
        taken = set(SlaPolicy.objects.values_list("ticket_type__code", "priority"))  # one per (type, priority)
        code, priority = next((c, p) for c in ("consultation", "suggestion", "other", "complaint", "repair")
                              for p in ("low", "high", "normal", "urgent")
                              if (c, p) not in taken and (c, p) != ("repair", "urgent"))  # form_data's
        return SlaPolicy.objects.create(ticket_type=ticket_type(code), priority=priority,
                                        response_minutes=60 + next(_seq), resolution_minutes=600)

    def form_data(self, org):
        return {"ticket_type": ticket_type("repair").pk, "priority": "urgent", "response_minutes": 20,
                "resolution_minutes": 120, "remind_before_minutes": 10}


class TestWorkingHours(RecordTypeTests):
    key = "workinghours"
    update = {"ends": "17:30:00"}

    def test_ui_detail_and_history(self, org):
        self.update = {"ends": "17:30"}  # the history shows a time as people write it
        super().test_ui_detail_and_history(org)
    invalid = {"starts": "x"}

    @pytest.fixture(autouse=True)
    def _free_weekend(self, db):
        WorkingHours.objects.filter(weekday__in=(5, 6)).delete()  # the migration made all seven days

    def make(self, org, owner):
        """A weekday's row; weekday 5 is kept free for form_data (a weekday has one row)."""
        days = [d for d in (6, 0, 1, 2, 3, 4) if not WorkingHours.objects.filter(weekday=d).exists()]
        if not days:
            days = [WorkingHours.objects.exclude(weekday=5).order_by("id").first().weekday]
            WorkingHours.objects.filter(weekday=days[0]).delete()
        return WorkingHours.objects.create(weekday=days[0], working=False)

    def form_data(self, org):
        return {"weekday": 5, "working": "on", "starts": "10:00", "ends": "15:00"}

    def api_payload(self, org):
        return {**self.form_data(org), "weekday": "5", "working": True}


class TestHoliday(RecordTypeTests):
    key = "holiday"
    update = {"name": "国庆节"}
    invalid = {"date": "x"}

    def make(self, org, owner):
        return Holiday.objects.create(date=datetime.date(2030, 1, 1) + datetime.timedelta(days=next(_seq)),
                                      name="元旦")

    def form_data(self, org):
        return {"date": "2031-10-01", "kind": "holiday", "name": "国庆节", "starts": "09:00", "ends": "18:00"}
