import datetime
import itertools

from kehu.core.testing.records import BusinessRecordTests, RecordTypeTests
from kehu.customers.testing import make_customer
from kehu.sales.models import PlanStep, Stage
from kehu.sales.testing import first_stage, make_opportunity

_seq = itertools.count(1)


class TestOpportunity(BusinessRecordTests):
    key = "opportunity"
    update = {"title": "年度框架采购"}
    invalid = {"discount": "150"}

    def make(self, org, owner):
        return make_opportunity(owner)

    def form_data(self, org):
        customer = make_customer(org.manager)
        return {"title": "CRM 系统采购", "customer": customer.pk, "stage": first_stage().pk, "amount": "120000.00",
                "expected_close": "2030-01-31", "owner": org.manager.pk}

    def transition_data(self, org, t):
        from kehu.core.models import DictItem

        data = super().transition_data(org, t)
        if t.name == "win":
            data.update(amount="86000.00", deal_products="CRM 软件与实施", signed_on="2026-01-15")
        elif t.name == "lose":
            data.update(lost_reason=DictItem.objects.filter(kind="lost_reason").first().pk, won_competitor="某友商")
        return data


class TestPlanStep(BusinessRecordTests):
    key = "planstep"
    update = {"action": "上门演示产品"}
    invalid = {"planned_on": "not-a-date"}

    def make(self, org, owner):
        opp = make_opportunity(owner)
        step = PlanStep(opportunity=opp, planned_on=datetime.date(2030, 1, 5), action="电话沟通需求",
                        responsible=owner, order=1)
        step.full_clean()
        step.save()
        return step

    def form_data(self, org):
        opp = make_opportunity(org.manager)
        return {"opportunity": opp.pk, "order": 1, "planned_on": "2030-02-01", "action": "发送方案",
                "responsible": org.manager.pk}


class TestStage(RecordTypeTests):
    key = "stage"
    update = {"name": "技术交流"}
    invalid = {"probability": "150"}

    def make(self, org, owner):
        return Stage.objects.create(name=f"阶段{next(_seq)}", name_en="Stage", order=99, probability=20)

    def form_data(self, org):
        return {"name": "试用", "name_en": "Trial", "order": 25, "probability": 40, "active": "on"}
