"""XSS payloads, a seeder that stores them in every user-controlled text, and an HTML checker.

Used by kehu/core/tests/test_xss.py (test client, both databases) and tests/browser/test_xss.py
(real Chromium). Every payload calls `__xss(n)` when it runs; the server-side checker looks for
the marker "xss" in any place where it would be markup rather than text.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.db import models, transaction
from django.utils import timezone

PAYLOADS = [
    "<script>__xss(0)</script>",
    "<img src=x onerror=__xss(1)>",
    "<svg onload=__xss(2)>",
    "<svg><script>__xss(3)</script></svg>",
    '"><script>__xss(4)</script>',
    "'><img src=x onerror=__xss(5)>",
    '" autofocus onfocus="__xss(6)',
    "' autofocus onfocus='__xss(7)",
    '" onmouseover="__xss(8)" x="',
    "</textarea><script>__xss(9)</script>",
    "</title><script>__xss(10)</script>",
    "</script><script>__xss(11)</script>",
    "javascript:__xss(12)",
    '<a href="javascript:__xss(13)">x</a>',
    '<iframe src="javascript:__xss(14)">',
    '<iframe srcdoc="<script>parent.__xss(15)</script>">',
    "<body onload=__xss(16)>",
    "<details open ontoggle=__xss(17)>",
    "<input autofocus onfocus=__xss(18)>",
    "<video><source onerror=__xss(19)>",
    "<audio src=x onerror=__xss(20)>",
    "<marquee onstart=__xss(21)>",
    '<object data="javascript:__xss(22)">',
    '<embed src="javascript:__xss(23)">',
    "<form><button formaction=javascript:__xss(24)>x",
    "<math><a xlink:href=javascript:__xss(25)>x</a></math>",
    '<div hx-on::load="__xss(26)">x</div>',
    '<img src=x hx-on:error="__xss(27)">',
    '<a hx-get=/ hx-trigger=load hx-vals="js:{a:__xss(28)}">',
    "{{ __xss(29) }}",
    "${__xss(30)}{% debug %}",
    "\\u003cscript\\u003e__xss(31)\\u003c/script\\u003e",
    "&lt;script&gt;__xss(32)&lt;/script&gt;",
    "<ScRiPt>__xss(33)</sCrIpT>",
    "<scr<script>ipt>__xss(34)</script>",
    "<img src=x onerror=&#95;_xss(35)>",
    "<img/src/onerror=__xss(36)>",
    "<svg/onload=__xss(37)//",
    "<style onload=__xss(38)></style>",
    '<base href="javascript:__xss(39)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:__xss(40)">',
    '" hx-on::load="__xss(41)',
    "' hx-on::load='__xss(42)",
    "</div><script>__xss(43)</script>",
    '<!--<img src="--><img src=x onerror=__xss(44)//">',
    '<noscript><p title="</noscript><img src=x onerror=__xss(45)>">',
    '"-__xss(46)-"',
    "';__xss(47);//",
    "</script><svg onload=__xss(48)>",
    "<a onfocus=__xss(49) autofocus tabindex=1>x</a>",
    "<select autofocus onfocus=__xss(50)>",
    "%3Cscript%3E__xss(51)%3C/script%3E",
    "<svg><animate onbegin=__xss(52) attributeName=x dur=1s>",
]
# Markdown's own tricks (links, images, raw HTML, entities: kehu/core/markdown.py), each calling alert(1):
# the tests of every Markdown text use them (kehu/core/testing/markdown.py), the seed puts them in articles
MARKDOWN_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    "<img src=\"x\" onerror=\"alert(1)\">",
    "<img/src/onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<button formaction=javascript:alert(1)>x</button>",
    "<details open ontoggle=alert(1)>",
    "<body onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"&#106;avascript:alert(1)\">x</a>",
    "<a href=\"&#x6A;&#x61;vascript:alert(1)\">x</a>",
    "<a href=\"java&#09;script:alert(1)\">x</a>",
    "<a href=\" javascript:alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">x</a>",
    "<a href=\"https://ok.example\" style=\"position:fixed;top:0\">x</a>",
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](javascript&colon;alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click](data:text/html,<script>alert(1)</script>)",
    "[click](vbscript:msgbox(1))",
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    "[x](https://ok.example \"a\\\" onmouseover=\\\"alert(1)\")",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "![alt](javascript:alert(1))",
    "![alt](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![alt\" onerror=\"alert(1)](x.png)",
    "![<script>alert(1)</script>](https://img.example/a.png)",
    "![x](http://insecure.example/a.png)",
    "![x](//evil.example/a.png)",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "    <script>alert(1)</script>",
    "<div>\n<script>alert(1)</script>\n</div>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<link rel=stylesheet href=javascript:alert(1)>",
    "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<textarea><script>alert(1)</script></textarea>",
    "<p style=\"background:url(javascript:alert(1))\">x</p>",
    "<div hx-get=\"/\" hx-trigger=\"load\" hx-on::load=\"alert(1)\">x</div>",
    "<table><td background=\"javascript:alert(1)\">x</td></table>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<a href=\"https://ok.example\" target=\"_blank\">x</a>",
]

MARKER = "_xss("  # every payload calls __xss(n); a bare "xss" also turns up in random CSRF tokens

# Text fields that code relies on (lookups, tree paths, time zones, tokens, numbering): not poisoned.
SKIP_FIELDS = {"password", "path", "time_zone", "calendar_token", "kind", "code", "record_type", "search_text",
               "number", "username"}


def pack(limit: int | None, start: int) -> tuple[str, list[int], int]:
    """As many payloads as fit in `limit` characters, starting at `start` (cyclically)."""
    value, used, i = "", [], start
    for _step in range(len(PAYLOADS)):
        p = PAYLOADS[i % len(PAYLOADS)]
        if limit is None or len(value) + len(p) + 1 <= limit:
            value = f"{value} {p}" if value else p
            used.append(i % len(PAYLOADS))
        elif used:
            break
        i += 1
    return value, used, i % len(PAYLOADS)


@dataclass
class Seeded:
    records: dict = field(default_factory=dict)  # record type key -> [pk]
    stored: set = field(default_factory=set)  # (model.field, payload index)

    def count(self):
        return len(self.stored)

    def fields(self):
        return {f for f, _i in self.stored}


def text_fields(model):
    for f in model._meta.concrete_fields:
        if (isinstance(f, (models.CharField, models.TextField)) and not f.choices and not f.unique
                and not isinstance(f, models.SlugField) and f.name not in SKIP_FIELDS and f.editable):
            yield f


class _Poisoner:
    def __init__(self, seeded: Seeded):
        self.seeded = seeded
        self.cursor: dict[str, int] = {}

    def __call__(self, obj, save=True, **fixed):
        for f in text_fields(type(obj)):
            if f.name in fixed:
                continue
            label = f"{type(obj)._meta.label_lower}.{f.name}"
            value, used, self.cursor[label] = pack(f.max_length, self.cursor.get(label, 0))
            setattr(obj, f.attname, value)
            self.seeded.stored.update((label, i) for i in used)
        for name, value in fixed.items():
            setattr(obj, name, value)
        if save:
            obj.save()
        return obj

    def mark(self, label, value):
        self.seeded.stored.update((label, i) for i, p in enumerate(PAYLOADS) if p in value)


def seed(admin, per_type: int = 10) -> Seeded:
    """Store the payloads in every user-controlled label and text, as records an administrator sees
    (owned by them, due today, recently assigned), and return what was stored where."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.files.base import ContentFile

    from kehu.accounts.models import Department, Role, User
    from kehu.activities.models import FollowUp, Task
    from kehu.core.models import Attachment, CustomField, DictItem, Notification, Tag
    from kehu.core.registry import registry
    from kehu.customers.models import Contact, Customer
    from kehu.sales.models import Opportunity, PlanStep, Stage

    seeded = Seeded()
    poison = _Poisoner(seeded)
    n = len(PAYLOADS)
    now = timezone.now()

    def add(key, obj):
        seeded.records.setdefault(key, []).append(obj.pk)
        return obj

    # administrative labels: one row per payload, so every payload is in every label field
    for i in range(n):
        dict_kind = ["customer_type", "industry", "customer_level", "contact_method"][i % 4]
        add("dictitem", poison(DictItem(kind=dict_kind, code=f"pl{i}", order=100 + i), label=PAYLOADS[i][:100],
                               label_en=PAYLOADS[i][:100]))
        add("department", poison(Department(parent=admin.department), name=PAYLOADS[i][:100]))
        add("role", poison(Role(code=f"pl{i}", rights=["customer.view"]), name=PAYLOADS[i][:60],
                           name_en=PAYLOADS[i][:60]))
        add("stage", poison(Stage(order=200 + i, probability=10), name=PAYLOADS[i][:60], name_en=PAYLOADS[i][:60]))
        if len(PAYLOADS[i]) <= 50:
            Tag.objects.create(name=PAYLOADS[i], color='" onmouseover="__xss(99)'[:20] if i == 0 else "blue")
            seeded.stored.add(("core.tag.name", i))
    for label in ("core.dictitem.label", "core.dictitem.label_en", "accounts.department.name", "accounts.role.name",
                  "accounts.role.name_en", "sales.stage.name", "sales.stage.name_en"):
        seeded.stored.update((label, i) for i in range(n) if len(PAYLOADS[i]) <= 60)
    tags = [p for p in PAYLOADS if len(p) <= 50]
    dept = Department.objects.filter(name=PAYLOADS[0]).first()
    role = Role.objects.filter(code="pl0").first()

    # custom fields of every record type with custom fields: labels, help texts, choice labels
    cf_types = [rt for rt in registry.all() if rt.is_kehu_model]
    for rt in cf_types:
        for i in range(n):
            cf = CustomField(record_type=rt.record_type_name, name=f"p{i}", field_type=CustomField.Type.TEXT,
                             order=100 + i, show_in_list=i < 3)
            add("customfield", poison(cf, label=PAYLOADS[i][:100], label_en=PAYLOADS[i][:100],
                                      help_text=PAYLOADS[i][:200]))
        CustomField.objects.create(record_type=rt.record_type_name, name="pchoice", label="选择", order=99,
                                   field_type=CustomField.Type.CHOICE, choices=PAYLOADS, show_in_list=True)
        CustomField.objects.create(record_type=rt.record_type_name, name="pmulti", label="多选", order=98,
                                   field_type=CustomField.Type.MULTICHOICE, choices=PAYLOADS)
    for label in ("core.customfield.label", "core.customfield.help_text", "core.customfield.choices"):
        seeded.stored.update((label, i) for i in range(n))

    def custom_values():
        values = {f"p{i}": PAYLOADS[i] for i in range(n)}
        values.update(pchoice=PAYLOADS[0], pmulti=PAYLOADS[:5])
        return values

    seeded.stored.update(("custom_fields value", i) for i in range(n))

    def business(key, obj, **fixed):
        poison(obj, custom_fields=custom_values(), **fixed)
        obj.set_tags(tags)
        attachment = Attachment(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk, size=3,
                                uploaded_by=admin, mime_type="text/plain")
        attachment.file.save("a.txt", ContentFile(b"abc"), save=False)
        poison(attachment, file=attachment.file)
        return add(key, obj)

    # users: the administrator too (greeting, actor of every change)
    poison(admin, save=True)
    for _j in range(per_type):
        add("user", poison(User(username=f"pu{_j}", department=dept, time_zone="Asia/Shanghai")))
        User.objects.get(pk=seeded.records["user"][-1]).roles.add(role)
    seeded.records["user"].insert(0, admin.pk)

    first_stage = Stage.objects.filter(is_won=False, is_lost=False).order_by("order").first()
    for j in range(per_type):
        customer = business("customer", Customer(owner=admin, created_by=admin, status="active",
                                                 last_activity_at=now))
        contact = business("contact", Contact(customer=customer, created_by=admin))
        opp = business("opportunity", Opportunity(customer=customer, owner=admin, created_by=admin,
                                                  stage=first_stage, amount=1000 + j), prospect_name="")
        Opportunity.all_objects.filter(pk=opp.pk).update(assigned_at=now)
        business("planstep", PlanStep(opportunity=opp, planned_on=datetime.date.today(), responsible=admin,
                                      order=j + 1, created_by=admin))
        business("followup", FollowUp(customer=customer, contact=contact, owner=admin, created_by=admin,
                                      occurred_at=now - datetime.timedelta(hours=1), next_action_by=admin,
                                      next_action_at=now.replace(hour=23, minute=0, second=0, microsecond=0)))
        business("task", Task(owner=admin, created_by=admin, customer=customer,
                              due_at=now.replace(hour=23, minute=30, second=0, microsecond=0)))
        poison(Notification(user=admin, url=f"/customers/{customer.pk}/"))
    seed_catalog(admin, per_type, add, poison, business)
    seed_orders(admin, per_type, poison, business)
    seed_knowledge(admin, per_type, add, poison, business)
    seed_surveys(admin, per_type, add, poison)
    seed_campaigns(admin, per_type, poison, business)
    poison.seeded_admin = admin
    seed_service_settings(add, poison)
    # a record type of another app (a plugin, the test app): its text fields poisoned the same way,
    # when its other fields may stay empty; otherwise the test asks for it to be added above
    for rt in registry.all():
        if rt.key in seeded.records or not rt.is_kehu_model:
            continue
        required = {}  # its required foreign keys: a record of a type seeded already
        for f in rt.model._meta.concrete_fields:
            if f.is_relation and not f.null and f.name not in ("owner", "created_by"):
                related = registry.for_model(f.related_model)
                if related is not None and seeded.records.get(related.key):
                    required[f.attname] = seeded.records[related.key][0]
        for _j in range(per_type):
            try:
                with transaction.atomic():
                    business(rt.key, rt.model(owner=admin, created_by=admin, **required))
            except Exception:  # a required field this generic seed cannot fill
                seeded.records.pop(rt.key, None)
                break
    return seeded


def seed_catalog(admin, per_type, add, poison, business):
    """Categories, warehouses, products and their stock ledger (kehu/catalog)."""
    from django.apps import apps

    if not apps.is_installed("kehu.catalog"):
        return
    from kehu.catalog.models import Product, ProductCategory, StockMove, Warehouse

    for i, payload in enumerate(PAYLOADS):  # labels: one row per payload, as the administrative labels
        add("productcategory", poison(ProductCategory(order=i), name=payload[:100]))
        add("warehouse", poison(Warehouse(code=f"PLW{i}"), name=payload[:100], name_en=payload[:100]))
        poison.mark("catalog.productcategory.name", payload[:100])
        poison.mark("catalog.warehouse.name", payload[:100])
    for j in range(per_type):
        category = ProductCategory.objects.get(pk=poison.seeded.records["productcategory"][j])
        warehouse = Warehouse.objects.get(pk=poison.seeded.records["warehouse"][j])
        product = business("product", Product(code=f"PL{j}", category=category, created_by=admin,
                                               low_stock_threshold=5))
        business("stockmove", StockMove(product=product, warehouse=warehouse, kind="receipt", quantity=3,
                                        balance_after=3, created_by=admin, document_id=j))
        Product.all_objects.filter(pk=product.pk).update(on_hand=3)


def seed_knowledge(admin, per_type, add, poison, business):
    """Knowledge-base categories and published articles: every payload in the Markdown body too,
    rendered through kehu/core/markdown.py (and the Markdown payloads of kehu/core/testing/markdown.py)."""
    from django.apps import apps

    if not apps.is_installed("kehu.knowledge"):
        return
    from kehu.knowledge.models import Article, ArticleCategory

    for i, payload in enumerate(PAYLOADS):
        add("articlecategory", poison(ArticleCategory(order=i), name=payload[:100]))
        poison.mark("knowledge.articlecategory.name", payload[:100])
    markdown = "\n\n".join(p.replace("alert(1)", "__xss(900)").replace("msgbox(1)", "__xss(901)") for p in MARKDOWN_PAYLOADS)
    for j in range(per_type):
        category = ArticleCategory.objects.get(pk=poison.seeded.records["articlecategory"][j])
        article = business("article", Article(category=category, created_by=admin, status="published"))
        Article.all_objects.filter(pk=article.pk).update(body=article.body + "\n\n" + markdown)


def seed_service_settings(add, poison):
    """The service levels, working hours (the defaults the migration wrote) and holidays with
    poisoned names (kehu/service)."""
    from django.apps import apps

    if not apps.is_installed("kehu.service"):
        return
    from auditlog.context import set_actor

    from kehu.core.models import DictItem
    from kehu.service.models import Holiday, SlaPolicy, WorkingHours

    admin = poison.seeded_admin
    with set_actor(admin):  # the change log names the (poisoned) administrator
        for i, payload in enumerate(PAYLOADS[:10]):  # policies of poisoned ticket types
            kind = poison(DictItem(kind="ticket_type", code=f"plt{i}", order=100 + i), label=payload[:100],
                          label_en=payload[:100])
            add("slapolicy", SlaPolicy.objects.create(ticket_type=kind, priority="", response_minutes=60,
                                                      resolution_minutes=480))
        for day in WorkingHours.objects.order_by("weekday"):  # a change each, by the administrator
            day.ends = datetime.time(17, 30)
            day.save()
            add("workinghours", day)
    for i, payload in enumerate(PAYLOADS):
        add("holiday", poison(Holiday(date=datetime.date(2030, 1, 1) + datetime.timedelta(days=i)), name=payload[:60]))
        poison.mark("service.holiday.name", payload[:60])


def seed_campaigns(admin, per_type, poison, business):
    """Campaigns (kehu/campaigns) with poisoned names and descriptions, and their members (the
    poisoned customers, with poisoned notes)."""
    from django.apps import apps

    if not apps.is_installed("kehu.campaigns") or not poison.seeded.records.get("customer"):
        return
    from kehu.campaigns.models import Campaign, CampaignMember

    today = timezone.localdate()
    customers = poison.seeded.records["customer"]
    for j in range(per_type):
        campaign = business("campaign", Campaign(owner=admin, created_by=admin, start_date=today, end_date=today))
        business("campaignmember", CampaignMember(campaign=campaign, customer_id=customers[j % len(customers)],
                                                  owner=admin, created_by=admin, status="responded"))


def seed_surveys(admin, per_type, add, poison):
    """Satisfaction surveys (read-only: written by kehu.surveys.services) of the poisoned orders, answered,
    with poisoned summaries, comments and addresses."""
    from django.apps import apps

    if not apps.is_installed("kehu.surveys") or not poison.seeded.records.get("order"):
        return
    from django.contrib.contenttypes.models import ContentType

    from kehu.orders.models import Order
    from kehu.surveys.models import Survey

    now = timezone.now()
    ct = ContentType.objects.get_for_model(Order)
    for order in Order.objects.filter(pk__in=poison.seeded.records["order"][:per_type]).select_related("customer"):
        add("survey", poison(Survey(content_type=ct, object_id=order.pk, customer=order.customer,
                                    owner_id=order.customer.owner_id, created_at=now,
                                    expires_at=now + datetime.timedelta(days=14), answered_at=now,
                                    rating=4, created_by=admin),
                             language="zh-hans", status=Survey.Status.ANSWERED, token_id=f"xss{order.pk:013d}"))


def seed_orders(admin, per_type, poison, business):
    """Quotations and orders with poisoned lines (their description, the product's name), a shipment."""
    from django.apps import apps

    if not apps.is_installed("kehu.orders"):
        return
    from kehu.customers.models import Customer
    from kehu.orders.models import Order, OrderLine, Quotation, QuotationLine, Shipment, ShipmentLine

    customers = list(Customer.objects.filter(pk__in=poison.seeded.records["customer"][:per_type]))
    products = poison.seeded.records.get("product", [])
    for j, customer in enumerate(customers):
        quotation = business("quotation", Quotation(customer=customer, owner=admin, created_by=admin))
        contract = seed_contract(admin, customer, j, business)
        order = business("order", Order(customer=customer, owner=admin, created_by=admin, quotation=quotation,
                                        contract=contract))
        product_id = products[j % len(products)] if products else None
        poison(QuotationLine(quotation=quotation, product_id=product_id, quantity=2, unit_price=10))
        line = poison(OrderLine(order=order, product_id=product_id, quantity=2, unit_price=10))
        poison(OrderLine(order=order, quantity=1, unit_price=5))
        if j % 2 and product_id:
            shipment = poison(Shipment(order=order, warehouse_id=poison.seeded.records["warehouse"][0],
                                       created_by=admin))
            ShipmentLine.objects.create(shipment=shipment, order_line=line, quantity=1)
        # payments (a refund too) and invoices with poisoned references, notes, titles, and a plan
        from decimal import Decimal

        from kehu.orders.models import Instalment, Invoice, Payment

        business("payment", Payment(customer=customer, order=order, amount=Decimal("5.00"), created_by=admin))
        if j % 2:
            business("payment", Payment(customer=customer, order=order, amount=Decimal("-1.00"), kind="refund",
                                        created_by=admin))
        business("invoice", Invoice(customer=customer, order=order, amount=Decimal("5.00"), created_by=admin))
        poison(Instalment(order=order, due_on=datetime.date.today(), amount=Decimal("5.00")))


def seed_contract(admin, customer, j, business):
    """A contract in force ending soon (the expiry panel, the progress bars), every other one renewed
    by a poisoned draft (the renewal links)."""
    import datetime

    from django.utils import timezone

    from kehu.orders.models import Contract

    today = timezone.localdate()
    contract = business("contract", Contract(customer=customer, owner=admin, created_by=admin, status="active",
                                             signed_on=today, starts_on=today - datetime.timedelta(days=300),
                                             ends_on=today + datetime.timedelta(days=10), amount=1000))
    if j % 2:
        business("contract", Contract(customer=customer, owner=admin, created_by=admin, previous=contract,
                                      starts_on=today, ends_on=today + datetime.timedelta(days=365), amount=1000))
    return contract


# --- the checker -----------------------------------------------------------------------------
INERT_ATTRS = {"value", "title", "placeholder", "aria-label", "alt", "label", "data-query", "data-value", "class"}
URL_ATTRS = {"href", "src", "action", "formaction", "hx-get", "hx-post", "data", "xlink:href", "poster"}
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")


class _Checker(HTMLParser):
    def __init__(self, allowed_handlers):
        super().__init__(convert_charrefs=True)
        self.allowed_handlers = allowed_handlers
        self.problems: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            low = "".join(value.split()).lower()
            if MARKER in name:
                self.problems.append(f"<{tag}> has an attribute made by a payload: {name}={value!r}")
            elif name.startswith("on") and (tag, name, value) not in self.allowed_handlers:
                self.problems.append(f"<{tag}> has an event handler: {name}={value!r}")
            elif name in URL_ATTRS and low.startswith(BAD_SCHEMES):
                self.problems.append(f"<{tag}> has a script URL: {name}={value!r}")
            elif MARKER in value and name not in INERT_ATTRS:
                relative_url = name in URL_ATTRS and value.startswith(("?", "/")) and "<" not in value
                if not relative_url:
                    self.problems.append(f"<{tag}> carries payload text in {name}={value!r}")
        if tag == "script":
            a = dict(attrs)
            if a.get("type") != "application/json" and not (a.get("src") or "").startswith("/static/"):
                self.problems.append(f"inline or foreign <script {attrs}>")
            self.in_script = True
        if tag in ("iframe", "object", "embed", "base", "frame", "frameset", "applet"):
            self.problems.append(f"<{tag} {attrs}> in the page")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self.in_script = False

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script and MARKER in data:
            self.problems.append(f"payload inside a <script>: {data[:80]!r}")


# the app's own inline handlers (short, constant, and no user text)
ALLOWED_HANDLERS = {
    ("button", "onclick", "document.querySelectorAll('.more-filter').forEach(e=>e.classList.toggle('d-none'))"),
    ("button", "onclick", "document.getElementById('board-dialog').innerHTML=''"),
    ("input", "onchange", "event.stopPropagation()"),
    ("input", "onclick", "this.select()"),
}
RAW_CHARS = set("<>\"'&")


def problems(html: str) -> list[str]:
    """What in `html` a payload made into markup. Empty when every payload stayed text."""
    checker = _Checker(ALLOWED_HANDLERS)
    checker.feed(html)
    checker.close()
    found = list(checker.problems)
    for i, p in enumerate(PAYLOADS):
        if RAW_CHARS & set(p) and p in html:
            found.append(f"payload {i} appears unescaped: {p!r}")
    return found
