import datetime

from django.utils import timezone

from kehu.activities.models import FollowUp
from kehu.activities.testing import make_followup, make_task
from kehu.core.models import DictItem
from kehu.core.testing.records import BusinessRecordTests
from kehu.customers.models import Contact
from kehu.customers.testing import make_customer


class TestFollowUp(BusinessRecordTests):
    key = "followup"
    update = {"topic": "第二次拜访"}
    invalid = {"occurred_at": "not-a-time"}

    def make(self, org, owner):
        return make_followup(make_customer(owner), owner)

    def form_data(self, org):
        customer = make_customer(org.manager)
        return {"customer": customer.pk, "occurred_at": "2026-03-02T10:30", "topic": "首次电话沟通",
                "method": DictItem.objects.get(kind="contact_method", code="phone").pk,
                "content": "客户有采购意向", "next_action": "发送报价", "next_action_at": "2026-03-05T09:00"}

    def test_contact_must_belong_to_the_customer(self, org):
        customer, other = make_customer(org.manager), make_customer(org.manager)
        stranger = Contact.objects.create(customer=other, name="李四")
        client = self.client_for(org.admin)
        data = {**self.form_data(org), "customer": customer.pk, "contact": stranger.pk}
        response = client.post(self.url("add"), data)
        assert response.status_code == 200
        assert "contact" in response.context["form"].errors
        own = Contact.objects.create(customer=customer, name="张三")
        response = client.post(self.url("add"), {**data, "contact": own.pk})
        assert response.status_code == 302

    def test_time_to_the_minute_and_next_action_defaults_to_me(self, org):
        client = self.client_for(org.manager)
        assert client.post(self.url("add"), self.form_data(org)).status_code == 302
        f = FollowUp.objects.latest("id")
        assert f.occurred_at.second == 0 and f.occurred_at.microsecond == 0
        assert f.next_action_by == org.manager and f.owner == org.manager

    def test_visible_with_the_customer(self, org):
        pool_customer = make_customer(None)
        pooled = make_followup(pool_customer, org.manager2)
        mine = make_followup(make_customer(org.manager), org.manager)
        theirs = make_followup(make_customer(org.manager2), org.manager2)
        visible = set(FollowUp.objects.visible_to(org.manager).values_list("pk", flat=True))
        assert {pooled.pk, mine.pk} <= visible and theirs.pk not in visible
        assert set(FollowUp.objects.visible_to(org.supervisor).values_list("pk", flat=True)) >= {mine.pk}
        assert theirs.pk not in set(FollowUp.objects.visible_to(org.supervisor).values_list("pk", flat=True))

    def test_service_may_only_read(self, org):
        f = self.make(org, org.manager)
        client = self.client_for(org.service)
        assert client.get(self.url("detail", f.pk)).status_code == 200
        assert client.get(self.url("add")).status_code == 403
        assert client.get(self.url("edit", f.pk)).status_code == 403


class TestTask(BusinessRecordTests):
    key = "task"
    update = {"title": "准备正式报价单"}
    invalid = {"priority": "extreme"}

    def make(self, org, owner):
        return make_task(owner)

    def form_data(self, org):
        return {"title": "回访客户", "owner": org.manager.pk, "due_at": "2026-03-02T15:00", "priority": "high"}

    def test_tabs_mine_team_overdue(self, org):
        mine = make_task(org.supervisor, title="主管自己的")
        team = make_task(org.manager, title="团队的")
        late = make_task(org.manager, title="逾期的", due_at=timezone.now() - datetime.timedelta(hours=2))
        other = make_task(org.manager2, title="别的部门")
        client = self.client_for(org.supervisor)

        def ids(**params):
            return {o.pk for o in client.get(self.url("list"), params).context["page"].items}

        assert ids(tab="mine") == {mine.pk}
        assert ids(tab="team") == {mine.pk, team.pk, late.pk}
        assert ids(tab="overdue") == {late.pk}
        assert ids(tab="team", overdue="true") == {late.pk}
        assert other.pk not in ids(tab="team")
        manager = self.client_for(org.manager)
        tabs = [k for k, _label in manager.get(self.url("list")).context["tabs"]]
        assert tabs == ["mine", "overdue"]

    def test_completing_sets_completed_at(self, org):
        task = make_task(org.manager)
        client = self.client_for(org.manager)
        assert client.post(f"/tasks/{task.pk}/complete/", {"note": "已发送"}).status_code == 302
        task.refresh_from_db()
        assert task.status == "done" and task.completed_at is not None and task.completion_note == "已发送"

    def test_manager_cannot_give_a_task_to_another_department(self, org):
        client = self.client_for(org.manager)
        response = client.post(self.url("add"), {**self.form_data(org), "owner": org.manager2.pk})
        assert response.status_code == 200 and "owner" in response.context["form"].errors

    def test_assignee_is_notified(self, org):
        from kehu.core.models import Notification

        client = self.client_for(org.supervisor)
        assert client.post(self.url("add"), self.form_data(org)).status_code == 302
        assert Notification.objects.filter(user=org.manager, title__contains="回访客户").count() == 1


def test_add_followup_preselects_the_customer(org):
    customer = make_customer(org.manager, name="预选客户有限公司")
    from django.test import Client

    client = Client()
    client.force_login(org.manager)
    html = client.get(f"/followups/add/?customer={customer.pk}").content.decode()
    assert f'value="{customer.pk}" selected' in html and "预选客户有限公司" in html
