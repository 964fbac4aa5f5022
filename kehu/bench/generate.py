"""Fill an already-migrated Kehu database with a realistic data set, fast.

    python -m kehu.bench.generate --customers 100000 --db-url postgres://kehu@127.0.0.1:54349/kehu_bench \
        --meta /tmp/bench-meta.json

Customers and contacts go in with bulk SQL (PostgreSQL: COPY through psycopg; SQLite: executemany in
big transactions) after dropping the secondary indexes of the two tables, which are rebuilt at the end.
The few users, departments, role links and API tokens go through the ORM. `search_text` is built exactly
as `Customer.build_search_text` builds it (the pinyin of each distinct name is computed once).

The database must hold no customers yet. The meta file tells the harness the logins, the API tokens,
the supervisor's scope and sample search terms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time

PASSWORD = "Kehu@Bench2026"
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
    "claimed_at", "pool_entered_at", "search_text", "created_by_id", "deleted_by_id", "industry_id",
    "level_id", "merged_into_id", "owner_id", "region_id", "source_id", "type_id", "updated_by_id",
    "last_activity_at", "pool_warned_at",
]
CONTACT_COLS = [
    "id", "created_at", "updated_at", "version", "custom_fields", "deleted_at", "name", "gender", "title",
    "mobile", "phone", "email", "wechat", "birthday", "is_primary", "notes", "created_by_id", "deleted_by_id",
    "owner_id", "updated_by_id", "customer_id",
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


def mobile(rng) -> str:
    return "+861" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


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


# --- customers and contacts (bulk SQL) ----------------------------------------------------------

def dict_ids():
    from kehu.core.models import DictItem

    out: dict[str, list[int]] = {}
    for kind, pk in DictItem.objects.values_list("kind", "pk"):
        out.setdefault(kind, []).append(pk)
    return out


def make_rows(n, start_id, start_contact_id, owner_ids, dicts, rng, pinyin, today):
    """Yield (customer_row, [contact_rows]) tuples, in id order."""
    seq_by_day: dict[dt.date, int] = {}
    contact_id = start_contact_id
    days_back = 3 * 365
    base = dt.datetime.combine(today, dt.time(9, 0), tzinfo=dt.UTC)
    for k in range(n):
        cid = start_id + k
        # ids grow with time, like real data: oldest first
        day_offset = days_back - (k * days_back) // max(n, 1)
        created = base - dt.timedelta(days=day_offset, seconds=rng.randrange(0, 8 * 3600))
        updated = created + dt.timedelta(seconds=rng.randrange(0, 30 * 86400))
        day = created.date()
        seq_by_day[day] = seq = seq_by_day.get(day, 0) + 1
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
        owner = None if rng.random() < 0.10 else rng.choice(owner_ids)
        contacts = []
        c_rows = []
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
            c_rows.append([
                contact_id, created, updated, 1, "{}", None, c_name, rng.choice(["male", "female", ""]), title,
                c_mobile, "", c_email, "", None, j == 0, "", None, None, owner, None, cid,
            ])
            contact_id += 1
        pick = lambda kind, p=0.9: rng.choice(dicts[kind]) if dicts.get(kind) and rng.random() < p else None  # noqa: E731
        row = [
            cid, created, updated, 1, "{}", None, number, name, rng.choice("ABC") if rng.random() < 0.6 else "",
            "active" if rng.random() < 0.85 else rng.choice(["dormant", "lost"]), country, province, city, address,
            phone, email, "", rng.randrange(5, 5000) if rng.random() < 0.5 else None,
            rng.randrange(1, 500) * 100000 if rng.random() < 0.3 else None, "",
            (created.date() if rng.random() < 0.5 else None), "", None, "", None,
            None, (created if owner is None else None),
            build_search_text(pinyin, number, name, phone, email, contacts),
            owner, None, pick("industry"), pick("customer_level"), None, owner, pick("region", 0.7),
            pick("customer_source"), pick("customer_type", 1.0), owner, updated, None,
        ]
        yield row, c_rows


def secondary_indexes(cursor, vendor, table):
    if vendor == "postgresql":
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND i.indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)", [table, table])
    else:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name=%s AND sql IS NOT NULL",
                       [table])
    return cursor.fetchall()


def sqlite_value(v):
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bool):
        return int(v)
    return v


def load(n, rng, owner_ids, batch=20_000):
    from django.db import connection, transaction
    from django.utils import timezone

    from kehu.customers.models import Contact, Customer

    vendor = connection.vendor
    pinyin = Pinyin()
    dicts = dict_ids()
    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM customers_customer")
        start_id = cur.fetchone()[0] + 1
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM customers_contact")
        start_contact = cur.fetchone()[0] + 1
    today = timezone.localdate()
    rows = make_rows(n, start_id, start_contact, owner_ids, dicts, rng, pinyin, today)
    t0 = time.time()
    dropped = []
    with connection.cursor() as cur:
        for table in ("customers_customer", "customers_contact"):
            for name, sql in secondary_indexes(cur, vendor, table):
                dropped.append((name, sql))
                cur.execute(f'DROP INDEX "{name}"')
    log(f"dropped {len(dropped)} secondary indexes; loading {n} customers and {2 * n} contacts on {vendor}")
    done = 0
    if vendor == "postgresql":
        connection.ensure_connection()
        raw = connection.connection
        with transaction.atomic(), raw.cursor() as cur:
            cust_sql = f"COPY customers_customer ({', '.join(CUSTOMER_COLS)}) FROM STDIN"
            cont_sql = f"COPY customers_contact ({', '.join(CONTACT_COLS)}) FROM STDIN"
            contact_buffer = []
            with cur.copy(cust_sql) as copy:
                for row, c_rows in rows:
                    copy.write_row(row)
                    contact_buffer.extend(c_rows)
                    done += 1
                    if done % 100_000 == 0:
                        log(f"  {done} customers ({time.time() - t0:.0f} s)")
            with cur.copy(cont_sql) as copy:
                for c_row in contact_buffer:
                    copy.write_row(c_row)
            del contact_buffer
    else:
        cust_sql = (f"INSERT INTO customers_customer ({', '.join(CUSTOMER_COLS)}) "
                    f"VALUES ({', '.join('?' * len(CUSTOMER_COLS))})")
        cont_sql = (f"INSERT INTO customers_contact ({', '.join(CONTACT_COLS)}) "
                    f"VALUES ({', '.join('?' * len(CONTACT_COLS))})")
        connection.ensure_connection()
        raw = connection.connection
        raw.execute("PRAGMA synchronous=OFF")
        batch_c, batch_k = [], []

        def flush():
            raw.execute("BEGIN")
            raw.executemany(cust_sql, batch_c)
            raw.executemany(cont_sql, batch_k)
            raw.execute("COMMIT")
            batch_c.clear()
            batch_k.clear()

        for row, c_rows in rows:
            batch_c.append([sqlite_value(v) for v in row])
            batch_k.extend([sqlite_value(v) for v in r] for r in c_rows)
            done += 1
            if len(batch_c) >= batch:
                flush()
                if done % 100_000 == 0:
                    log(f"  {done} customers ({time.time() - t0:.0f} s)")
        if batch_c:
            flush()
        raw.execute("PRAGMA synchronous=NORMAL")
    log(f"rows loaded in {time.time() - t0:.1f} s; rebuilding indexes")
    t1 = time.time()
    with connection.cursor() as cur:
        for _name, sql in dropped:
            cur.execute(sql)
    log(f"indexes rebuilt in {time.time() - t1:.1f} s")
    with connection.cursor() as cur:
        if vendor == "postgresql":
            for model in (Customer, Contact):
                table = model._meta.db_table
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            cur.execute("ANALYZE")
        else:
            cur.execute("ANALYZE")
    return start_id, start_id + n - 1


def samples(rng, admin, supervisor, scope_ids, first_id, last_id):
    """Search terms and records the harness asks for, taken from the data just loaded."""
    from kehu.customers.models import Contact, Customer
    from kehu.customers.normalize import pinyin_forms

    mid = (first_id + last_id) // 2
    cn = Customer.objects.filter(pk__gte=mid, country="中国").exclude(city="").order_by("pk").first()
    city = cn.city if cn else "杭州"
    initials = pinyin_forms(cn.name)[1][:4] if cn else "hzhx"
    with_phone = Customer.objects.filter(pk__gte=mid).exclude(phone="").order_by("pk").first()
    phone = with_phone.phone[3:] if with_phone else "13800000000"  # 11 national digits, as users type them
    contact = Contact.objects.filter(customer_id__gte=mid).order_by("pk").first()
    visible_sup = Customer.objects.visible_to(supervisor).filter(pk__gte=mid).order_by("pk").first()
    return {
        "city": city, "initials": initials, "phone": phone,
        "contact_name": contact.name if contact else "王芳",
        "admin_detail_pk": mid, "supervisor_detail_pk": visible_sup.pk if visible_sup else mid,
        "mid_id": mid,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kehu.bench.generate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--db-url", default=os.environ.get("DATABASE_URL"), help="default: $DATABASE_URL")
    parser.add_argument("--meta", help="write logins, tokens and sample terms here (JSON)")
    parser.add_argument("--seed", type=int, default=2026)
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
    owner_ids = [u.pk for u in users]
    first_id, last_id = load(opts.customers, rng, owner_ids)
    meta = {
        "customers": opts.customers, "contacts": 2 * opts.customers, "users": len(users),
        "password": PASSWORD,
        "admin": {"username": admin.username, "id": admin.pk, "token": admin_key},
        "supervisor": {"username": supervisor.username, "id": supervisor.pk, "token": sup_key,
                       "scope_owner_ids": scope_ids},
        "first_id": first_id, "last_id": last_id,
        "samples": samples(rng, admin, supervisor, scope_ids, first_id, last_id),
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
