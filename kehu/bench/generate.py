"""Fill an already-migrated Kehu database with a realistic data set, fast.

    python -m kehu.bench.generate --customers 100000 --db-url postgres://kehu@127.0.0.1:54349/kehu_bench \
        --meta /tmp/bench-meta.json

Customers, their contacts and (unless --no-activities) their opportunities, stage history, follow-ups
and tasks go in with bulk SQL (PostgreSQL: COPY through psycopg; SQLite: executemany in big
transactions) after dropping the secondary indexes of those tables (and on PostgreSQL their foreign
keys), which are rebuilt at the end. Each customer is generated together with everything that hangs
off it, and the rows are written table by table every `batch` customers, so memory stays bounded.
The few users, departments, role links and API tokens go through the ORM. `search_text` is built
exactly as `Customer.build_search_text` builds it (the pinyin of each distinct name is computed once).

The database must hold no customers yet. The meta file tells the harness the logins, the API tokens,
the supervisor's scope, the row counts and sample search terms and records.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import operator
import os
import random
import secrets
import sys
import time
from decimal import Decimal

PASSWORD = "Kehu@Bench2026"
ZERO = Decimal("0.00")
ONE = Decimal(1)
N_USERS = 200
N_DEPARTMENTS = 20

CITIES = [
    ("北京", "北京"), ("上海", "上海"), ("广东", "广州"), ("广东", "深圳"), ("浙江", "杭州"), ("江苏", "南京"),
    ("四川", "成都"), ("重庆", "重庆"), ("湖北", "武汉"), ("陕西", "西安"), ("湖南", "长沙"), ("天津", "天津"),
    ("江苏", "苏州"), ("山东", "青岛"), ("山东", "济南"), ("福建", "厦门"), ("福建", "福州"), ("辽宁", "大连"),
    ("辽宁", "沈阳"), ("河南", "郑州"), ("安徽", "合肥"), ("江西", "南昌"), ("云南", "昆明"), ("广西", "南宁"),
    ("浙江", "宁波"), ("江苏", "无锡"), ("广东", "东莞"), ("广东", "佛山"), ("黑龙江", "哈尔滨"), ("吉林", "长春"),
    ("河北", "石家庄"), ("山西", "太原"), ("贵州", "贵阳"), ("海南", "海口"), ("甘肃", "兰州"), ("新疆", "乌鲁木齐"),
]
BRAND_CHARS = "华信东方宏达创新恒通金桥盛世天成瑞丰嘉禾鑫源博远启明振兴安泰永昌德润明珠凯旋海纳智联乾坤星辰云帆汇通鼎盛"
INDUSTRY_WORDS = [
    "科技", "贸易", "机械", "电子", "医药", "食品", "建材", "物流", "网络", "信息技术", "化工", "纺织", "家具",
    "汽车配件", "环保", "新能源", "文化传媒", "软件", "精密仪器", "农业",
]
CN_SUFFIXES = ["有限公司", "有限公司", "股份有限公司", "有限责任公司", "集团有限公司"]
EN_FIRST = [
    "Blue", "Silver", "Golden", "Pacific", "Northern", "Eastern", "Summit", "Pioneer", "Harbor", "Crystal",
    "Evergreen", "Redwood", "Atlas", "Orion", "Granite", "Maple", "Falcon", "Horizon", "Liberty", "Sterling",
    "Cedar", "Phoenix", "Aurora", "Zenith", "Cobalt", "Vertex", "Nova", "Beacon", "Willow", "Apex",
]
EN_SECOND = [
    "River", "Stone", "Bridge", "Peak", "Ocean", "Valley", "Forest", "Star", "Field", "Lake", "Wave", "Rock",
    "Bay", "Ridge", "Gate", "Point", "Crest", "Spring", "Wind", "Light",
]
EN_KIND = ["Trading", "Technologies", "Logistics", "Manufacturing", "Foods", "Pharma", "Systems", "Electronics",
           "Materials", "Consulting", "Industries", "Software", "Energy", "Textiles", "Instruments"]
EN_SUFFIXES = ["Co., Ltd.", "Ltd.", "Inc.", "Corp.", "LLC", "GmbH", "Limited"]
EN_CITIES = [("", "Singapore"), ("", "Hong Kong"), ("", "London"), ("", "Hamburg"), ("", "Sydney"),
             ("", "Los Angeles"), ("", "Tokyo"), ("", "Toronto")]
EN_COUNTRIES = {"Singapore": "新加坡", "Hong Kong": "中国", "London": "英国", "Hamburg": "德国", "Sydney": "澳大利亚",
                "Los Angeles": "美国", "Tokyo": "日本", "Toronto": "加拿大"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰飞鹏辉波宁凯琳欣怡浩宇子涵梓萱俊杰思远雨轩晨阳佳慧"
EN_GIVEN = ["James", "Mary", "John", "Linda", "Robert", "Emma", "Michael", "Olivia", "David", "Sophia", "Daniel",
            "Grace", "Thomas", "Chloe", "Peter", "Anna", "Lucas", "Mia", "Henry", "Laura"]
EN_FAMILY = ["Smith", "Brown", "Wilson", "Taylor", "Clark", "Walker", "Young", "King", "Wright", "Scott",
             "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Turner", "Parker"]
TITLES = ["总经理", "采购经理", "技术总监", "财务经理", "销售总监", "行政主管", "项目经理", "董事长", ""]
EN_TITLES = ["CEO", "Purchasing Manager", "CTO", "Finance Manager", "Sales Director", "Office Manager", ""]

CUSTOMER_COLS = [
    "id", "created_at", "updated_at", "version", "custom_fields", "deleted_at", "number", "name", "grade",
    "status", "country", "province", "city", "address", "phone", "email", "website", "employees",
    "annual_revenue", "needs", "first_contact_date", "notes", "deal_amount", "deal_products", "signed_on",
    "claimed_at", "pool_entered_at", "search_text", "name_key", "created_by_id", "deleted_by_id", "industry_id",
    "level_id", "merged_into_id", "owner_id", "region_id", "source_id", "type_id", "updated_by_id",
    "last_activity_at", "pool_warned_at",
    # the kept figures (kehu/orders/figures.py), from the customer's generated orders and payments
    "first_order_on", "last_order_on", "order_count", "revenue", "gross_profit", "amount_received", "receivables",
]
CONTACT_COLS = [
    "id", "created_at", "updated_at", "version", "custom_fields", "deleted_at", "name", "gender", "title",
    "mobile", "phone", "email", "wechat", "birthday", "is_primary", "notes", "created_by_id", "deleted_by_id",
    "owner_id", "updated_by_id", "customer_id", "search_text",
]


def log(msg):
    print(f"[generate {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Pinyin:
    """pinyin_forms with a cache: each distinct name (contact names repeat a lot) is computed once."""

    def __init__(self):
        from kehu.customers.normalize import pinyin_forms

        self._forms = pinyin_forms
        self._cache: dict[str, tuple[str, str]] = {}

    def __call__(self, text: str) -> tuple[str, str]:
        hit = self._cache.get(text)
        if hit is None:
            hit = self._cache[text] = self._forms(text)
            if len(self._cache) > 400_000:  # company names rarely repeat; keep memory bounded
                self._cache.clear()
        return hit


def build_search_text(pinyin, number, name, phone, email, contacts) -> str:
    """The same function as Customer.build_search_text, with a cached pinyin."""
    from kehu.customers.normalize import search_text

    return search_text(number, name, phone, email, contacts, pinyin=pinyin)


def name_key(name) -> str:
    """Customer.name_key, as save() fills it."""
    from kehu.customers.normalize import name_key as key

    return key(name)


def contact_search_text(name, mobile, phone, email, wechat, pinyin) -> str:
    """Contact.search_text as Contact.save builds it, with a cached pinyin."""
    from kehu.customers.normalize import contact_search_text as build

    return build(name, mobile, phone, email, wechat, pinyin=pinyin)


def mobile(rng) -> str:
    """A mobile number Kehu's phone check accepts: 13x, 15x (not 154) and 18x are allocated ranges."""
    prefix = rng.choice(MOBILE_PREFIXES)
    return "+86" + prefix + "".join(rng.choice("0123456789") for _ in range(8))


MOBILE_PREFIXES = [f"1{a}{b}" for a in "358" for b in "0123456789" if f"{a}{b}" != "54"]


# --- users, departments, roles, tokens (few rows: the ORM) -------------------------------------

def create_people(rng):
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from kehu.accounts.models import ApiToken, Department, Role, User

    roles = {r.code: r for r in Role.objects.all()}
    with transaction.atomic():
        root = Department(name="总部 Bench HQ", order=0)
        root.save()
        regions = []
        for i in range(4):
            d = Department(name=f"大区{i + 1} Region {i + 1}", parent=root, order=i)
            d.save()
            regions.append(d)
        teams = []
        for i in range(N_DEPARTMENTS - 5):
            d = Department(name=f"销售{i + 1}组 Team {i + 1}", parent=regions[i % 4], order=i)
            d.save()
            teams.append(d)
        for d in [root, *regions, *teams]:
            d.refresh_from_db()
        pw = make_password(PASSWORD)
        now = dt.datetime.now(dt.UTC)
        users = []
        for i in range(N_USERS):
            if i == 0:
                username, dept = "bench_admin", root
            elif i == 1:
                username, dept = "bench_supervisor", regions[0]
            elif i < 5:
                username, dept = f"bench_supervisor{i}", regions[i - 1]
            else:
                username, dept = f"bench_u{i:03d}", teams[i % len(teams)]
            users.append(User(
                username=username, password=pw, is_superuser=(i == 0), is_staff=(i == 0), is_active=True,
                full_name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN), email=f"{username}@bench.test",
                must_change_password=False, password_changed_at=now, department=dept, date_joined=now,
            ))
        User.objects.bulk_create(users)
        users = list(User.objects.filter(username__startswith="bench_").order_by("id"))
        through = User.roles.through
        links = []
        for u in users:
            if u.username == "bench_admin":
                code = "admin"
            elif u.username.startswith("bench_supervisor"):
                code = "supervisor"
            else:
                code = "account_manager"
            links.append(through(user_id=u.pk, role_id=roles[code].pk))
        through.objects.bulk_create(links)
        for d, manager in zip(regions, [u for u in users if u.username.startswith("bench_supervisor")], strict=False):
            Department.objects.filter(pk=d.pk).update(manager=manager)
        admin = next(u for u in users if u.username == "bench_admin")
        supervisor = next(u for u in users if u.username == "bench_supervisor")
        _t, admin_key = ApiToken.issue(admin, name="bench")
        _t, sup_key = ApiToken.issue(supervisor, name="bench")
    scope_ids = sorted(supervisor.access.scope_user_ids())
    return users, admin, supervisor, admin_key, sup_key, scope_ids


# --- bulk loading (any table) -------------------------------------------------------------------

def dict_ids():
    from kehu.core.models import DictItem

    out: dict[str, list[int]] = {}
    for kind, pk in DictItem.objects.values_list("kind", "pk"):
        out.setdefault(kind, []).append(pk)
    return out


def secondary_indexes(cursor, vendor, table):
    if vendor == "postgresql":
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND i.indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)", [table, table])
    else:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name=%s AND sql IS NOT NULL",
                       [table])
    return cursor.fetchall()


def foreign_keys(cursor, table):
    """PostgreSQL: the foreign keys of `table` as (name, definition). Checked row by row at each
    commit they cost more than the COPY itself; dropped and added back, each is validated by one join."""
    cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                   "AND contype = 'f'", [table])
    return cursor.fetchall()


def sqlite_value(v):
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, Decimal):
        return str(v)  # as Django's SQLite backend stores it
    return v


def bulk_load(raw, vendor, table, cols, rows):
    """Append `rows` (sequences in `cols` order, values the database takes as they are) to `table`:
    COPY on PostgreSQL, one executemany on SQLite. The caller holds the transaction."""
    if not rows:
        return
    names = ", ".join(cols)
    if vendor == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(cols))})", rows)


class Table:
    """A table whose rows are built as dicts: the model's columns in order, and a base row with the
    neutral value of every column that has one (NULL, "", version 1, no custom fields). The other
    NOT NULL columns (ids, times, required foreign keys) are not in the base: a row that forgets one
    fails with a KeyError instead of loading a bad value."""

    def __init__(self, model):
        from django.db import models

        fields = model._meta.concrete_fields
        self.name = model._meta.db_table
        self.cols = [f.column for f in fields]
        self.base = {f.column: None if f.null else "" for f in fields
                     if f.null or (isinstance(f, models.CharField | models.TextField) and not f.choices)}
        if "custom_fields" in self.cols:
            self.base.update(version=1, custom_fields="{}")
        self.row = operator.itemgetter(*self.cols)  # dict -> tuple in column order


EPOCH = dt.date(1970, 1, 1)


class DayNames(dict):
    """Epoch day number -> that day formatted, computed on first use."""

    def __init__(self, fmt):
        super().__init__()
        self.fmt = fmt

    def __missing__(self, day):
        text = self[day] = (EPOCH + dt.timedelta(days=day)).strftime(self.fmt)
        return text


class Stamps:
    """Times of the activity tables are whole minutes since the epoch (UTC), formatted fast for the
    database: each day is formatted once and the time of day comes from a table of 1,440 strings.
    SQLite gets naive UTC text, as Django stores it; PostgreSQL gets the offset."""

    def __init__(self, vendor, utc_offset_minutes):
        suffix = "+00" if vendor == "postgresql" else ""
        self.clock = [f" {m // 60:02d}:{m % 60:02d}:00{suffix}" for m in range(1440)]
        self.offset = utc_offset_minutes
        self.days = DayNames("%Y-%m-%d")
        self.compact = DayNames("%Y%m%d")

    def at(self, minute) -> str:
        day, m = divmod(minute, 1440)
        return self.days[day] + self.clock[m]

    def local_day(self, minute) -> int:
        return (minute + self.offset) // 1440

    def date(self, minute) -> str:
        """The local date of a time (DateField values: expected close, signing date)."""
        return self.days[(minute + self.offset) // 1440]


# --- products and stock (few rows: the ORM) -----------------------------------------------------

N_PRODUCTS = 300
N_WAREHOUSES = 4  # the default one and three more
PRODUCT_WORDS = [("激光打印机", "台", "goods"), ("显示器", "台", "goods"), ("无线 AP", "台", "goods"),
                 ("交换机", "台", "goods"), ("硒鼓", "个", "goods"), ("复印纸", "箱", "goods"),
                 ("键鼠套装", "套", "goods"), ("扩展坞", "个", "goods"), ("网线", "箱", "goods"),
                 ("服务器", "台", "goods"), ("CRM 年费", "用户", "service"), ("实施服务", "人天", "service"),
                 ("培训服务", "人天", "service"), ("维保服务", "年", "service")]
RACE_STOCK = 40  # the concurrent shipment scenario's product: 40 units, wanted 64 times (run.py)


def create_catalog(rng, admin):
    """A few hundred products (goods and services) in a small category tree, N_WAREHOUSES
    warehouses, and each goods product's opening stock in every warehouse: a receipt in the ledger
    and its balance, so the on-hand figures are the ledger's sums. Also the product the concurrent
    shipment scenario races for: RACE_STOCK units in the default warehouse only. Returns
    ([(id, price, cost, tax rate, goods?, unit, name)], race product id)."""
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from kehu.catalog.models import Product, ProductCategory, StockBalance, StockMove, Warehouse
    from kehu.catalog.services import default_warehouse

    now = timezone.now()
    with transaction.atomic():
        roots = []
        for name in ("办公设备", "网络设备", "软件与服务"):
            c = ProductCategory(name=name)
            c.save()
            roots.append(c)
        warehouses = [default_warehouse()]
        for i in range(1, N_WAREHOUSES):
            w = Warehouse(code=f"BW{i:02d}", name=f"{CITIES[i][1]}仓 Bench", name_en=f"Bench warehouse {i}")
            w.save()
            warehouses.append(w)
        products = []
        for i in range(N_PRODUCTS):
            word, unit, kind = PRODUCT_WORDS[i % len(PRODUCT_WORDS)]
            price = Decimal(rng.randrange(50, 20000)) + Decimal(rng.choice((0, 0, 0, 50, 99))) / 100
            cost = (price * Decimal(rng.randrange(40, 80)) / 100).quantize(Decimal("0.01"))
            p = Product(code=f"BP{i:05d}", name=f"{rng.choice(BRAND_CHARS)}{rng.choice(BRAND_CHARS)} {word} {i}",
                        category=roots[2] if kind == "service" else roots[i % 2], kind=kind, list_price=price,
                        cost=cost, tax_rate=Decimal(6 if kind == "service" else 13),
                        low_stock_threshold=Decimal(20) if kind == "goods" else None, owner=admin,
                        created_by=admin, updated_by=admin)
            p.search_text = p.build_search_text()
            products.append(p)
        race = Product(code="BP-RACE", name="并发发货测试品 Race", kind="goods", list_price=Decimal("10.00"),
                       cost=Decimal("6.00"), tax_rate=Decimal(13), owner=admin, created_by=admin, updated_by=admin)
        race.search_text = race.build_search_text()
        Product.objects.bulk_create([*products, race])
        balances, moves = [], []
        for p in products + [race]:
            if p.kind != "goods":
                continue
            places = [(warehouses[0], Decimal(RACE_STOCK))] if p is race else [
                (w, Decimal(rng.randrange(5_000, 50_000))) for w in warehouses]
            for w, qty in places:
                balances.append(StockBalance(product=p, warehouse=w, on_hand=qty, updated_at=now))
                moves.append(StockMove(product=p, warehouse=w, kind="receipt", quantity=qty, balance_after=qty,
                                       reason="期初库存 Opening stock", created_at=now, updated_at=now,
                                       created_by=admin, updated_by=admin))
            p.on_hand = sum(q for _w, q in places)
        StockBalance.objects.bulk_create(balances)
        StockMove.objects.bulk_create(moves)
        for p in products + [race]:
            if p.on_hand:
                Product.all_objects.filter(pk=p.pk).update(on_hand=p.on_hand)
    catalog = [(p.pk, p.list_price, p.cost, p.tax_rate, p.kind == "goods", PRODUCT_WORDS[i % len(PRODUCT_WORDS)][1],
                p.name) for i, p in enumerate(products)]
    return catalog, race.pk


# --- orders, contracts, payment plans, payments and invoices of a customer ----------------------

ORDER_COUNTS = [0] * 4 + [1] * 3 + [2] * 3 + [3] * 2 + [4, 5, 6]  # 0-6 orders a customer, 2 on average
LINE_COUNTS = [1, 2, 3, 4, 5]  # 3 lines an order on average
CONTRACT_COUNTS = [0] * 6 + [1] * 3 + [2]  # 0.5 contracts a customer
PAYMENT_SPLITS = [1, 1, 2, 2, 3, 3]  # payments of a paid order (3 payments a customer in all)
QUIET_DAYS = 31
DISCOUNTS = [ZERO] * 6 + [Decimal(5), Decimal(10), Decimal(15), Decimal("33.33")]
OPEN_ORDERS = ("created", "processing", "shipped")  # due dates kept out of the reminders' look-back (orders' LATE_LOOKBACK_DAYS is 30)


class Trade:
    """What a customer bought, signed and paid: 0-2 contracts with their payment plans and payments,
    0-6 orders (3 lines each on average, amounts by `line_total`, the order's totals the sums of its
    lines), payment plans for some orders, payments and invoices; and the customer's kept figures
    computed from the same rows (as kehu.orders.figures computes them), so they agree without a
    recomputation pass. Owners: the customer's owner (a pool customer's documents belong to the
    one who worked on it), so data scope sees a customer's orders with it. Numbers: prefix + date +
    a per-day sequence, as Numbering draws them, for days before today (the app numbers today's).

    Orders run created → processing → shipped → delivered (recent orders mostly still open) or
    cancelled; shipped lines carry their shipped quantity, but no Shipment rows or stock moves are
    generated for them. Received amounts never exceed the total (overpayment is refused)."""

    def __init__(self, n, vendor, stamps, end_min, now_min, dicts, catalog, words):
        from django.db import connection

        from kehu.core.money import line_total, round_money
        from kehu.orders.models import Contract, Instalment, Invoice, Order, OrderLine, Payment

        self.rng = random.Random(n * 7919 + 17)  # its own stream: the customers' data stays as it was
        self.sqlite = vendor != "postgresql"
        self.stamps, self.end_min, self.words = stamps, end_min, words
        self.line_total, self.round = line_total, round_money
        self.today = stamps.local_day(now_min)
        self.end_day = stamps.local_day(end_min)
        self.methods = dicts.get("payment_method") or [None]
        self.goods = [p for p in catalog if p[4]]
        self.services = [p for p in catalog if not p[4]] or self.goods
        self.contract, self.order, self.line, self.instalment, self.payment, self.invoice = (
            Table(Contract), Table(Order), Table(OrderLine), Table(Instalment), Table(Payment), Table(Invoice))
        kinds = (self.contract, self.order, self.line, self.instalment, self.payment, self.invoice)
        self.tables = {t.name: t.cols for t in kinds}
        self.ids = {}
        with connection.cursor() as cur:
            for t in kinds:
                cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {t.name}")
                self.ids[t.name] = cur.fetchone()[0] + 1
        self.seq: dict = {"DD": {}, "HT": {}, "HK": {}, "FP": {}}

    def next_id(self, table) -> int:
        pk = self.ids[table.name]
        self.ids[table.name] = pk + 1
        return pk

    def number(self, prefix, day) -> str:
        seqs = self.seq[prefix]
        seqs[day] = seq = seqs.get(day, 0) + 1
        return f"{prefix}{self.stamps.compact[day]}{seq:04d}"

    def emit(self, table, row, out):
        values = table.row(row)
        if self.sqlite:
            values = [str(v) if type(v) is Decimal else v for v in values]
        out[table.name].append(values)

    def minute(self, day) -> int:
        """A working-hours minute of a local day, never after the end of the data."""
        return min(day * 1440 - self.stamps.offset + self.rng.randrange(9 * 60, 18 * 60), self.end_min)

    def unquiet(self, day) -> int:
        """A due date outside the reminders' look-back: a worker started for the benchmark must not
        send thousands of stale reminders at once."""
        return day + QUIET_DAYS + 4 if self.today - QUIET_DAYS <= day <= self.today + 1 else day

    def split(self, amount, k) -> list:
        """`amount` in k parts (cents), the last one the remainder: they add up exactly."""
        if k <= 1:
            return [amount]
        parts, left = [], amount
        for i in range(k - 1):
            part = self.round(amount / k * Decimal(self.rng.randrange(80, 121)) / 100)
            part = max(min(part, left - Decimal("0.01") * (k - 1 - i)), Decimal("0.01"))
            parts.append(part)
            left -= part
        parts.append(left)
        return parts

    def instalments(self, field, doc_id, amounts, dues, out):
        table = self.instalment
        for i, (amount, due) in enumerate(zip(amounts, dues, strict=True)):
            self.emit(table, {**table.base, "id": self.next_id(table), field: doc_id, "position": i + 1,
                              "due_on": self.stamps.days[due], "amount": amount}, out)

    def pay(self, field, doc_id, cid, owner, amounts, days, method, out) -> Decimal:
        table, days_fmt = self.payment, self.stamps.days
        total = ZERO
        for amount, day in zip(amounts, days, strict=True):
            at = self.stamps.at(self.minute(day))
            self.emit(table, {**table.base, "id": self.next_id(table), "number": self.number("HK", day),
                              "customer_id": cid, field: doc_id, "kind": "payment", "received_on": days_fmt[day],
                              "amount": amount, "method_id": method, "owner_id": owner, "created_by_id": owner,
                              "updated_by_id": owner, "created_at": at, "updated_at": at,
                              "reference": f"BK{doc_id:08d}{len(days)}" if self.rng.random() < 0.6 else ""}, out)
            total += amount
        return total

    @staticmethod
    def state(received, total) -> str:
        return "unpaid" if received <= 0 else "paid" if received >= total else "partly_paid"

    @staticmethod
    def due(received, amounts, dues):
        """The due date of the first instalment the payments do not cover (None: all covered)."""
        covered = ZERO
        for amount, due in zip(amounts, dues, strict=True):
            covered += amount
            if covered > received:
                return due
        return None

    def customer(self, cid, owner, c_min, contact, name, chinese, out, opportunities=()) -> list:
        """Generate the customer's contracts, orders and money into `out`; returns its kept figures
        (first and last order date, order count, revenue, gross profit, received, receivables).
        Some contracts and orders come from one of the customer's `opportunities` (ids): without
        any, the planner's statistics say one value covers the whole column, and the list filtered
        by an opportunity walks every order."""
        rng = self.rng
        random, randrange, choice = rng.random, rng.randrange, rng.choice
        stamps, today, end_day = self.stamps, self.today, self.end_day
        days, at = stamps.days, stamps.at
        words = self.words[chinese]
        span = max(1, self.end_min - c_min)
        received_all = ZERO
        # contracts first: orders may belong to one
        contracts = []
        for _ in range(choice(CONTRACT_COUNTS)):
            t = c_min + randrange(span)
            sday = stamps.local_day(t)
            r = random()
            status = "draft" if r < 0.1 else "active" if r < 0.6 or sday > today - 90 else \
                "completed" if r < 0.9 else "terminated"
            if status == "draft":
                starts = today + randrange(5, 60)
                ends, signed = starts + 365, None
            elif status == "active":
                starts = min(sday + randrange(15), today)
                ends, signed = today + randrange(35, 730), sday
            else:
                starts = sday + randrange(15)
                ends, signed = min(starts + choice((365, 730)), today - randrange(2, 30)), sday
            amount = Decimal(randrange(20, 3000) * 1000)
            k = choice((1, 2, 2, 3, 4))
            parts = self.split(amount, k)
            dues = [self.unquiet(starts + 90 * i) for i in range(k)]
            pk = self.next_id(self.contract)
            self.instalments("contract_id", pk, parts, dues, out)
            paid = 0
            if status == "completed":
                paid = k
            elif status == "terminated":
                paid = randrange(k)
            elif status == "active":
                while paid < k and dues[paid] <= today and random() < 0.85:
                    paid += 1
            pay_days = [max(sday, min(d + randrange(-5, 20), end_day)) for d in dues[:paid]]
            method = choice(self.methods)
            received = self.pay("contract_id", pk, cid, owner, parts[:paid], pay_days, method, out)
            received_all += received
            due = self.due(received, parts, dues)
            created = at(t)
            closed = at(self.minute(max(min(ends, end_day), sday))) if status in ("completed", "terminated") else None
            contracts.append({
                **self.contract.base, "id": pk, "number": self.number("HT", sday), "customer_id": cid,
                "contact_id": contact, "title": choice(words.opp_titles) + (" 合同" if chinese else " contract"),
                "opportunity_id": choice(opportunities) if opportunities and random() < 0.3 else None,
                "status": status, "signed_on": days[signed] if signed is not None else None,
                "starts_on": days[starts], "ends_on": days[ends], "amount": amount, "amount_ordered": ZERO,
                "amount_received": received, "amount_invoiced": ZERO, "payment_state": self.state(received, amount),
                "payment_due_on": days[due] if status == "active" and due is not None else None,
                "activated_at": at(self.minute(min(starts, end_day))) if status != "draft" else None,
                "closed_at": closed, "owner_id": owner, "created_by_id": owner, "updated_by_id": owner,
                "created_at": created, "updated_at": closed or created})
        signed = [c for c in contracts if c["status"] in ("active", "completed")]
        # orders
        first = last = None
        count, revenue, profit, owed = 0, ZERO, ZERO, ZERO
        line_table, line_total, round_money = self.line, self.line_total, self.round
        for _ in range(choice(ORDER_COUNTS)):
            t = c_min + randrange(span)
            day = stamps.local_day(t)
            r = random()
            if end_day - day < 14:  # recent: still open
                status = "created" if r < 0.4 else "processing" if r < 0.7 else "shipped" if r < 0.9 else "cancelled"
            else:
                status = ("delivered" if r < 0.68 else "shipped" if r < 0.74 else "processing" if r < 0.8
                          else "created" if r < 0.88 else "cancelled")
            oid = self.next_id(self.order)
            shipped = status in ("shipped", "delivered")
            net_total = tax_total = cost_total = ZERO
            for position in range(1, choice(LINE_COUNTS) + 1):
                r = random()
                if r < 0.05:  # free text: a service without a product record
                    product, price, cost, tax_rate, goods = None, Decimal(randrange(500, 20000)), ZERO, Decimal(6), False
                    qty, unit, text = Decimal(1), "", choice(words.products)
                else:
                    product, price, cost, tax_rate, goods, unit, _n = choice(self.goods if r < 0.8 else self.services)
                    qty = Decimal(randrange(1, 21)) if goods else choice((ONE, ONE, Decimal(2), Decimal("2.5")))
                    text = ""
                    if random() < 0.2:  # a negotiated price
                        price = round_money(price * Decimal(randrange(85, 111)) / 100)
                discount = choice(DISCOUNTS)
                amounts = line_total(qty, price, discount, tax_rate)
                net_total += amounts.net
                tax_total += amounts.tax
                cost_total += round_money(qty * cost)
                done = qty if goods and shipped else (
                    Decimal(int(qty) // 2) if goods and status == "processing" and random() < 0.3 else ZERO)
                self.emit(line_table, {
                    **line_table.base, "id": self.next_id(line_table), "order_id": oid, "position": position,
                    "product_id": product, "description": text, "quantity": qty, "unit": unit, "unit_price": price,
                    "discount_pct": discount, "tax_rate": tax_rate, "net": amounts.net, "tax": amounts.tax,
                    "gross": amounts.gross, "unit_cost": cost, "shipped_quantity": done}, out)
            total = net_total + tax_total
            owner_at = at(t)
            times = {"shipped_at": None, "delivered_at": None, "cancelled_at": None}
            last_min = t
            if shipped:
                last_min = min(t + randrange(1440, 20 * 1440), self.end_min)
                times["shipped_at"] = at(last_min)
                if status == "delivered":
                    last_min = min(last_min + randrange(1440, 10 * 1440), self.end_min)
                    times["delivered_at"] = at(last_min)
            elif status == "cancelled":
                last_min = min(t + randrange(60, 10 * 1440), self.end_min)
                times["cancelled_at"] = at(last_min)
            promised = None
            if random() < 0.8:
                promised = day + randrange(5, 40)
                if status in OPEN_ORDERS and today - QUIET_DAYS <= promised <= today + 1:
                    promised = today + randrange(2, 30)  # no late-order reminder flood (see unquiet)
            method = choice(self.methods) if random() < 0.8 else None
            # payments: most delivered orders are paid, recent ones mostly not yet
            r = random()
            paid_share = {"delivered": (0.78, 0.92), "shipped": (0.3, 0.7), "processing": (0.1, 0.4),
                          "created": (0.0, 0.08)}.get(status, (0.0, 0.0))
            if r < paid_share[0]:
                amounts_paid = self.split(total, choice(PAYMENT_SPLITS))
            elif r < paid_share[1]:
                amounts_paid = self.split(round_money(total * Decimal(randrange(20, 80)) / 100), choice((1, 1, 2)))
            else:
                amounts_paid = []
            amounts_paid = [a for a in amounts_paid if a > 0]
            pay_days = sorted(day + randrange(max(1, end_day - day + 1)) for _ in amounts_paid)
            received = self.pay("order_id", oid, cid, owner, amounts_paid, pay_days, method, out)
            received_all += received
            due_on = None
            if status != "cancelled" and random() < 0.3:  # a payment plan
                k = choice((2, 3))
                parts = self.split(total, k)
                dues = [self.unquiet(day + 30 * i) for i in range(1, k + 1)]
                self.instalments("order_id", oid, parts, dues, out)
                due = self.due(received, parts, dues)
                due_on = days[due] if due is not None else None
            invoiced = ZERO
            if shipped and random() < 0.45:
                r = random()
                inv_status = "issued" if r < 0.9 else "requested" if r < 0.97 else "cancelled"
                inv_day = min(stamps.local_day(last_min), end_day)
                inv_at = at(self.minute(inv_day))
                table = self.invoice
                self.emit(table, {
                    **table.base, "id": self.next_id(table), "number": self.number("FP", inv_day),
                    "invoice_number": f"{randrange(10**7, 10**8)}" if inv_status != "requested" else "",
                    "customer_id": cid, "order_id": oid, "type": "special" if random() < 0.3 else "ordinary",
                    "status": inv_status, "invoiced_on": days[inv_day], "amount": total, "tax": tax_total,
                    "title": name, "issued_at": inv_at if inv_status != "requested" else None,
                    "cancelled_at": inv_at if inv_status == "cancelled" else None, "owner_id": owner,
                    "created_by_id": owner, "updated_by_id": owner, "created_at": inv_at, "updated_at": inv_at}, out)
                if inv_status != "cancelled":
                    invoiced = total
            contract = None
            if signed and random() < 0.5:
                c = choice(signed)
                contract = c["id"]
                if status != "cancelled":
                    c["amount_ordered"] += total
            self.emit(self.order, {
                **self.order.base, "id": oid, "number": self.number("DD", day), "customer_id": cid,
                "contact_id": contact, "title": choice(words.opp_titles), "status": status,
                "opportunity_id": choice(opportunities) if opportunities and random() < 0.4 else None,
                "order_date": days[day], "promised_date": days[promised] if promised is not None else None,
                "payment_method_id": method, "net_total": net_total, "tax_total": tax_total, "total": total,
                "cost_total": cost_total, "contract_id": contract, "amount_received": received,
                "amount_invoiced": invoiced, "payment_state": self.state(received, total), "payment_due_on": due_on,
                "owner_id": owner, "created_by_id": owner, "updated_by_id": owner, "created_at": owner_at,
                "updated_at": at(last_min), **times}, out)
            if status != "cancelled":
                count += 1
                revenue += total
                profit += net_total - cost_total
                owed += max(total - received, ZERO)
                first = day if first is None or day < first else first
                last = day if last is None or day > last else last
        for c in contracts:
            self.emit(self.contract, c, out)
        return [days[first] if first is not None else None, days[last] if last is not None else None, count,
                revenue, profit, received_all, owed]


# --- service: tickets, handling entries, feedback, surveys; the knowledge base ----------------------

N_AGENTS = 20  # service agents (role "service", scope all) in the headquarters
TICKET_COUNTS = [0] * 3 + [1] * 3 + [2] * 2 + [3, 5]  # 1.5 tickets a customer
FEEDBACK_COUNTS = [0] * 8 + [1] * 2  # 0.2 feedback records a customer
ENTRY_COUNTS = {"new": [0], "assigned": [0, 0, 1, 2], "handled": [1, 2, 3, 3], "feedback": [1, 2, 3, 3],
                "archived": [1, 2, 2, 3]}  # 3 handling entries a customer with the statuses below
ARTICLES_AT_1M, ARTICLES_MIN = 20_000, 2_000
TICKET_PRIORITIES = ["normal"] * 11 + ["low"] * 3 + ["high"] * 4 + ["urgent"] * 2
CHANNELS = ["phone"] * 4 + ["email"] * 2 + ["wechat"] * 2 + ["web", "visit"]
KB_PRODUCTS = ["打印机", "激光打印机", "显示器", "交换机", "无线 AP", "路由器", "扫描仪", "投影仪", "笔记本电脑",
               "服务器", "硒鼓", "键盘", "鼠标", "摄像头", "CRM 系统", "移动端", "VPN", "企业邮箱", "发票", "订单",
               "合同", "报表", "数控机床", "空调", "UPS 电源", "门禁", "考勤机", "复印机", "扩展坞", "网线"]
KB_PROBLEMS = ["无法开机", "卡纸", "没有信号", "频繁断开", "登录失败", "速度很慢", "报错", "无法连接网络", "显示乱码",
               "无法同步", "有异响", "指示灯不亮", "无法打印", "画面模糊", "数据丢失", "提示过期", "无法导出",
               "重复扣费", "开错了", "需要重开", "自动重启", "发热严重", "无法识别", "配对失败"]
KB_SUFFIXES = ["怎么办", "的处理方法", "排查步骤", "常见原因", "解决办法", "的应急处理"]
KB_EN_PRODUCTS = ["printer", "monitor", "switch", "router", "scanner", "projector", "laptop", "server", "VPN",
                  "mobile app", "CRM login", "invoice", "order export", "UPS"]
KB_EN_PROBLEMS = ["does not start", "paper jam", "no signal", "keeps disconnecting", "login fails", "is slow",
                  "shows an error", "cannot sync", "makes a noise", "export fails"]
KB_STEPS = ["关闭电源并拔掉电源线，等待 10 分钟后重新开机", "检查线缆两端是否插紧，必要时更换线缆",
            "在管理后台查看设备状态和错误日志", "升级到最新版本的固件或客户端", "清除缓存后重新登录",
            "确认账号已开通相应模块和权限", "更换耗材（硒鼓、电池）后再试", "在菜单中恢复出厂设置（先备份配置）",
            "联系二线支持并附上照片或截图", "确认设备仍在保修期内，预约工程师上门",
            "检查本地防火墙和代理设置", "把设备移到通风良好的位置", "核对开票信息与营业执照是否一致",
            "在订单的售后中登记退换货申请", "请客户提供型号和序列号"]
KB_EN_STEPS = ["Switch it off, wait ten minutes and switch it on again", "Check both ends of the cable",
               "Read the device's error log in the admin console", "Update the firmware or the client",
               "Clear the cache and log in again", "Ask second-line support, with a photo or a screenshot"]
KB_CATEGORIES = [("产品使用", None), ("打印与外设", "产品使用"), ("显示与会议", "产品使用"), ("CRM 软件", "产品使用"),
                 ("网络与账号", None), ("无线与交换", "网络与账号"), ("VPN 与邮箱", "网络与账号"),
                 ("订单与财务", None), ("发票", "订单与财务"), ("退换货", "订单与财务"),
                 ("售后服务", None), ("上门维保", "售后服务"), ("投诉处理", "售后服务"), ("设备维修", None),
                 ("数控设备", "设备维修"), ("机房与电源", "设备维修")]
TICKET_REQUESTS = ["客户来电反映：{s}，已影响日常工作，希望尽快处理。", "客户邮件说明：{s}，附件为现场照片。",
                   "微信留言：{s}，请安排工程师联系。", "{s}，客户已自行重启过，问题仍在。", "{s}。"]
TICKET_EN_REQUESTS = ["The customer called: {s}. It blocks their daily work.", "By e-mail: {s}; photos attached.",
                      "{s}. They restarted it already."]
HANDLING_TEXTS = ["电话联系客户，确认问题现象", "远程协助排查，已收集日志", "指导客户重启设备并检查线缆",
                  "已更换耗材，客户确认恢复正常", "工程师上门检修，更换故障部件", "升级固件后测试通过",
                  "与二线支持沟通，等待备件", "回访客户，确认问题已解决"]
HANDLING_EN_TEXTS = ["Called the customer to confirm the problem", "Remote session: logs collected",
                     "Guided a restart and a cable check", "Replaced the part; working again",
                     "Followed up: the customer confirms it works"]
RESULTS = ["问题已解决，客户确认", "已更换设备，运行正常", "已重新开具发票", "远程处理完成"]
EN_RESULTS = ["Solved, the customer confirms", "Device replaced", "Invoice issued again"]
FEEDBACK_TEXTS = {
    "complaint": ["交付延期一周，客户要求说明原因", "上门工程师迟到两个小时", "发票多次开错，客户很不满意",
                  "客服电话长时间无人接听", "设备维修后再次出现同样的问题"],
    "suggestion": ["希望报表可以按周自动发送", "建议增加微信通知", "希望移动端支持离线查看", "建议提供英文发票模板"],
    "praise": ["实施顾问非常专业，感谢", "维修响应很快，点赞", "培训内容实用，员工很快上手"]}
FEEDBACK_EN_TEXTS = {"complaint": ["Delivery was a week late", "The engineer came two hours late"],
                     "suggestion": ["Please send the report weekly", "An English invoice template would help"],
                     "praise": ["Very professional consultant, thank you", "Quick repair, thanks"]}
SATISFACTION_PICK = [5] * 5 + [4] * 3 + [3, 2, 1]
SURVEY_FOLLOW_UP_DAYS, SURVEY_DAYS = 3, 14


def create_service_people(rng, admin, root_department):
    """N_AGENTS service agents (role "service", scope all: they handle every customer's tickets) in the
    headquarters, with an API token for the first. Returns ([agent ids], the first agent, its token)."""
    from django.contrib.auth.hashers import make_password

    from kehu.accounts.models import ApiToken, Role, User

    role = Role.objects.get(code="service")
    pw = make_password(PASSWORD)
    now = dt.datetime.now(dt.UTC)
    agents = [User(username=f"bench_agent{i:02d}", password=pw, is_active=True, must_change_password=False,
                   full_name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                   email=f"bench_agent{i:02d}@bench.test", password_changed_at=now, department=root_department,
                   date_joined=now) for i in range(1, N_AGENTS + 1)]
    User.objects.bulk_create(agents)
    agents = list(User.objects.filter(username__startswith="bench_agent").order_by("id"))
    User.roles.through.objects.bulk_create([User.roles.through(user_id=u.pk, role_id=role.pk) for u in agents])
    _t, key = ApiToken.issue(agents[0], name="bench")
    return [u.pk for u in agents], agents[0], key


def article_count(customers: int) -> int:
    return max(ARTICLES_MIN, ARTICLES_AT_1M * customers // 1_000_000)


def create_knowledge(rng, n, authors):
    """`n` knowledge-base articles in a category tree, as the app writes them: `tag_text` the sorted
    tag names (Article.set_tags), `search_words` from Article.build_search_words, the tags as TaggedItem
    rows; 90 % published; views and votes. Titles combine a product, a problem and a model number, so
    that the search and the suggestions find few articles for a precise term and many for a common
    one. Returns {product word: [published article ids]} (the tickets about a product link to them)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone

    from kehu.core.models import Tag, TaggedItem
    from kehu.knowledge.models import Article, ArticleCategory

    now = timezone.now()
    with transaction.atomic():
        cats: dict[str, ArticleCategory] = {}
        for name, parent in KB_CATEGORIES:
            c = ArticleCategory(name=name, parent=cats.get(parent), order=len(cats))
            c.save()
            cats[name] = c
        leaves = [c for name, c in cats.items() if all(p != name for _n, p in KB_CATEGORIES)]
        articles, tags_of, product_of = [], [], []
        for _ in range(n):
            english = rng.random() < 0.1
            model = f"{rng.choice('ABCDEFGHKMNPRSTX')}{rng.randrange(100, 10000)}"
            if english:
                product, problem = rng.choice(KB_EN_PRODUCTS), rng.choice(KB_EN_PROBLEMS)
                title = f"{product.capitalize()} {model} {problem}"
                steps = rng.sample(KB_EN_STEPS, 3)
                body = (f"The {product} {model} {problem}: what to check first.\n\n## Steps\n\n"
                        + "\n".join(f"{k + 1}. {s}" for k, s in enumerate(steps)))
                tags = [product, problem.split()[-1]]
            else:
                product, problem = rng.choice(KB_PRODUCTS), rng.choice(KB_PROBLEMS)
                title = f"{product} {model} {problem}{rng.choice(KB_SUFFIXES)}"
                steps = rng.sample(KB_STEPS, rng.randrange(3, 6))
                body = (f"{product} {model} 出现“{problem}”时，按以下步骤处理。\n\n## 处理步骤\n\n"
                        + "\n".join(f"{k + 1}. {s}" for k, s in enumerate(steps))
                        + "\n\n> 仍未解决时，请在工单中附上照片或截图，转二线支持。")
                tags = [product, problem]
            if rng.random() < 0.3:
                tags.append(rng.choice(["常见问题", "客户可见", "硬件", "软件", "FAQ"]))
            author = rng.choice(authors)
            published = rng.random() < 0.9
            created = now - dt.timedelta(days=rng.randrange(1, DAYS_BACK), minutes=rng.randrange(1440))
            yes = rng.randrange(0, 60) if published else 0
            a = Article(title=title, category=rng.choice(leaves), body=body,
                        audience="shareable" if rng.random() < 0.6 else "internal",
                        status="published" if published else "draft",
                        published_at=created + dt.timedelta(hours=2) if published else None,
                        view_count=rng.randrange(0, 3000) if published else rng.randrange(0, 5),
                        helpful_count=yes, not_helpful_count=rng.randrange(0, 1 + yes // 4),
                        owner_id=author, created_by_id=author, updated_by_id=author, created_at=created,
                        updated_at=created + dt.timedelta(days=rng.randrange(0, 30)))
            a.tag_text = " ".join(sorted({t.strip()[:50] for t in tags}))
            a.search_words = a.build_search_words()
            articles.append(a)
            tags_of.append(tags)
            product_of.append((product, published))
        Article.objects.bulk_create(articles, batch_size=2000)
        names = sorted({t for ts in tags_of for t in ts})
        Tag.objects.bulk_create([Tag(name=t) for t in names], ignore_conflicts=True)
        tag_ids = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
        ct = ContentType.objects.get_for_model(Article)
        TaggedItem.objects.bulk_create([TaggedItem(tag_id=tag_ids[t], content_type=ct, object_id=a.pk)
                                        for a, ts in zip(articles, tags_of, strict=True) for t in set(ts)],
                                       batch_size=5000)
    by_product: dict[str, list[int]] = {}
    for a, (product, published) in zip(articles, product_of, strict=True):
        if published:
            by_product.setdefault(product, []).append(a.pk)
    log(f"knowledge base: {len(articles)} articles in {len(cats)} categories, {len(names)} tags")
    return by_product


# --- campaigns and their members ----------------------------------------------------------------

CAMPAIGNS_PER_CUSTOMERS = 5_000  # a campaign per 5,000 customers (200 at 1M), at least CAMPAIGNS_MIN
CAMPAIGNS_MIN = 10
MEMBER_COUNTS = [0] * 6 + [1] * 3 + [2]  # campaigns a customer joined: 0.5 on average (500,000 members at 1M)
CAMPAIGN_NAMES = [("{city}工业博览会", "offline", "trade_show"), ("智能制造研讨会（{city}站）", "offline", "seminar"),
                  ("微信公众号{season}推广", "online", "wechat"), ("老客户回访邮件（{season}）", "online", "email"),
                  ("线上广告投放（{season}）", "online", "online_ads"), ("{city}客户答谢会", "offline", "seminar")]
CAMPAIGN_EN_NAMES = [("{city} trade fair", "offline", "trade_show"), ("Webinar: {season} release", "online", "email")]
SEASONS = ("春季", "夏季", "秋季", "冬季")


def create_campaigns(rng, n, organisers, end_min, now_min):
    """The company's campaigns (few rows: the ORM), as the app numbers and states them: HD + the day
    it was entered + a sequence; spread over the data's three years and the next month, 1-60 days
    long; completed when over (one in ten cancelled instead), active while running, planned before.
    Returns [(id, start minute, end minute, status, owner id)] ordered by end."""
    from django.db import transaction

    from kehu.campaigns.models import Campaign
    from kehu.core.models import DictItem

    channels = dict(DictItem.objects.filter(kind="campaign_channel", active=True).values_list("code", "pk"))
    count = max(CAMPAIGNS_MIN, n // CAMPAIGNS_PER_CUSTOMERS)
    today = now_min // 1440
    rows, seq = [], {}
    for i in range(count):
        # one running now and one ahead, whatever the draw: the company's current campaigns
        start_day = today - 5 if i == 0 else today + 25 if i == 1 else today - rng.randrange(-30, DAYS_BACK)
        length = rng.randrange(1, 61)
        end_day = start_day + length
        entered = min(start_day - rng.randrange(3, 30), today - 1)
        if end_day < today:
            status = "cancelled" if rng.random() < 0.1 else "completed"
        else:
            status = "active" if start_day <= today else "planned"
        english = rng.random() < 0.15
        name, kind, channel = rng.choice(CAMPAIGN_EN_NAMES if english else CAMPAIGN_NAMES)
        city = rng.choice(EN_CITIES)[1] if english else rng.choice(CITIES)[1]
        name = name.format(city=city, season=rng.choice(SEASONS))
        seq[entered] = k = seq.get(entered, 0) + 1
        budget = Decimal(rng.randrange(2, 200) * 1000)
        spent = budget if status == "completed" else ZERO if status == "planned" else \
            (budget * Decimal(rng.randrange(5, 100)) / 100).quantize(Decimal("0.01"))
        owner = rng.choice(organisers)
        created = dt.datetime.combine(EPOCH + dt.timedelta(days=entered), dt.time(2, 0), tzinfo=dt.UTC)
        rows.append(Campaign(
            number=f"HD{(EPOCH + dt.timedelta(days=entered)):%Y%m%d}{k:04d}", name=name, type=kind,
            channel_id=channels.get(channel), status=status, start_date=EPOCH + dt.timedelta(days=start_day),
            end_date=EPOCH + dt.timedelta(days=end_day), budget=budget, actual_cost=spent,
            expected_revenue=budget * rng.randrange(2, 8), description=f"{name}：邀请重点客户参加。",
            owner_id=owner, created_by_id=owner, updated_by_id=owner, created_at=created, updated_at=created))
    with transaction.atomic():
        Campaign.objects.bulk_create(rows)
    out = []
    for c in rows:
        start = (c.start_date - EPOCH).days * 1440 + 60
        end = min((c.end_date - EPOCH).days * 1440 + 600, end_min)
        out.append((c.pk, start, end, c.status, c.owner_id))
    log(f"campaigns: {len(out)}")
    return sorted(out, key=lambda c: c[2])


class Campaigns:
    """A customer's campaign memberships: 0-2 campaigns (0.5 a customer) that were still running or
    ahead when it was created, each joined once (the unique constraint), with the contact the
    invitation went to (mostly the first), added by the customer's owner (the campaign's organiser
    for a pool customer) at a time between its creation and the campaign's end. What members did
    follows the campaign's state: a planned campaign's members are invited, a running or finished
    one's also responded (with the time), converted, declined or unsubscribed."""

    def __init__(self, n, vendor, stamps, end_min, campaigns):
        from django.db import connection

        from kehu.campaigns.models import CampaignMember

        self.rng = random.Random(n * 7919 + 17)  # its own stream: the other data stays as it was
        self.stamps, self.end_min, self.campaigns = stamps, end_min, campaigns
        self.ends = [c[2] for c in campaigns]
        self.member = Table(CampaignMember)
        self.tables = {self.member.name: self.member.cols}
        with connection.cursor() as cur:
            cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {self.member.name}")
            self.next_id = cur.fetchone()[0] + 1

    def customer(self, cid, owner, c_min, first_contact, out) -> None:
        import bisect

        rng = self.rng
        random, randrange = rng.random, rng.randrange
        picks = MEMBER_COUNTS[randrange(len(MEMBER_COUNTS))]
        if not picks:
            return
        low = bisect.bisect_left(self.ends, c_min + 60)  # the campaigns not over when the customer came
        if low >= len(self.campaigns):
            return
        at, table = self.stamps.at, self.member
        for index in {randrange(low, len(self.campaigns)) for _ in range(picks)}:
            pk, start, end, status, organiser = self.campaigns[index]
            # invited from three weeks before the start to its end (a planned campaign's: until now)
            low = min(max(c_min, start - 20 * 1440), self.end_min)
            added = min(randrange(low, max(low, end) + 1), self.end_min)
            r = random()
            if status in ("planned", "cancelled") or added >= end:
                state = "invited" if r < 0.9 else "declined" if r < 0.96 else "unsubscribed"
            else:
                state = ("invited" if r < 0.45 else "responded" if r < 0.7 else "converted" if r < 0.8
                         else "declined" if r < 0.94 else "unsubscribed")
            responded = converted = None
            if state in ("responded", "converted", "declined"):
                responded = min(added + randrange(60, max(120, end - added)), self.end_min)
                if state == "converted":
                    converted = min(responded + randrange(60, 14 * 1440), self.end_min)
            who = owner if owner is not None else organiser
            touched = converted or responded or added
            r = random()
            contact = first_contact if r < 0.75 else first_contact + 1 if r < 0.9 else None
            out[table.name].append(table.row({
                **table.base, "id": self.next_id, "created_at": at(added), "updated_at": at(touched),
                "owner_id": who, "created_by_id": who, "updated_by_id": who, "campaign_id": pk,
                "customer_id": cid, "contact_id": contact, "status": state,
                "responded_at": at(responded) if responded else None,
                "converted_at": at(converted) if converted else None,
                "notes": "现场留资" if random() < 0.05 else ""}))
            self.next_id += 1


class Service:
    """A customer's service history: 0-5 tickets (1.5 on average) with their handling entries (3 a
    customer), SLA due times and breach flags, satisfaction, surveys and the articles that solved
    them; 0-1 feedback records (0.2 a customer), some complaints escalated into one of its tickets.

    Tickets are written as the app writes them: numbers FW + date + a per-day sequence (days before
    today), due times from the SLA policies over the company's business hours (kehu.service.sla,
    computed here with its own Calendar), breach flags as sla.evaluate sets them at the time of the
    load. Old tickets are mostly archived, recent ones spread over every status. The creator (owner)
    is the customer's account manager or a service agent; the handler mostly a service agent, else
    the account manager: so a supervisor sees the tickets of the department's customers and those
    its people created or handle, an agent (scope all) every ticket, a rep its own.

    Open tickets keep their due times out of the breach reminders' look-back (7 days), and assigned
    ones (a handler is warned) out of the coming three days too, as the orders' due dates: a worker
    started for a benchmark must not send thousands of stale SLA reminders at once. So an open ticket
    is either breached for over a week or not yet due. Surveys: one per handled ticket whose contact has an
    e-mail address (not for tickets handled 3-14 days ago, which the app would have followed up by
    a task), answered for the tickets rated "survey", expired after 14 days."""

    def __init__(self, n, vendor, stamps, end_min, now_min, dicts, agents, assigners, articles):
        from django.contrib.contenttypes.models import ContentType
        from django.db import connection

        from kehu.knowledge.models import ArticleLink
        from kehu.service import sla
        from kehu.service.models import Feedback, HandlingEntry, Ticket
        from kehu.surveys.models import Survey

        self.rng = random.Random(n * 104729 + 31)  # its own stream: the other data stays as it was
        self.stamps, self.end_min, self.now_min = stamps, end_min, now_min
        self.agents, self.assigners, self.articles = agents, assigners, articles
        self.types = dicts.get("ticket_type") or [None]
        self.calendar = sla.Calendar.load()
        self.policy = {(t, p): sla.policy_for(t, p) for t in self.types for p in set(TICKET_PRIORITIES)}
        self.epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        self.quiet_from, self.quiet_to = now_min - 8 * 1440 - 60, now_min + 3 * 1440
        self.ticket_ct = ContentType.objects.get_for_model(Ticket).pk
        self.ticket, self.entry, self.feedback, self.survey, self.link = (
            Table(Ticket), Table(HandlingEntry), Table(Feedback), Table(Survey), Table(ArticleLink))
        kinds = (self.ticket, self.entry, self.feedback, self.survey, self.link)
        self.tables = {t.name: t.cols for t in kinds}
        self.ids = {}
        with connection.cursor() as cur:
            for t in kinds:
                cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {t.name}")
                self.ids[t.name] = cur.fetchone()[0] + 1
        self.seq: dict = {}
        self.statuses = dict.fromkeys(("new", "assigned", "handled", "feedback", "archived"), 0)
        self.breached = 0

    def next_id(self, table) -> int:
        pk = self.ids[table.name]
        self.ids[table.name] = pk + 1
        return pk

    def due(self, start_min, minutes) -> int:
        """`minutes` of business time after `start_min` (minutes since the epoch), as sla.Calendar.add."""
        t = self.calendar.add(self.epoch + dt.timedelta(minutes=start_min), minutes)
        return int((t - self.epoch).total_seconds()) // 60

    def status_for(self, age_days) -> str:
        r = self.rng.random()
        if age_days < 3:
            return "new" if r < 0.3 else "assigned" if r < 0.75 else "handled" if r < 0.95 else "feedback"
        if age_days < 30:
            return ("new" if r < 0.02 else "assigned" if r < 0.12 else "handled" if r < 0.47
                    else "feedback" if r < 0.75 else "archived")
        # a few forgotten ones stay open for good (breached): a backlog of 0.2 % of the old tickets
        return ("new" if r < 0.0005 else "assigned" if r < 0.002 else "handled" if r < 0.02
                else "feedback" if r < 0.1 else "archived")

    def customer(self, cid, owner, c_min, first_contact, contacts, chinese, out) -> None:
        rng = self.rng
        random, randrange, choice = rng.random, rng.randrange, rng.choice
        at, end = self.stamps.at, self.end_min
        span = max(1, end - 60 - c_min)
        tickets = []
        for _ in range(choice(TICKET_COUNTS)):
            tickets.append(self.one_ticket(cid, owner, c_min, c_min + randrange(span), first_contact, contacts,
                                           chinese, out))
        for _ in range(choice(FEEDBACK_COUNTS)):
            t = c_min + randrange(span)
            kind = "complaint" if random() < 0.5 else "suggestion" if random() < 0.6 else "praise"
            texts = (FEEDBACK_TEXTS if chinese else FEEDBACK_EN_TEXTS)[kind]
            age = (end - t) // 1440
            status = "resolved" if age > 20 or random() < 0.3 else "in_progress" if random() < 0.5 else "open"
            who = owner if owner is not None and random() < 0.6 else choice(self.agents)
            r = random()
            contact = first_contact if r < 0.7 else first_contact + 1 if r < 0.9 else None
            ticket = None
            if kind == "complaint" and tickets and random() < 0.3:  # escalated: a ticket of its own, once
                pk, created = tickets.pop()
                ticket, t = pk, max(c_min, created - randrange(5, 600))
            done = min(t + randrange(60, 10 * 1440), end)
            table = self.feedback
            self.emit(table, {
                **table.base, "id": self.next_id(table), "created_at": at(t), "updated_at": at(done if status != "open" else t),
                "owner_id": who, "created_by_id": who, "updated_by_id": who,
                "source": choice(("hotline", "hotline", "email", "social", "visit", "survey")), "kind": kind,
                "customer_id": cid, "customer_owner_id": owner, "contact_id": contact, "content": choice(texts),
                "status": status,
                "result": choice(RESULTS if chinese else EN_RESULTS) if status == "resolved" else "",
                "satisfaction": choice(SATISFACTION_PICK) if status == "resolved" and random() < 0.6 else None,
                "ticket_id": ticket}, out)

    def one_ticket(self, cid, owner, c_min, t, first_contact, contacts, chinese, out):
        rng = self.rng
        random, randrange, choice = rng.random, rng.randrange, rng.choice
        at, end, now = self.stamps.at, self.end_min, self.now_min
        type_id, priority = choice(self.types), choice(TICKET_PRIORITIES)
        response_min, resolution_min, remind = self.policy[type_id, priority]
        status = self.status_for((end - t) // 1440)
        open_ = status in ("new", "assigned")
        first_t = t
        while True:  # open tickets: no due time in the reminders' window (see the class)
            response_due, resolution_due = self.due(t, response_min), self.due(t, resolution_min)
            hi = self.now_min if status == "new" else self.quiet_to  # no handler, no warning: only breaches
            if not open_ or not (self.quiet_from < resolution_due <= hi or self.quiet_from < response_due <= hi):
                break
            if t - 10 * 1440 < c_min:  # not before its customer: handled instead
                t, status, open_ = first_t, "handled", False
                response_due, resolution_due = self.due(t, response_min), self.due(t, resolution_min)
                break
            t -= 10 * 1440
        day = self.stamps.local_day(t)
        self.seq[day] = seq = self.seq.get(day, 0) + 1
        number = f"FW{self.stamps.compact[day]}{seq:04d}"
        product, problem = choice(KB_PRODUCTS if chinese else KB_EN_PRODUCTS), choice(
            KB_PROBLEMS if chinese else KB_EN_PROBLEMS)
        summary = f"{product}{problem}" if chinese else f"{product.capitalize()} {problem}"
        request = choice(TICKET_REQUESTS if chinese else TICKET_EN_REQUESTS).format(s=summary)
        creator = owner if owner is not None and random() < 0.5 else choice(self.agents)
        r = random()
        contact = first_contact if r < 0.7 else first_contact + 1 if r < 0.9 else None
        pk = self.next_id(self.ticket)
        row = {**self.ticket.base, "id": pk, "number": number, "type_id": type_id, "priority": priority,
               "channel": choice(CHANNELS), "customer_id": cid, "contact_id": contact, "summary": summary,
               "request": request, "status": status, "owner_id": creator, "customer_owner_id": owner, "created_by_id": creator,
               "updated_by_id": creator, "created_at": at(t),
               "response_due": at(response_due), "resolution_due": at(resolution_due),
               "response_warn_at": at(self.due(t, max(response_min - remind, 0))),
               "resolution_warn_at": at(self.due(t, max(resolution_min - remind, 0)))}
        last = t
        responded = resolved = None
        if status != "new":
            handler = owner if owner is not None and random() < 0.15 else choice(self.agents)
            late = random() < 0.15  # answered after the response time, resolved after the resolution time
            assigned = min(t + randrange(5, 8 * 60) if late else max(t + 1, min(t + randrange(5, 240),
                                                                               response_due - 30)), end)
            row.update(handler_id=handler, assigned_at=at(assigned), assigned_by_id=choice(self.assigners))
            last = assigned
            # most are answered within the response time, some late; entries up to the resolution
            entries = choice(ENTRY_COUNTS[status])
            if entries:
                first = response_due + randrange(10, 600) if late else max(assigned + 1, min(
                    assigned + randrange(5, 180), response_due - 1))
                first = min(first, end)
                resolve_by = resolution_due + randrange(60, 5 * 1440) if late else max(
                    first + 1, resolution_due - randrange(1, max(2, resolution_due - first)))
                resolve_by = min(resolve_by, end)
                times = sorted([first] + [first + randrange(max(1, resolve_by - first)) for _ in range(entries - 1)])
                texts = HANDLING_TEXTS if chinese else HANDLING_EN_TEXTS
                table = self.entry
                for k, when in enumerate(times):
                    self.emit(table, {**table.base, "id": self.next_id(table), "ticket_id": pk,
                                      "description": texts[min(k, len(texts) - 1)] if k else choice(texts),
                                      "minutes": choice((5, 10, 15, 20, 30, 45, 60, 90, 120)), "by_id": handler,
                                      "at": at(when)}, out)
                responded, last = first, times[-1]
                row["responded_at"] = at(first)
                if status not in ("new", "assigned"):
                    resolved = max(last, resolve_by)
                    row.update(resolved_at=at(resolved), handling=texts[-1])
                    last = resolved
            if status in ("feedback", "archived"):
                rated = min(resolved + randrange(60, 3 * 1440), end)
                survey_answer = random() < 0.5
                row.update(result=choice(RESULTS if chinese else EN_RESULTS), satisfaction=choice(SATISFACTION_PICK),
                           satisfaction_at=at(rated), satisfaction_source="survey" if survey_answer else "staff")
                last = rated
                if status == "archived":
                    last = min(rated + randrange(60, 7 * 1440), end)
                    row["archived_at"] = at(last)
            if resolved is not None:
                self.one_survey(pk, number, summary, cid, owner, contact, first_contact, contacts, chinese, resolved,
                                row, out)
                if status in ("feedback", "archived") and random() < 0.1:
                    ids = self.articles.get(product)
                    if ids:
                        table = self.link
                        self.emit(table, {**table.base, "id": self.next_id(table), "article_id": choice(ids),
                                          "content_type_id": self.ticket_ct, "object_id": pk,
                                          "linked_by_id": handler, "linked_at": at(resolved)}, out)
        # the breach flags as sla.evaluate sets them now
        response_breached = responded > response_due if responded is not None else (open_ and now > response_due)
        resolution_breached = resolved > resolution_due if resolved is not None else (open_ and now > resolution_due)
        row.update(response_breached=response_breached, resolution_breached=resolution_breached,
                   breached=response_breached or resolution_breached, updated_at=at(last))
        self.statuses[status] += 1
        self.breached += row["breached"]
        self.emit(self.ticket, row, out)
        return pk, t

    def one_survey(self, pk, number, summary, cid, owner, contact, first_contact, contacts, chinese, resolved, row,
                   out):
        if contact is None or not contacts[contact - first_contact][3]:
            return
        age = (self.now_min - resolved) / 1440
        answered = row.get("satisfaction_source") == "survey"
        if not answered and SURVEY_FOLLOW_UP_DAYS <= age < SURVEY_DAYS:
            return  # the app would have followed it up with a task: none generated
        status = "answered" if answered else "sent" if age < SURVEY_DAYS else "expired"
        at = self.stamps.at
        table = self.survey
        self.emit(table, {
            **table.base, "id": self.next_id(table), "created_at": at(resolved),
            "updated_at": row["satisfaction_at"] if answered else at(resolved),
            "content_type_id": self.ticket_ct, "object_id": pk, "summary": f"{number} {summary}"[:300],
            "customer_id": cid, "contact_id": contact, "email": contacts[contact - first_contact][3],
            "language": "zh-hans" if chinese else "en", "token_id": secrets.token_urlsafe(16),
            "sent_at": at(resolved + 1), "expires_at": at(resolved + SURVEY_DAYS * 1440), "status": status,
            "answered_at": row["satisfaction_at"] if answered else None,
            "rating": row["satisfaction"] if answered else None, "owner_id": owner,
            "customer_owner_id": owner, "created_by_id": row["handler_id"]}, out)

    def emit(self, table, row, out):
        out[table.name].append(table.row(row))


# --- the data set: each customer with everything that hangs off it ------------------------------

DAYS_BACK = 3 * 365
OPP_COUNTS = [0] * 7 + [1] * 8 + [2] * 3 + [3] * 2  # 0-3 opportunities a customer, 1 on average
TASK_COUNTS = [0, 0, 1, 1, 1, 1, 2, 2]  # 0-2 tasks a customer, 1 on average
FOLLOWUPS_MAX = 10  # 0-10 follow-ups a customer, 5 on average
PRIORITIES = ["normal"] * 6 + ["low"] * 2 + ["high"] * 2 + ["urgent"]


class Words:
    """The texts of one language for opportunities, follow-ups and tasks."""

    def __init__(self, chinese):
        if chinese:
            self.sep = ""
            self.opp_titles = [t.format(w=w) for w in INDUSTRY_WORDS for t in (
                "采购 {w} 项目", "{w}设备更新", "年度{w}框架协议", "{w}系统升级", "{w}二期项目", "{w}供应合同")]
            self.products = ["CRM 标准版年费", "CRM 专业版 50 用户", "实施服务", "数据迁移服务", "移动端模块",
                             "精密仪器 A 型", "年度维保服务", "定制开发", "备品备件", "培训服务"]
            self.competitors = ["华信科技", "东方软件", "金桥系统", "瑞丰电子", "博远信息"]
            self.descriptions = ["客户计划年内完成采购。", "需要与现有系统集成。", "预算已获批准。",
                                 "竞争激烈，需要突出服务优势。", "决策人是采购总监。"]
            self.topics = ["电话回访", "需求沟通", "产品演示", "报价跟进", "上门拜访", "合同洽谈", "售后回访",
                           "技术交流", "节日问候", "付款跟进"]
            self.sentences = ["客户对移动端很感兴趣。", "需要和财务确认预算。", "希望下周安排演示。",
                              "对价格有顾虑，需申请折扣。", "已发送报价单，等待回复。", "客户正在比较两家供应商。",
                              "技术负责人参与了讨论，认可方案。", "采购流程预计需要一个月。", "客户反馈上次交付很及时。",
                              "约定月底前再次沟通。"]
            self.feedback = ["满意", "价格偏高", "需要内部讨论", "希望加快交付", "认可方案"]
            self.results = ["达成初步意向", "待报价", "需再次拜访", "已确认需求"]
            self.next_actions = ["发送报价单", "安排演示", "电话确认预算", "上门拜访", "提交方案"]
            self.task_titles = ["整理客户需求", "准备报价单", "回访客户", "更新联系人资料", "准备合同", "安排技术交流",
                                "催收货款"]
            self.notes = ["已完成", "客户已确认", "已发送邮件"]
        else:
            self.sep = " "
            self.opp_titles = ["ERP upgrade", "Annual supply contract", "Warehouse automation", "CRM rollout",
                               "Production line retrofit", "Maintenance contract renewal", "Cloud migration",
                               "Packaging materials order", "Lab instruments purchase", "Fleet telematics pilot",
                               "ERP upgrade, phase 2", "Office network refresh"]
            self.products = ["CRM Standard, annual", "CRM Pro, 50 seats", "Implementation services", "Data migration",
                             "Mobile module", "Annual maintenance", "Custom development", "Spare parts", "Training"]
            self.competitors = ["Acme Corp", "Globex", "Initech", "Umbrella Ltd.", "Stark Systems"]
            self.descriptions = ["They plan to buy this year.", "Must integrate with their current system.",
                                 "The budget is approved.", "Strong competition: stress our service.",
                                 "The decision maker is the purchasing director."]
            self.topics = ["Follow-up call", "Needs review", "Product demo", "Quote follow-up", "On-site visit",
                           "Contract talks", "After-sales check", "Technical meeting", "Payment reminder"]
            self.sentences = ["The customer is interested in the mobile app.", "Budget needs to be confirmed with finance.",
                              "They want a demo next week.", "Price is a concern; a discount may be needed.",
                              "Quote sent, waiting for an answer.", "They are comparing two suppliers.",
                              "The technical lead joined and liked the proposal.", "Purchasing will take about a month.",
                              "They said the last delivery was on time.", "We agreed to talk again before month end."]
            self.feedback = ["Satisfied", "Price too high", "Needs internal discussion", "Wants faster delivery",
                             "Likes the proposal"]
            self.results = ["Initial agreement", "Quote pending", "Another visit needed", "Needs confirmed"]
            self.next_actions = ["Send the quote", "Schedule a demo", "Call to confirm the budget", "Visit on site",
                                 "Submit the proposal"]
            self.task_titles = ["Write up the needs", "Prepare the quote", "Call the customer back",
                                "Update contact details", "Prepare the contract", "Arrange a technical meeting",
                                "Chase the payment"]
            self.notes = ["Done", "Customer confirmed", "E-mail sent"]


class DataSet:
    """Generates customer after customer, each with its 2 contacts and (unless `activities` is off)
    its opportunities with their stage history, follow-ups and tasks, appending the rows to one buffer
    per table. Everything about a customer is generated together, so nothing is looked up later:
    the contact ids are known (2 consecutive a customer), last_activity_at is the latest follow-up,
    a customer with a won opportunity is a won customer with the deal's amount, products and date."""

    def __init__(self, n, rng, owner_ids, vendor, activities, catalog=None, service=None, campaigns=None):
        from django.db import connection
        from django.utils import timezone

        from kehu.activities.models import FollowUp, Task
        from kehu.core.models import DictItem
        from kehu.sales.models import Opportunity, Stage, StageChange

        self.n, self.rng, self.owner_ids, self.activities = n, rng, owner_ids, activities
        self.sqlite = vendor != "postgresql"
        self.pinyin = Pinyin()
        self.dicts = dicts = dict_ids()
        self.won_type = DictItem.objects.filter(kind="customer_type", code="won").values_list("pk", flat=True).first()
        self.types = [pk for pk in dicts.get("customer_type", []) if pk != self.won_type]
        codes = dict(DictItem.objects.filter(kind="customer_type", pk__in=self.types).values_list("code", "pk"))
        self.aged_types = (codes.get("potential"), codes.get("intent"), codes.get("lost"))
        now = timezone.now()
        today = timezone.localdate(now)
        self.base = dt.datetime.combine(today, dt.time(9, 0), tzinfo=dt.UTC)
        # generated records are created before today (local time): the app numbers today's records
        # from its own sequences, so generated numbers never collide with them
        self.end = load_end(now)
        self.end_min = int(self.end.timestamp()) // 60
        self.now_min = int(now.timestamp()) // 60
        # no due time in the reminders' look-back window: a worker started for a benchmark would
        # otherwise send thousands of stale reminders at once
        self.quiet_from, self.quiet_to = self.now_min - 8 * 1440 - 60, self.now_min + 1440
        self.stamps = Stamps(vendor, int(timezone.localtime(now).utcoffset().total_seconds()) // 60)
        self.words = {True: Words(True), False: Words(False)}
        self.seq_by_day: dict = {}
        self.opp_seq_by_day: dict = {}
        self.build_s = dict.fromkeys(("customers", "opportunities", "followups", "tasks", "orders and money", "service",
                                      "campaigns"),
                                     0.0)

        self.tables = {"customers_customer": CUSTOMER_COLS, "customers_contact": CONTACT_COLS}
        self.trade = None
        if catalog:
            self.trade = Trade(n, vendor, self.stamps, self.end_min, self.now_min, dicts, catalog, self.words)
        ids = {}
        with connection.cursor() as cur:
            for table in ("customers_customer", "customers_contact", "sales_opportunity", "sales_stagechange",
                          "activities_followup", "activities_task"):
                cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                ids[table] = cur.fetchone()[0] + 1
        self.start_id, self.start_contact = ids["customers_customer"], ids["customers_contact"]
        if activities:
            self.opp, self.change, self.followup, self.task = (
                Table(Opportunity), Table(StageChange), Table(FollowUp), Table(Task))
            for t in (self.opp, self.change, self.followup, self.task):
                self.tables[t.name] = t.cols
        if self.trade is not None:
            # after the opportunities they name: a flush writes the tables in this order, and on
            # SQLite a child row written before its parent leaves a deferred foreign-key violation
            # open, so that every later parent row scans its (unindexed while loading) child tables
            # for rows it resolves: quadratic (at 1M customers, 20,000 customers in ten minutes, slowing)
            self.tables.update(self.trade.tables)
        self.service = None
        if service is not None:  # service=(agent ids, assigner ids, {product: article ids}); after the contacts
            self.service = Service(n, vendor, self.stamps, self.end_min, self.now_min, dicts, *service)
            self.tables.update(self.service.tables)
        self.campaigns = None
        if campaigns:  # [(id, start, end, status, organiser)] (create_campaigns); after the contacts
            self.campaigns = Campaigns(n, vendor, self.stamps, self.end_min, campaigns)
            self.tables.update(self.campaigns.tables)
        if not activities:
            return
        self.opp_id, self.change_id = ids["sales_opportunity"], ids["sales_stagechange"]
        self.followup_id, self.task_id = ids["activities_followup"], ids["activities_task"]
        stages = [(s.pk, s.probability, "won" if s.is_won else "lost" if s.is_lost else "open")
                  for s in Stage.objects.filter(active=True).order_by("order", "id")]
        self.open_stages = [s for s in stages if s[2] == "open"]
        if not self.open_stages:
            raise SystemExit("no active open sales stage: cannot generate opportunities")
        self.won_stage = next((s for s in stages if s[2] == "won"), None)
        self.lost_stage = next((s for s in stages if s[2] == "lost"), None) if dicts.get("lost_reason") else None
        # early stages hold more opportunities than late ones
        self.open_pick = [s for i, s in enumerate(self.open_stages) for _ in range(len(self.open_stages) - i)]
        # the stages an opportunity may pass through before reaching a stage
        self.before = {s: self.open_stages[:i] for i, s in enumerate(self.open_stages)}
        for s in (self.won_stage, self.lost_stage):
            if s is not None:
                self.before[s] = self.open_stages
        self.statuses = (Task.Status.DONE.value, Task.Status.CANCELLED.value, Task.Status.DOING.value,
                         Task.Status.TODO.value)

    # --- customers and contacts -----------------------------------------------------------------

    def customer_type(self, day_offset: int):
        """A customer's type by its age, as real data has it (a won one is set from its opportunities):
        the newest are mostly prospects (潜在), intent (意向) grows with age, and only customers older
        than a year may be lost (流失). So the newest rows hold few of some types, and a list filtered
        by one of them meets the page that must be read from its index (issue 17)."""
        potential, intent, lost = self.aged_types
        if potential is None or intent is None:
            return self.rng.choice(self.types) if self.types else None
        age = day_offset / DAYS_BACK  # 0: today; 1: the oldest
        r = self.rng.random()
        if lost is not None and age > 1 / 3 and r < 0.3 * (age - 1 / 3):
            return lost
        return potential if r < 0.9 - 0.6 * age else intent

    def customer(self, k, out):
        """Generate customer number `k` (0-based) and what belongs to it into `out` ({table: [row]})."""
        t0 = time.perf_counter()
        rng, pinyin, dicts = self.rng, self.pinyin, self.dicts
        cid = self.start_id + k
        contact_id = first_contact = self.start_contact + 2 * k
        # ids grow with time, like real data: oldest first
        day_offset = DAYS_BACK - (k * DAYS_BACK) // max(self.n, 1)
        created = self.base - dt.timedelta(days=day_offset, seconds=rng.randrange(0, 8 * 3600))
        updated = min(created + dt.timedelta(seconds=rng.randrange(0, 30 * 86400)), self.end)
        day = created.date()
        self.seq_by_day[day] = seq = self.seq_by_day.get(day, 0) + 1
        number = f"KH{day:%Y%m%d}{seq:04d}"
        chinese = rng.random() < 0.75
        if chinese:
            province, city = rng.choice(CITIES)
            name = (city + rng.choice(BRAND_CHARS) + rng.choice(BRAND_CHARS) + rng.choice(INDUSTRY_WORDS)
                    + rng.choice(CN_SUFFIXES))
            country = "中国"
            address = f"{city}市{rng.choice(['中山路', '人民路', '解放路', '建设路', '长江路'])}{rng.randrange(1, 999)}号"
            email = f"info{cid}@{pinyin(name)[1][:6]}.cn" if rng.random() < 0.7 else ""
        else:
            province, city = rng.choice(EN_CITIES)
            name = f"{rng.choice(EN_FIRST)} {rng.choice(EN_SECOND)} {rng.choice(EN_KIND)} {rng.choice(EN_SUFFIXES)}"
            country = EN_COUNTRIES[city]
            address = f"{rng.randrange(1, 300)} {rng.choice(EN_SECOND)} Street"
            email = f"sales{cid}@{name.split()[0].lower()}{name.split()[1].lower()}.com"
        phone = mobile(rng) if rng.random() < 0.8 else ""
        owner = None if rng.random() < 0.10 else rng.choice(self.owner_ids)
        contacts = []
        c_rows = out["customers_contact"]
        for j in range(2):
            if chinese:
                c_name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
                title = rng.choice(TITLES)
                c_email = f"c{contact_id}@{pinyin(c_name)[0]}.cn" if rng.random() < 0.5 else ""
            else:
                c_name = f"{rng.choice(EN_GIVEN)} {rng.choice(EN_FAMILY)}"
                title = rng.choice(EN_TITLES)
                c_email = f"{c_name.split()[0].lower()}.{contact_id}@example.com"
            c_mobile = mobile(rng)
            contacts.append((c_name, c_mobile, "", c_email))
            row = [
                contact_id, created, updated, 1, "{}", None, c_name, rng.choice(["male", "female", ""]), title,
                c_mobile, "", c_email, "", None, j == 0, "", None, None, owner, None, cid,
                contact_search_text(c_name, c_mobile, "", c_email, "", pinyin=pinyin),
            ]
            c_rows.append([sqlite_value(v) for v in row] if self.sqlite else row)
            contact_id += 1
        pick = lambda kind, p=0.9: rng.choice(dicts[kind]) if dicts.get(kind) and rng.random() < p else None  # noqa: E731
        industry, level, region, source = (pick("industry"), pick("customer_level"), pick("region", 0.7),
                                           pick("customer_source"))
        type_id = self.customer_type(day_offset)
        deal_amount, deal_products, signed_on = None, "", None
        last_activity = updated
        self.build_s["customers"] += time.perf_counter() - t0
        if self.activities:
            actor = owner or rng.choice(self.owner_ids)  # who works on an unowned (pool) customer
            c_min = int(created.timestamp()) // 60 + 1
            t1 = time.perf_counter()
            opps, won = self.opportunities(cid, c_min, actor, chinese, source, out)
            t2 = time.perf_counter()
            latest = self.followups(cid, first_contact, contacts, opps, c_min, actor, chinese, out)
            t3 = time.perf_counter()
            self.tasks(cid, c_min, actor, chinese, out)
            t4 = time.perf_counter()
            self.build_s["opportunities"] += t2 - t1
            self.build_s["followups"] += t3 - t2
            self.build_s["tasks"] += t4 - t3
            if won:
                type_id = self.won_type
                deal_amount, deal_products, signed_on = won
            last_activity = self.stamps.at(latest) if latest else created
        figures = [None, None, 0, ZERO, ZERO, ZERO, ZERO]
        if self.trade is not None:
            t6 = time.perf_counter()
            if owner is not None:
                who = owner
            else:  # a pool customer's documents: whoever worked on it
                who = actor if self.activities else self.trade.rng.choice(self.owner_ids)
            figures = self.trade.customer(cid, who, int(created.timestamp()) // 60 + 1, first_contact, name, chinese,
                                          out, [oid for oid, _at in opps] if self.activities else ())
            self.build_s["orders and money"] += time.perf_counter() - t6
        if self.service is not None:
            t7 = time.perf_counter()
            self.service.customer(cid, owner, int(created.timestamp()) // 60 + 1, first_contact, contacts, chinese, out)
            self.build_s["service"] += time.perf_counter() - t7
        if self.campaigns is not None:
            t8 = time.perf_counter()
            self.campaigns.customer(cid, owner, int(created.timestamp()) // 60 + 1, first_contact, out)
            self.build_s["campaigns"] += time.perf_counter() - t8
        t5 = time.perf_counter()
        row = [
            cid, created, updated, 1, "{}", None, number, name, rng.choice("ABC") if rng.random() < 0.6 else "",
            "active" if rng.random() < 0.85 else rng.choice(["dormant", "lost"]), country, province, city, address,
            phone, email, "", rng.randrange(5, 5000) if rng.random() < 0.5 else None,
            rng.randrange(1, 500) * 100000 if rng.random() < 0.3 else None, "",
            (created.date() if rng.random() < 0.5 else None), "", deal_amount, deal_products, signed_on,
            None, (created if owner is None else None),
            build_search_text(pinyin, number, name, phone, email, contacts), name_key(name),
            owner, None, industry, level, None, owner, region, source, type_id, owner, last_activity, None,
            *figures,
        ]
        out["customers_customer"].append([sqlite_value(v) for v in row] if self.sqlite else row)
        self.build_s["customers"] += time.perf_counter() - t5

    # --- opportunities and their stage history -------------------------------------------------

    def opportunities(self, cid, c_min, actor, chinese, source, out):
        """0-3 opportunities of the customer, each with 1-3 stage changes. Returns [(id, created
        minute)] and the last won deal (amount, products, signing date) or None."""
        rng = self.rng
        count = rng.choice(OPP_COUNTS)
        if not count:
            return (), None
        random, randrange, choice = rng.random, rng.randrange, rng.choice
        at, stamps, words = self.stamps.at, self.stamps, self.words[chinese]
        base, make, rows = self.opp.base, self.opp.row, out[self.opp.name]
        c_base, c_make, c_rows = self.change.base, self.change.row, out[self.change.name]
        end = self.end_min
        span = max(1, end - c_min)
        opps, won, won_at = [], None, -1
        for _ in range(count):
            oid = self.opp_id
            self.opp_id += 1
            r = random()
            if r < 0.15 and self.won_stage:
                stage = self.won_stage
            elif r < 0.25 and self.lost_stage:
                stage = self.lost_stage
            else:
                stage = choice(self.open_pick)
            before = self.before[stage]
            extra = min(randrange(3), len(before))
            path = [before[i] for i in sorted(rng.sample(range(len(before)), extra))] if extra else []
            path.append(stage)
            created = t = c_min + randrange(span)
            previous = None
            for i, (stage_id, _p, _k) in enumerate(path):
                if i:
                    t += 1 + randrange(min(45 * 1440, max(1, (end - t) // 2)))
                c_rows.append(c_make({**c_base, "id": self.change_id, "opportunity_id": oid, "from_stage_id": previous,
                                      "to_stage_id": stage_id, "changed_at": at(t), "changed_by_id": actor}))
                self.change_id += 1
                previous = stage_id
            day = stamps.local_day(created)
            self.opp_seq_by_day[day] = seq = self.opp_seq_by_day.get(day, 0) + 1
            created_at = at(created)
            kind = stage[2]
            amount = randrange(5, 5000) * 1000 if kind == "won" or random() < 0.85 else None
            row = {
                **base, "id": oid, "owner_id": actor, "created_at": created_at, "updated_at": at(t),
                "created_by_id": actor, "updated_by_id": actor, "number": f"SJ{stamps.compact[day]}{seq:04d}",
                "customer_id": cid, "title": choice(words.opp_titles), "source_id": source, "stage_id": stage[0],
                "amount": amount, "probability": stage[1], "expected_close": stamps.date(created + 1440 * randrange(14, 180)),
                "assigned_at": created_at, "assigned_by_id": actor,
            }
            if random() < 0.2:
                row["competitors"] = choice(words.competitors)
            if random() < 0.5:
                row["description"] = choice(words.descriptions)
            if kind == "won":
                products = choice(words.products)
                if random() < 0.4:
                    products += ("、" if chinese else ", ") + choice(words.products)
                row.update(closed_at=at(t), deal_products=products, signed_on=stamps.date(t))
                if t > won_at:
                    won, won_at = (amount, products, row["signed_on"]), t
            elif kind == "lost":
                row.update(closed_at=at(t), lost_reason_id=choice(self.dicts["lost_reason"]),
                           won_competitor=choice(words.competitors) if random() < 0.4 else "")
            rows.append(make(row))
            opps.append((oid, created))
        return opps, won

    # --- follow-ups -----------------------------------------------------------------------------

    def followups(self, cid, first_contact, contacts, opps, c_min, actor, chinese, out):
        """0-10 follow-ups between the customer's creation and yesterday, in time order. Returns the
        minute of the latest one, or None."""
        rng = self.rng
        randrange = rng.randrange
        count = randrange(FOLLOWUPS_MAX + 1)
        if not count:
            return None
        random, choice = rng.random, rng.choice
        at, words = self.stamps.at, self.words[chinese]
        base, make, rows = self.followup.base, self.followup.row, out[self.followup.name]
        methods = self.dicts.get("contact_method") or [None]
        span = max(1, self.end_min - 60 - c_min)
        times = sorted([c_min + randrange(span) for _ in range(count)])
        last = count - 1
        for i, t in enumerate(times):
            r = random()
            contact = first_contact if r < 0.6 else first_contact + 1 if r < 0.9 else None
            opportunity = None
            if opps and random() < 0.4:
                newest = -1
                for oid, o_created in opps:  # the newest opportunity open by then
                    if newest < o_created <= t:
                        opportunity, newest = oid, o_created
            content = choice(words.sentences)
            if random() < 0.5:
                content += words.sep + choice(words.sentences)
            row = {
                **base, "id": self.followup_id, "owner_id": actor, "created_by_id": actor, "updated_by_id": actor,
                "customer_id": cid, "contact_id": contact, "opportunity_id": opportunity, "occurred_at": at(t),
                "method_id": choice(methods), "topic": choice(words.topics), "content": content,
            }
            self.followup_id += 1
            row["created_at"] = row["updated_at"] = at(t + randrange(60))
            if contact is not None and random() < 0.2:
                row["participants"] = contacts[contact - first_contact][0]
            if random() < 0.3:
                row["customer_feedback"] = choice(words.feedback)
            if random() < 0.3:
                row["result"] = choice(words.results)
            if random() < (0.4 if i == last else 0.08):
                due = t + 1440 * randrange(1, 15)
                if self.quiet_from < due <= self.quiet_to:
                    due = self.now_min + 1440 * randrange(2, 9)
                row.update(next_action=choice(words.next_actions), next_action_at=at(due), next_action_by_id=actor)
            rows.append(make(row))
        return times[-1]

    # --- tasks ----------------------------------------------------------------------------------

    def tasks(self, cid, c_min, actor, chinese, out):
        """0-2 tasks: most done or cancelled; the open ones were created in the last 90 days and are
        overdue or due in the coming weeks."""
        rng = self.rng
        count = rng.choice(TASK_COUNTS)
        if not count:
            return
        random, randrange, choice = rng.random, rng.randrange, rng.choice
        at, words = self.stamps.at, self.words[chinese]
        base, make, rows = self.task.base, self.task.row, out[self.task.name]
        done, cancelled, doing, todo = self.statuses
        end = self.end_min
        span = max(1, end - c_min)
        for _ in range(count):
            r = random()
            status = done if r < 0.65 else cancelled if r < 0.75 else doing if r < 0.8 else todo
            row = {**base, "id": self.task_id, "owner_id": actor, "created_by_id": actor, "updated_by_id": actor,
                   "title": choice(words.task_titles), "customer_id": cid, "priority": choice(PRIORITIES),
                   "status": status}
            self.task_id += 1
            if status in (done, cancelled):
                created = c_min + randrange(span)
                due = created + randrange(60, 14 * 1440)
                finished = min(created + randrange(60, 14 * 1440), end)
                if status == done:
                    row["completed_at"] = at(finished)
                    if random() < 0.4:
                        row["completion_note"] = choice(words.notes)
            else:
                created = max(c_min, end - randrange(90 * 1440))
                due = created + randrange(1440, 45 * 1440)
                if self.quiet_from < due <= self.quiet_to:
                    due += 10 * 1440
                finished = created
            if random() < 0.3:
                row["description"] = choice(words.sentences)
            row.update(created_at=at(created), updated_at=at(finished), due_at=at(due // 60 * 60))
            rows.append(make(row))


# --- the load ----------------------------------------------------------------------------------

def load(n, rng, owner_ids, activities=True, batch=20_000, catalog=None, service=None, campaigns=None):
    """Generate and load `n` customers (and, with `activities`, their opportunities, stage history,
    follow-ups and tasks; with a `catalog` (create_catalog), their contracts, orders, payment plans,
    payments and invoices; with `campaigns` (create_campaigns), their campaign memberships) in batches
    of `batch` customers. Returns (first id, last id, {table: rows})."""
    from django.db import connection, transaction

    vendor = connection.vendor
    data = DataSet(n, rng, owner_ids, vendor, activities, catalog, service, campaigns)
    tables = data.tables
    t0 = time.time()
    dropped, dropped_fks = [], []
    with connection.cursor() as cur:
        for table in tables:
            for name, sql in secondary_indexes(cur, vendor, table):
                dropped.append((table, name, sql))
                cur.execute(f'DROP INDEX "{name}"')
            if vendor == "postgresql":
                for name, definition in foreign_keys(cur, table):
                    dropped_fks.append((table, name, definition))
                    cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    fks = f" and {len(dropped_fks)} foreign keys" if dropped_fks else ""
    log(f"dropped {len(dropped)} secondary indexes{fks}; loading {n} customers into {len(tables)} tables on {vendor}")
    connection.ensure_connection()
    raw = connection.connection
    if vendor != "postgresql":
        raw.execute("PRAGMA synchronous=OFF")
    buffers: dict[str, list] = {table: [] for table in tables}
    counts = dict.fromkeys(tables, 0)
    write_s = dict.fromkeys(tables, 0.0)

    def flush():
        with transaction.atomic():
            for table, rows in buffers.items():
                t = time.perf_counter()
                bulk_load(raw, vendor, table, tables[table], rows)
                write_s[table] += time.perf_counter() - t
                counts[table] += len(rows)
                rows.clear()

    for k in range(n):
        data.customer(k, buffers)
        if (k + 1) % batch == 0:
            flush()
            if (k + 1) % 100_000 == 0:
                log(f"  {k + 1} customers ({time.time() - t0:.0f} s)")
    flush()
    if vendor != "postgresql":
        raw.execute("PRAGMA synchronous=NORMAL")
    log(f"rows loaded in {time.time() - t0:.1f} s; rebuilding indexes")
    index_s = dict.fromkeys(tables, 0.0)
    with connection.cursor() as cur:
        if vendor == "postgresql":
            cur.execute("SET maintenance_work_mem = '512MB'")
        for table, _name, sql in dropped:
            t = time.perf_counter()
            cur.execute(sql)
            index_s[table] += time.perf_counter() - t
        for table, name, definition in dropped_fks:
            t = time.perf_counter()
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            index_s[table] += time.perf_counter() - t
    log("  generating rows (Python): " + ", ".join(f"{what} {s:.1f} s" for what, s in data.build_s.items() if s)
        + " (customers with their contacts, opportunities with their stage changes, orders with their lines, "
          "contracts, plans, payments and invoices)")
    for table in tables:
        log(f"  {table}: {counts[table]} rows, write {write_s[table]:.1f} s, "
            f"indexes{' and foreign keys' if dropped_fks else ''} {index_s[table]:.1f} s")
    t1 = time.time()
    with connection.cursor() as cur:
        if vendor == "postgresql":
            for table in tables:
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            # VACUUM too: tables loaded in bulk and never vacuumed are picked up by autovacuum's
            # insert threshold, which then ran (throttled, for minutes) during the measurements
            cur.execute("VACUUM (ANALYZE)")
        else:
            cur.execute("ANALYZE")
    log(f"sequences, vacuum and statistics in {time.time() - t1:.1f} s")
    return data.start_id, data.start_id + n - 1, counts


def load_end(now) -> dt.datetime:
    """The last minute a generated record may have: before today's local midnight."""
    from django.utils import timezone

    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return min(midnight, now) - dt.timedelta(minutes=1)


def _minutes_of_load() -> tuple[int, int]:
    """(load_end, now) in minutes since the epoch, as DataSet has them."""
    from django.utils import timezone

    now = timezone.now()
    return int(load_end(now).timestamp()) // 60, int(now.timestamp()) // 60


def busy_customer(supervisor, mid, min_followups=8, scan=5_000):
    """A customer the supervisor sees with at least `min_followups` follow-ups, from the middle of the
    id range up (for the timeline page); None when the first `scan` visible ones have none."""
    from django.db.models import Count

    from kehu.activities.models import FollowUp
    from kehu.customers.models import Customer

    after = mid - 1
    for _ in range(0, scan, 250):
        ids = list(Customer.objects.visible_to(supervisor).filter(pk__gt=after).order_by("pk")
                   .values_list("pk", flat=True)[:250])
        if not ids:
            return None
        counts = dict(FollowUp.objects.filter(customer_id__in=ids).order_by().values("customer_id")
                      .annotate(n=Count("id")).values_list("customer_id", "n"))
        found = next((pk for pk in ids if counts.get(pk, 0) >= min_followups), None)
        if found is not None:
            return found
        after = ids[-1]
    return None


def samples(rng, admin, supervisor, scope_ids, first_id, last_id):
    """Search terms and records the harness asks for, taken from the data just loaded."""
    from django.db.models import Max, Min

    from kehu.customers.models import Contact, Customer
    from kehu.customers.normalize import pinyin_forms
    from kehu.sales.models import Opportunity

    mid = (first_id + last_id) // 2
    cn = Customer.objects.filter(pk__gte=mid, country="中国").exclude(city="").order_by("pk").first()
    city = cn.city if cn else "杭州"
    initials = pinyin_forms(cn.name)[1][:4] if cn else "hzhx"
    with_phone = Customer.objects.filter(pk__gte=mid).exclude(phone="").order_by("pk").first()
    phone = with_phone.phone[3:] if with_phone else "13800000000"  # 11 national digits, as users type them
    contact = Contact.objects.filter(customer_id__gte=mid).order_by("pk").first()
    visible_sup = Customer.objects.visible_to(supervisor).filter(pk__gte=mid).order_by("pk").first()
    span = Opportunity.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    opp = None
    if span["lo"] is not None:
        opp_mid = (span["lo"] + span["hi"]) // 2
        opp = Opportunity.objects.visible_to(supervisor).filter(pk__gte=opp_mid).order_by("pk").first() \
            or Opportunity.objects.visible_to(supervisor).order_by("-pk").first()
    busy = busy_customer(supervisor, mid)
    return {
        "city": city, "initials": initials, "phone": phone,
        "contact_name": contact.name if contact else "王芳",
        "admin_detail_pk": mid, "supervisor_detail_pk": visible_sup.pk if visible_sup else mid,
        "mid_id": mid,
        "opportunity_pk": opp.pk if opp else None,
        "busy_customer_pk": busy or (visible_sup.pk if visible_sup else mid),
    }


def order_samples(admin, supervisor, mid, race_product) -> dict:
    """What the orders-and-money scenarios (run.py) need: for each user a customer it sees with
    at least 3 orders (its page and orders tab; the orders are created for it), goods products to
    order, the product the concurrent shipments race for."""
    from kehu.catalog.models import Product
    from kehu.customers.models import Customer

    out = {"race_product": race_product}
    for label, user in (("admin", admin), ("supervisor", supervisor)):
        visible = Customer.objects.visible_to(user).filter(owner__isnull=False)
        pk = (visible.filter(pk__gte=mid, order_count__gte=3).order_by("pk").values_list("pk", flat=True).first()
              or visible.filter(order_count__gte=1).order_by("-pk").values_list("pk", flat=True).first()
              or visible.order_by("-pk").values_list("pk", flat=True).first())
        out[f"{label}_orders_customer_pk"] = pk
    out["products"] = list(Product.objects.filter(kind="goods", code__startswith="BP0").order_by("pk")
                           .values_list("pk", flat=True)[:10])
    return out


KB_TERMS = [("1 character", "机"), ("2 characters", "卡纸"), ("3+ characters", "指示灯不亮"),
            ("common term", "打印机"), ("English word", "printer"), ("absent", "龘龘龘"), ("absent 2 characters", "龘龘")]


def service_samples(admin, supervisor, agent, agent_key, scope_ids, mid) -> dict:
    """What the service scenarios (run.py) need: the agent's and a rep's logins (a rep: the account
    manager of the supervisor's department who owns most customers), for each role a ticket it sees
    from the middle of the id range that was handled (handling entries, a survey, suggested articles)
    and an open one, the handler the lists filter by, knowledge-base terms (1, 2, 3+ characters, a
    common one, an English word, absent ones, a model number of one article)."""
    from django.db.models import Count, Max, Min

    from kehu.accounts.models import ApiToken, User
    from kehu.customers.models import Customer
    from kehu.knowledge.models import Article
    from kehu.service.models import HandlingEntry, Ticket
    from kehu.surveys.models import Survey

    reps = (Customer.objects.filter(owner_id__in=scope_ids, owner__roles__code="account_manager")
            .values("owner_id").annotate(n=Count("id")).order_by("-n").values_list("owner_id", flat=True))
    rep = User.objects.get(pk=reps[0])
    _t, rep_key = ApiToken.issue(rep, name="bench")
    span = Ticket.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    middle = ((span["lo"] or 0) + (span["hi"] or 0)) // 2
    out = {"agent": {"username": agent.username, "id": agent.pk, "token": agent_key},
           "rep": {"username": rep.username, "id": rep.pk, "token": rep_key}, "mid_ticket": middle}
    for label, user in (("admin", admin), ("supervisor", supervisor), ("agent", agent), ("rep", rep)):
        visible = Ticket.objects.visible_to(user)
        page = None
        for pk in (visible.filter(pk__gte=middle, status__in=("handled", "feedback"), contact__isnull=False)
                   .order_by("pk").values_list("pk", flat=True)[:500]):
            if (HandlingEntry.objects.filter(ticket_id=pk).count() >= 2
                    and Survey.objects.filter(object_id=pk, content_type__model="ticket").exists()):
                page = pk
                break
        page = page or visible.filter(pk__gte=middle).order_by("pk").values_list("pk", flat=True).first() \
            or visible.order_by("-pk").values_list("pk", flat=True).first()
        open_pk = (visible.filter(pk__gte=middle, status="assigned").order_by("pk").values_list("pk", flat=True)
                   .first() or visible.filter(status="assigned").order_by("-pk").values_list("pk", flat=True).first())
        out[f"{label}_ticket_pk"], out[f"{label}_open_ticket_pk"] = page, open_pk
    out["handler_id"] = agent.pk
    model = (Article.objects.filter(status="published", title__regex=r" [A-Z][0-9]{3,4} ").order_by("pk")
             .values_list("title", flat=True)[Article.objects.count() // 2 :][:1])
    terms = list(KB_TERMS)
    if model:
        terms.append(("model number", model[0].split()[1] if " " in model[0] else model[0][:5]))
    out["kb_terms"] = terms
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kehu.bench.generate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--db-url", default=os.environ.get("DATABASE_URL"), help="default: $DATABASE_URL")
    parser.add_argument("--meta", help="write logins, tokens and sample terms here (JSON)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-activities", action="store_true",
                        help="only customers and contacts: no opportunities, stage history, follow-ups or tasks")
    parser.add_argument("--no-orders", action="store_true",
                        help="no products, stock, contracts, orders, payment plans, payments or invoices")
    parser.add_argument("--no-service", action="store_true",
                        help="no service agents, tickets, handling entries, feedback, surveys or knowledge base")
    parser.add_argument("--no-campaigns", action="store_true", help="no campaigns or campaign members")
    opts = parser.parse_args(argv)
    if opts.db_url:
        os.environ["DATABASE_URL"] = opts.db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    import django

    django.setup()
    from kehu.customers.models import Customer

    if Customer.all_objects.exists():
        parser.error("the database already holds customers; generate into a freshly migrated database")
    rng = random.Random(opts.seed)
    t0 = time.time()
    users, admin, supervisor, admin_key, sup_key, scope_ids = create_people(rng)
    owner_ids = [u.pk for u in users]  # before the service agents: they own no customers
    catalog, race_product = ([], None) if opts.no_orders else create_catalog(random.Random(opts.seed + 1), admin)
    service, n_articles = None, 0
    if not opts.no_service:
        srng = random.Random(opts.seed + 2)
        agent_ids, agent, agent_key = create_service_people(srng, admin, admin.department)
        assigners = [u.pk for u in users if u.username.startswith("bench_supervisor")]
        n_articles = article_count(opts.customers)
        articles = create_knowledge(srng, n_articles, agent_ids + assigners)
        service = (agent_ids, assigners, articles)
    campaigns = None
    if not opts.no_campaigns:
        organisers = [admin.pk, supervisor.pk]
        campaigns = create_campaigns(random.Random(opts.seed + 3), opts.customers, organisers,
                                     *_minutes_of_load())
    first_id, last_id, counts = load(opts.customers, rng, owner_ids, activities=not opts.no_activities,
                                     catalog=catalog, service=service, campaigns=campaigns)
    meta = {
        "customers": opts.customers, "contacts": 2 * opts.customers, "users": len(users),
        "opportunities": counts.get("sales_opportunity", 0), "stage_changes": counts.get("sales_stagechange", 0),
        "followups": counts.get("activities_followup", 0), "tasks": counts.get("activities_task", 0),
        "orders": counts.get("orders_order", 0), "order_lines": counts.get("orders_orderline", 0),
        "payments": counts.get("orders_payment", 0), "contracts": counts.get("orders_contract", 0),
        "instalments": counts.get("orders_instalment", 0), "invoices": counts.get("orders_invoice", 0),
        "products": len(catalog), "race_product": race_product,
        "tickets": counts.get("service_ticket", 0), "handling_entries": counts.get("service_handlingentry", 0),
        "feedback": counts.get("service_feedback", 0), "surveys": counts.get("surveys_survey", 0),
        "article_links": counts.get("knowledge_articlelink", 0), "articles": n_articles,
        "campaigns": len(campaigns or ()), "campaign_members": counts.get("campaigns_campaignmember", 0),
        "password": PASSWORD,
        "admin": {"username": admin.username, "id": admin.pk, "token": admin_key},
        "supervisor": {"username": supervisor.username, "id": supervisor.pk, "token": sup_key,
                       "scope_owner_ids": scope_ids},
        "first_id": first_id, "last_id": last_id,
        "samples": samples(rng, admin, supervisor, scope_ids, first_id, last_id),
        "order_samples": None if opts.no_orders else order_samples(admin, supervisor, (first_id + last_id) // 2,
                                                                  race_product),
        "service_samples": None if opts.no_service else service_samples(
            admin, supervisor, agent, agent_key, scope_ids, (first_id + last_id) // 2),
        "seconds": round(time.time() - t0, 1),
    }
    log(f"done in {meta['seconds']} s")
    text = json.dumps(meta, ensure_ascii=False, indent=2)
    if opts.meta:
        with open(opts.meta, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
