"""Load a realistic demo company in Chinese, once (running it again changes nothing)."""

import datetime
import random
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from kehu.accounts.models import Department, Role, User
from kehu.core.models import DictItem
from kehu.customers.models import Contact, Customer

DEMO_PASSWORD = "Kehu@2026"
USERS = [
    # username, full name, role, department
    ("admin", "系统管理员", "admin", "总部"),
    ("supervisor", "王主管", "supervisor", "销售一部"),
    ("manager", "李经理", "account_manager", "销售一部"),
    ("manager2", "张经理", "account_manager", "销售一部"),
    ("manager3", "陈经理", "account_manager", "销售二部"),
    ("executive", "赵总", "executive", "总部"),
    ("service", "刘客服", "service", "客服部"),
    ("finance", "孙会计", "finance", "财务部"),
]
CITIES = [("北京市", "北京", "north"), ("上海市", "上海", "east"), ("广东省", "深圳", "south"),
          ("广东省", "广州", "south"), ("浙江省", "杭州", "east"), ("江苏省", "南京", "east"),
          ("湖北省", "武汉", "central"), ("四川省", "成都", "southwest"), ("陕西省", "西安", "northwest"),
          ("辽宁省", "沈阳", "northeast"), ("山东省", "青岛", "north"), ("福建省", "厦门", "south")]
WORDS = ["科技", "智能", "信息", "数据", "电子", "精密", "新材料", "能源", "物流", "医疗", "教育", "建材",
         "机械", "软件", "网络", "贸易", "文化", "食品", "环保", "化工"]
PREFIXES = ["华", "中", "金", "博", "恒", "瑞", "远", "东", "创", "鼎", "海", "天", "宏", "嘉", "盛", "达", "卓",
            "锐", "德", "信"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
         "华", "慧"]
TITLES = ["总经理", "采购经理", "技术总监", "财务主管", "行政经理", "销售总监", "IT 经理", "董事长助理"]


class Command(BaseCommand):
    help = "Load the demo company (departments, one user per role, ~300 customers with contacts)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=300)

    def handle(self, *args, customers=300, **options):
        if User.objects.filter(username="admin").exists() and Customer.all_objects.exists():
            self.catalog({u.username: u for u in User.objects.filter(username__in=["admin", "supervisor", "finance"])})
            self.stdout.write("Demo data already loaded.")
            return
        rng = random.Random(2026)
        with transaction.atomic():
            users = self.users()
            self.customers(rng, users, customers)
            self.pipeline(rng, users)
        self.catalog(users)
        self.stdout.write(self.style.SUCCESS(
            f"Demo loaded: {len(USERS)} users (password {DEMO_PASSWORD}), {customers} customers."))

    def users(self):
        hq, _ = Department.objects.get_or_create(name="总部", parent=None)
        depts = {"总部": hq}
        for name in ("销售一部", "销售二部", "客服部", "财务部"):
            depts[name], _ = Department.objects.get_or_create(name=name, parent=hq)
        out = {}
        for username, full_name, role_code, dept in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"full_name": full_name, "email": f"{username}@demo.kehu.local",
                          "department": depts[dept], "must_change_password": False,
                          "is_superuser": role_code == "admin"},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
                user.roles.add(Role.objects.get(code=role_code))
            out[username] = user
        Department.objects.filter(pk=depts["销售一部"].pk).update(manager=out["supervisor"])
        return out

    def customers(self, rng, users, count):
        d = {kind: list(DictItem.objects.filter(kind=kind)) for kind in
             ("industry", "customer_type", "customer_level", "customer_source", "region")}
        types = {i.code: i for i in d["customer_type"]}
        regions = {i.code: i for i in d["region"]}
        owners = [users["manager"], users["manager2"], users["manager3"], users["supervisor"]]
        today = timezone.localdate()
        used = set()
        for n in range(count):
            province, city, region = rng.choice(CITIES)
            while True:
                name = f"{city}{rng.choice(PREFIXES)}{rng.choice(PREFIXES)}{rng.choice(WORDS)}有限公司"
                if name not in used:
                    used.add(name)
                    break
            type_code = rng.choices(["potential", "intent", "won", "lost"], [40, 30, 25, 5])[0]
            owner = None if n % 10 == 0 else rng.choice(owners)  # one in ten in the public pool
            won = type_code == "won"
            customer = Customer(
                name=name, type=types[type_code], industry=rng.choice(d["industry"]),
                level=rng.choice(d["customer_level"]), source=rng.choice(d["customer_source"]),
                region=regions[region], province=province, city=city,
                address=f"{city}{rng.choice(['高新区', '开发区', '中心区'])}{rng.randint(1, 999)}号",
                phone=f"+861{rng.choice([38, 39, 50, 58, 86, 88])}{rng.randint(10000000, 99999999)}",  # valid mobile prefixes
                email=f"info{n}@example{n % 50}.cn",
                employees=rng.choice([20, 50, 120, 300, 800, 2000]),
                annual_revenue=Decimal(rng.randint(100, 50000)) * 10000,
                first_contact_date=today - datetime.timedelta(days=rng.randint(1, 700)),
                owner=owner, created_by=owner,
                deal_amount=Decimal(rng.randint(5, 500)) * 1000 if won else None,
                deal_products="CRM 标准版年费" if won else "",
                signed_on=today - datetime.timedelta(days=rng.randint(1, 300)) if won else None,
                needs=rng.choice(["希望统一管理客户资料", "销售过程不透明", "需要移动端跟进", "报表靠手工统计"]),
            )
            customer.save()
            for i in range(rng.randint(1, 3)):
                Contact(
                    customer=customer, name=rng.choice(SURNAMES) + rng.choice(GIVEN), title=rng.choice(TITLES),
                    gender=rng.choice(["male", "female"]),
                    mobile=f"+861{rng.choice([3, 5, 7, 8])}{rng.randint(100000000, 999999999)}",
                    email=f"c{n}_{i}@example{n % 50}.cn", is_primary=i == 0, owner=owner, created_by=owner,
                ).save()

    def catalog(self, users):
        """Products, two warehouses and their stock, then quotations and orders, when those apps are
        installed (each once)."""
        from django.apps import apps

        if apps.is_installed("kehu.catalog"):
            from kehu.catalog.demo import load

            made = load(users)
            if made:
                self.stdout.write(f"Demo catalogue: {made} products and services.")
        if apps.is_installed("kehu.orders"):
            from kehu.orders.demo import load as load_orders

            made = load_orders(users)
            if made:
                self.stdout.write(f"Demo orders: {made} orders with their quotations and shipments.")
        if apps.is_installed("kehu.orders"):  # contracts in every state (kehu/orders/contract_demo.py)
            from kehu.orders.contract_demo import load as load_contracts

            load_contracts(users)
            from kehu.orders.payments_demo import load as load_payments

            made = load_payments(users)
            if made:
                self.stdout.write(f"Demo payments: {made} payments with their plans and invoices.")
        if apps.is_installed("kehu.service"):  # tickets and feedback (kehu/service/demo.py)
            from kehu.service.demo import load as load_service

            made = load_service({u.username: u for u in User.objects.filter(
                username__in=["service", "supervisor"])} | dict(users))
            if made:
                self.stdout.write(f"Demo service: {made} tickets and their feedback.")
        if apps.is_installed("kehu.knowledge"):  # the knowledge base (kehu/knowledge/demo.py)
            from kehu.knowledge.demo import load as load_knowledge

            made = load_knowledge(users)
            if made:
                self.stdout.write(f"Demo knowledge base: {made} articles.")
        if apps.is_installed("kehu.campaigns"):  # campaigns with their members (kehu/campaigns/demo.py)
            from kehu.campaigns.demo import load as load_campaigns

            made = load_campaigns({u.username: u for u in User.objects.filter(username="supervisor")} | dict(users))
            if made:
                self.stdout.write(f"Demo campaigns: {made} campaigns with their members.")

    def pipeline(self, rng, users):
        """Opportunities with plans, follow-ups and tasks, when those apps are installed."""
        from django.apps import apps

        if not (apps.is_installed("kehu.sales") and apps.is_installed("kehu.activities")):
            return
        from kehu.activities.models import FollowUp, Task
        from kehu.sales.models import Opportunity, PlanStep, Stage, StageChange

        now = timezone.now()
        from kehu.sales import services as sales_services

        open_stages = list(Stage.objects.filter(is_won=False, is_lost=False).order_by("order"))
        won_stage = Stage.objects.filter(is_won=True, active=True).first()
        lost_stage = Stage.objects.filter(is_lost=True, active=True).first()
        lost_reason = DictItem.objects.filter(kind="lost_reason").first()
        methods = list(DictItem.objects.filter(kind="contact_method"))
        owned = list(Customer.objects.filter(owner__isnull=False).select_related("owner").order_by("id")[:150])
        products = ["CRM 标准版年费", "CRM 专业版 50 用户", "实施服务", "数据迁移服务", "移动端模块"]
        for n, customer in enumerate(owned):
            owner = customer.owner
            for _i in range(rng.randint(1, 3)):
                FollowUp(
                    customer=customer, owner=owner, created_by=owner,
                    occurred_at=now - datetime.timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 8)),
                    method=rng.choice(methods), topic=rng.choice(["电话回访", "需求沟通", "产品演示", "报价跟进"]),
                    content=rng.choice(["客户对移动端很感兴趣", "需要和财务确认预算", "希望下周安排演示",
                                        "对价格有顾虑，需申请折扣"]),
                    next_action=rng.choice(["发送报价单", "安排演示", "电话确认预算"]) if n % 3 == 0 else "",
                    next_action_at=now + datetime.timedelta(days=rng.randint(-2, 5)) if n % 3 == 0 else None,
                    next_action_by=owner if n % 3 == 0 else None,
                ).save()
            if n % 2 == 0:
                stage = rng.choice(open_stages)
                opp = Opportunity(
                    customer=customer, title=f"{customer.name[:8]} · {rng.choice(products)}", stage=stage,
                    probability=stage.probability, amount=Decimal(rng.randint(2, 60)) * 5000,
                    expected_close=timezone.localdate() + datetime.timedelta(days=rng.randint(5, 120)),
                    owner=owner, created_by=owner, assigned_at=now - datetime.timedelta(days=rng.randint(0, 20)),
                    assigned_by=users["supervisor"],
                )
                opp.save()
                StageChange.objects.create(opportunity=opp, from_stage=None, to_stage=stage, changed_by=owner)
                if n % 10 == 0 and won_stage is not None:  # some deals closed through the workflow
                    sales_services.change_stage(opp, won_stage, owner, deal_products=rng.choice(products),
                                                signed_on=timezone.localdate() - datetime.timedelta(days=n % 9))
                elif n % 14 == 0 and lost_stage is not None and lost_reason is not None:
                    sales_services.change_stage(opp, lost_stage, owner, lost_reason=lost_reason,
                                                won_competitor="某友商")
                for order in range(rng.randint(1, 3)):
                    PlanStep(opportunity=opp, order=order, owner=owner, responsible=owner,
                             planned_on=timezone.localdate() + datetime.timedelta(days=order * 7 - 3),
                             action=rng.choice(["电话沟通需求", "上门演示", "提交方案", "商务谈判"])).save()
            if n % 4 == 0:
                Task(title=rng.choice(["整理客户需求", "准备报价单", "回访客户", "更新联系人资料"]), customer=customer,
                     owner=owner, created_by=owner, priority=rng.choice(["normal", "high"]),
                     due_at=now + datetime.timedelta(days=rng.randint(-3, 7), hours=rng.randint(0, 6))).save()
