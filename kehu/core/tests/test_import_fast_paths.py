"""The import's fast paths give the slow path's answer (issue 15, speed): the coercion of a plain
cell (coerce.text), the compiled clean() of form and model fields and the compiled foreign-key
setter (kehu/core/imports/cleaners.py), each compared with what it replaces on varied good and bad
values: the same cleaned value, or the same error messages and codes."""

import datetime
import random
import re

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation

from kehu.core.imports import cleaners, coerce

_FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20


def text_before(value) -> str:
    """coerce.text as it was before its fast path."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        value = value.date()
    s = str(value).translate(_FULLWIDTH).replace("\u00a0", " ")
    s = re.sub(r"[ \t]+", " ", s).strip()
    if len(s) > 1 and s[0] == "'" and s[1] in "=+-@":
        s = s[1:]
    return s


PIECES = ["a", "Z", "9", "华", "东", " ", "  ", "\t", "\u00a0", "\u3000", "\uff21", "\uff11", "\uff5e", "\uff5f",
          "\uff00", "\n", "\r\n", "\u2003", "'", "=", "+", "-", "@", ".", ",", "\x00", "\u200b"]


def varied_texts(n=3000, seed=15):
    rng = random.Random(seed)
    yield from ["", " ", "'", "'=1", "'=", " '=1", "'a", "\t'=x\t", "ａｂｃ", "１３８１２３４５６７８", "\u3000王伟\u3000"]
    for _i in range(n):
        yield "".join(rng.choice(PIECES) for _j in range(rng.randrange(0, 9)))


def test_text_fast_path_equals_full_path():
    values = [*varied_texts(), None, 12, 12.0, 12.5, True, datetime.date(2026, 1, 5),
              datetime.datetime(2026, 1, 5), datetime.datetime(2026, 1, 5, 8, 30)]
    fast = 0
    for value in values:
        assert coerce.text(value) == text_before(value), repr(value)
        fast += value.__class__ is str and coerce._NOT_PLAIN.search(value) is None
    assert fast > 500  # the fast path was taken, and often


def outcome(call, *args):
    try:
        value = call(*args)
    except ValidationError as e:
        return "error", [(err.code, str(err.message % err.params if err.params else err.message))
                         for err in e.error_list]
    except Exception as e:  # what a field's own clean() lets through (a date field given a number)
        return "exception", type(e), str(e)
    return "value", value, type(value)


EMAILS = ["sales@huadong.cn", "SALES@HUADONG.CN", "a@localhost", "a@[127.0.0.1]", "a@[::1]", "a@[999.1.1.1]",
          "a@-bad.com", "a@b", "a b@c.com", '"quoted"@x.com', '"bad"quote"@x.com', "x@xn--fiqs8s.cn",
          "用户@例子.中国", "user@例子.中国", "a@b..com", "a@.com", "@b.com", "a@", "@", "a@@b.com", "a@b.c",
          "a@b.co", "a.b-c+d@e-f.gh", ".a@b.com", "a.@b.com", "a..b@c.com", "a@b.com.", "a@b_c.com",
          "a@" + "b" * 64 + ".com", "a@" + "b" * 63 + ".com", "x" * 310 + "@b.com", "x" * 330 + "@b.com",
          "a@b.com\n", "a@b.com\x00", "a@1.2.3.4", "a@b.123", "a@b.c0m", "test@[IPv6:::1]"]


def char_values(seed=16):
    rng = random.Random(seed)
    yield from ["", " ", "  ", "\t", "abc", " abc ", "x" * 5, "x" * 6, "x" * 10, "x" * 11, " " + "x" * 10 + " ",
                "a\x00b", "\x00", "华东", None, 0, 5, 5.5, [], ["a"], {}, (), False, True, *EMAILS]
    for _i in range(300):
        yield "".join(rng.choice(PIECES + ["b@c.com", "@", "x.cn"]) for _j in range(rng.randrange(0, 14)))


FORM_FIELDS = [
    forms.CharField(max_length=10),
    forms.CharField(max_length=10, required=False),
    forms.CharField(max_length=10, min_length=3, required=False),
    forms.CharField(required=False, strip=False),
    forms.CharField(strip=False, max_length=10),
    forms.CharField(required=False, empty_value=None, max_length=10),
    forms.CharField(required=False, validators=[lambda v: v != "abc" or (_ for _ in ()).throw(
        ValidationError("not abc", code="abc"))]),
    forms.EmailField(),
    forms.EmailField(required=False, max_length=30),
]


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_form_cleaners_equal_clean(lang):
    with translation.override(lang):
        for field in FORM_FIELDS:
            fast = cleaners.form_cleaner(field)
            assert fast is not None, field
            for value in char_values():
                assert outcome(fast, value) == outcome(field.clean, value), (field, value)


def test_form_cleaner_not_compiled_for_other_fields():
    assert cleaners.form_cleaner(forms.URLField()) is None  # its own to_python
    assert cleaners.form_cleaner(forms.IntegerField()) is None
    odd = forms.CharField(required=False, empty_value="-")  # an empty value validators would see
    assert cleaners.form_cleaner(odd) is None


def standalone_model_fields():
    fields = {
        "name": models.CharField(max_length=10),
        "code": models.CharField(max_length=10, blank=True),
        "grade": models.CharField(max_length=2, blank=True,
                                  choices=[("A", "A"), ("B", "B"), ("G", [("G1", "g1"), ("G2", "g2")])]),
        "email": models.EmailField(blank=True),
        "notes": models.TextField(blank=True),
        "count": models.PositiveIntegerField(null=True, blank=True),
        "size": models.IntegerField(choices=[(1, "one"), (2, "two")], default=1),
        "on": models.DateField(null=True, blank=True),
        "other": models.CharField(max_length=10, null=True),
    }
    for name, f in fields.items():
        f.set_attributes_from_name(name)
    return list(fields.values())


def model_values(seed=17):
    yield from [None, "", " ", "A", "B", "G1", "G3", "Z", 0, 1, 2, 3, -1, 2**40, 5.0, "5", True, False,
                datetime.date(2026, 1, 5), datetime.datetime(2026, 1, 5, 8), "2026-01-05", "2026-13-01",
                "x" * 10, "x" * 11, "a\x00b", *EMAILS]
    rng = random.Random(seed)
    for _i in range(150):
        yield "".join(rng.choice(PIECES + ["b@c.com", "@", "x.cn"]) for _j in range(rng.randrange(0, 14)))


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_model_cleaners_equal_clean(lang):
    from kehu.customers.models import Contact, Customer

    compiled = 0
    real = [f for m in (Customer, Contact) for f in m._meta.concrete_fields if cleaners.model_cleaner(f)]
    assert {"name", "email", "phone", "employees", "first_contact_date", "grade", "status"} <= {f.name for f in real}
    with translation.override(lang):
        for f in [*standalone_model_fields(), *real]:
            fast = cleaners.model_cleaner(f)
            assert fast is not None, f
            instance = f.model() if hasattr(f, "model") else None
            for value in model_values():
                assert outcome(fast, value, instance) == outcome(f.clean, value, instance), (f.name, value)
            compiled += 1
    assert compiled > 20


def test_model_cleaner_not_compiled_for_other_fields():
    from kehu.customers.models import Customer

    for name in ("id", "owner", "industry", "website", "annual_revenue", "created_at"):
        assert cleaners.model_cleaner(Customer._meta.get_field(name)) is None, name


@pytest.mark.django_db
def test_fk_setter_equals_save_form_data(org):
    from kehu.core.models import DictItem
    from kehu.customers.models import Customer

    industry = DictItem.objects.filter(kind="industry").first()
    unsaved = DictItem(kind="industry", label="x")
    f = Customer._meta.get_field("industry")
    owner = Customer._meta.get_field("owner")
    fast, fast_owner = cleaners.fk_setter(Customer, f), cleaners.fk_setter(Customer, owner)
    assert fast is not None and fast_owner is not None

    def state(obj):
        return (obj.__dict__.get("industry_id"), obj.__dict__.get("owner_id"), dict(obj._state.fields_cache),
                obj._state.db, obj._state.adding)

    cases = [[None], [industry], [industry, None], [None, industry], [unsaved], [org.admin], ["3"],
             [industry, industry]]
    for values in cases:
        a, b = Customer(owner=org.manager), Customer(owner=org.manager)
        for value in values:
            ra = outcome_of(lambda: fast(a, value))  # noqa: B023
            rb = outcome_of(lambda: f.save_form_data(b, value))  # noqa: B023
            assert ra == rb, values
        assert state(a) == state(b), values
    for value in [None, org.admin, org.manager]:
        a, b = Customer(), Customer()
        fast_owner(a, value)
        owner.save_form_data(b, value)
        assert state(a) == state(b)


def outcome_of(call):
    try:
        return "value", call()
    except (ValueError, TypeError) as e:
        return "error", str(e)


@pytest.mark.django_db
def test_in_list_queries_equal_the_orm(org):
    """The duplicate queries run from SQL compiled once per list size give Django's rows."""
    from kehu.core.imports.inlists import InListQuery
    from kehu.customers.models import Contact, Customer
    from kehu.customers.services import duplicate_queries

    rng = random.Random(18)
    customers = [Customer.objects.create(name=f"查重{i}公司", phone=f"+8613800{i:06d}", email=f"c{i}@Dup.example.com",
                                         owner=org.manager) for i in range(150)]
    for i, c in enumerate(customers[::3]):
        Contact.objects.create(customer=c, name=f"联系人{i}", mobile=f"+8613900{i:06d}", phone=f"+8613800{i + 500:06d}",
                               email=f"k{i}@dup.example.com")
    customers[5].delete()  # soft-deleted: the manager's condition is in the compiled SQL too
    phones = [f"+8613800{i:06d}" for i in range(700)] + [f"+8613900{i:06d}" for i in range(60)] + [""]
    emails = [f"c{i}@dup.example.com" for i in range(200)] + [f"k{i}@dup.example.com" for i in range(60)]
    names = [f"查重{i}公司" for i in range(300)]
    queries, orm = duplicate_queries(), duplicate_queries()
    compiled = 0
    for kind, pool in [("customer_phone", phones), ("contact_phone", phones), ("customer_email", emails),
                       ("contact_email", emails), ("customer_name", names)]:
        for n in (1, 2, 127, 128, 129, 255, len(pool)):
            values = set(rng.sample(pool, min(n, len(pool))))
            got = queries[kind].rows(values)
            expected = list(orm[kind].build(list(values)))
            assert sorted(got) == sorted(expected), (kind, n)
            assert all(isinstance(row, tuple) for row in got)
            compiled += any(v is not None for v in queries[kind].compiled.values())
        assert expected  # the queries find rows
    assert compiled == 35
    assert queries["customer_phone"].rows([]) == []
    dates = InListQuery(lambda v: Customer.objects.filter(name__in=v).values_list("pk", "created_at"))
    assert sorted(dates.rows(names[:10])) == sorted(Customer.objects.filter(name__in=names[:10]).values_list(
        "pk", "created_at"))
    from django.db import connection

    if connection.vendor == "sqlite":  # SQLite converts a time from its text: through Django
        assert list(dates.compiled.values()) == [None]


def related_state(obj):
    cache = obj._state.fields_cache
    return ({f.attname: obj.__dict__.get(f.attname) for f in obj._meta.concrete_fields if f.is_relation},
            {k: (v.pk if v is not None else None) for k, v in cache.items()})


@pytest.mark.django_db
def test_related_check_equals_prepare_related_fields(org):
    """bulk.related_check: Django's _prepare_related_fields_for_save where it would change something."""
    from kehu.core.imports import bulk
    from kehu.core.models import DictItem
    from kehu.customers.models import Contact, Customer

    industry = DictItem.objects.filter(kind="industry").first()
    customer = Customer.objects.create(name="关联检查", owner=org.manager)

    def cases():
        yield "plain", Customer(name="a", owner=org.manager)
        yield "set", Customer(name="a", owner=org.manager, industry=industry, created_by=org.admin)
        yield "none", Customer(name="a", owner=None, industry=None)
        c = Customer(name="a", owner=org.manager)
        c.industry = DictItem(kind="industry", label="未保存")
        yield "unsaved", c
        unsaved = DictItem(kind="industry", label="后保存")
        c = Customer(name="a", owner=org.manager, industry=unsaved)
        unsaved.pk = industry.pk  # saved since it was set: the id is taken from it
        yield "saved since", c
        c = Customer(name="a", owner=org.manager, industry=industry)
        c.__dict__["industry_id"] = industry.pk + 1000  # another id than the cached object's: cache dropped
        yield "other id", c
        yield "contact", Contact(name="b", customer=customer, owner=org.manager)
        k = Contact(name="b", customer=customer)
        k.__dict__["customer_id"] = None
        yield "contact id dropped", k

    for (label, a), (_label, b) in zip(cases(), cases(), strict=True):
        check = bulk.related_check(type(a))
        assert check is not bulk._prepare_related  # compiled for these models
        ra = outcome_of(lambda: check(a))  # noqa: B023
        rb = outcome_of(lambda: b._prepare_related_fields_for_save(operation_name="bulk_create"))  # noqa: B023
        assert ra == rb, label
        assert related_state(a) == related_state(b), label


def prepared(value):
    return (type(value), value.obj) if hasattr(value, "obj") else (type(value), value)


@pytest.mark.django_db
def test_getters_fast_values_equal_get_db_prep_save():
    import warnings
    import zoneinfo

    from django.db import connection
    from django.utils import timezone

    from kehu.core.imports import bulk
    from kehu.customers.models import Customer

    now = timezone.now()
    times = [now, now.replace(microsecond=0), datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC),
             datetime.datetime(2026, 3, 1, 20, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")),
             datetime.datetime(2026, 3, 1, 20, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
             datetime.datetime(2026, 3, 1, 20), datetime.datetime(1, 1, 1, tzinfo=datetime.UTC), None]
    jsons = [{}, [], {"a": 1}, {"": []}, ["x"], {}, []]
    fields = {"last_activity_at": times, "created_at": times, "custom_fields": jsons}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a naive time: the field warns either way
        for name, values in fields.items():
            f = Customer._meta.get_field(name)
            if name == "last_activity_at":
                assert bulk._fast_prep(f, connection) is not None
            get = bulk._getter(f, connection, now)
            for value in values:
                obj = Customer(name="x")
                obj.__dict__[f.attname] = value
                expected = f.get_db_prep_save(f.pre_save(obj, True), connection)
                obj.__dict__[f.attname] = value
                assert prepared(get(obj)) == prepared(expected), (name, value)


# --- the cells coerced per column (engine.coerce_row with `column_steps`) ------------------------------------

def _coerce_before(f, raw, row, ctx):
    """engine._coerce's dispatch of the plain kinds as it was before the columns' steps."""
    from kehu.core.imports import base, engine

    kind = f.kind
    if kind == base.TEXT:
        return coerce.text(raw)
    if kind == base.LONGTEXT:
        return coerce.long_text(raw)
    if kind == base.PHONE:
        value = coerce.phone(raw)
        return engine._SPLIT.split(value)[0].strip() if value else ""
    if kind == base.EMAIL:
        value = coerce.text(raw)
        found = engine._EMAIL.search(value)
        return found.group(0) if found else value
    if kind == base.NUMBER:
        return coerce.number(raw)
    if kind == base.INTEGER:
        return coerce.integer(raw)
    if kind == base.DATE:
        return coerce.date(raw)
    if kind == base.BOOL:
        return coerce.boolean(raw)
    return engine._coerce(f, raw, row, ctx)  # the other kinds' code is unchanged


def coerce_row_before(row, ctx):
    """engine.coerce_row as it was before the columns' steps (a dispatch per cell)."""
    from django.utils.translation import gettext as _

    from kehu.core.imports import engine

    virtual = {}
    for col, name in ctx.mapping.items():
        raw = row.cells[col] if col < len(row.cells) else None
        column = ctx.column_of[name]
        f = ctx.fields.get(name)
        if f is None:
            if name in ctx.importer.virtual_fields():
                virtual[name] = coerce.text(raw)
            continue
        target = row.child if f.target else row.data
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            row.blank.add(f.form_field)
        try:
            value = _coerce_before(f, raw, row, ctx)
        except ValueError as exc:
            row.error(column, exc)
            continue
        if value is engine._REJECT:
            row.error(column, _("“%(value)s” is not in the list of %(field)s.") % {
                "value": coerce.text(raw), "field": f.label})
            continue
        if value is not engine._SKIP:
            target[f.form_field] = value
    if virtual:
        ctx.importer.apply_virtual(row, virtual)


class _Importer:
    def virtual_fields(self):
        return {"first_name": "name"}

    def apply_virtual(self, row, values):
        row.data["name"] = " ".join(v for v in values.values() if v)


def _column_ctx():
    from types import SimpleNamespace

    from kehu.core.imports import base

    kinds = [base.TEXT, base.LONGTEXT, base.PHONE, base.EMAIL, base.NUMBER, base.INTEGER, base.DATE, base.BOOL,
             base.CHOICE, base.TAGS, base.DATE, base.INTEGER]
    fields = {}
    for i, kind in enumerate(kinds):
        name = f"f{i}"
        fields[name] = base.ImportField(name=name, label=f"Field {i}", kind=kind, form_field=f"ff{i}",
                                        target="contact" if i % 3 == 2 else "",
                                        choices={"a": "A", "b": "B"} if kind == base.CHOICE else {})
    mapping = {i: f"f{i}" for i in range(len(kinds))}
    mapping[len(kinds)] = "first_name"  # a virtual field
    mapping[len(kinds) + 1] = "unknown"  # neither a field nor a virtual one
    mapping[len(kinds) + 5] = "f0"  # a column the rows are too short for (mapped twice: the later wins)
    return SimpleNamespace(mapping=mapping, fields=fields, columns=None, importer=_Importer(),
                           column_of={v: f"Column {k}" for k, v in mapping.items()})


COLUMN_CELLS = [None, "", " ", "\t", "\u3000", "abc", " abc ", "ａｂｃ", "12", " 12 ", "12,345.60", "¥1,234", "1 234,5 €",
                "（1.5）", "(1.5)", "1.5", "-3", "1e3", "1.38123456789E10", "13812345678.0", "138 1234 5678",
                "138-1234-5678/139", "NaN", "inf", "12%", "1.234,56", "2026/1/5", "2026-01-05", "2026年1月5日",
                "05.01.2026", "1/5/2026", "20260105", "2026-13-01", "46027", "46027.5", "99999999", "是", "否", "yes",
                "NO", "maybe", "√", "x", "a", "b", "A, b", "a;c", "sales@huadong.cn", "名 <a@b.cn>", "a@b", "'=1",
                "'+86 138", 12, 12.0, 12.5, -1, 0, True, False, 1.38123456789e10, datetime.date(2026, 1, 5),
                datetime.datetime(2026, 1, 5), datetime.datetime(2026, 1, 5, 8, 30), 46027, 3000000]


def _column_rows(n=1500, seed=17):
    rng = random.Random(seed)
    for line in range(n):
        yield line, [rng.choice(COLUMN_CELLS) for _i in range(rng.randrange(10, 16))]


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_coerce_row_per_column_equals_dispatch(lang):
    """A row's data, child data, blank fields, tags, references and errors (messages in the user's
    language) are the dispatch per cell's, for every kind of a plain column and the others, with
    repeated good and bad cells of the kept kinds (their results kept per column and run)."""
    from kehu.core.imports import engine

    with translation.override(lang):
        fast_ctx, slow_ctx = _column_ctx(), _column_ctx()
        kept_hits = 0
        for line, cells in _column_rows():
            fast, slow = engine.Row(line, list(cells)), engine.Row(line, list(cells))
            if fast_ctx.columns is not None:
                kept_hits += sum(1 for col, *_s, kept in fast_ctx.columns
                                 if kept is not None and col < len(cells) and cells[col].__class__ is str
                                 and cells[col] in kept)
            engine.coerce_row(fast, fast_ctx)
            coerce_row_before(slow, slow_ctx)
            assert (fast.data, fast.child, fast.blank, fast.tags, fast.refs, fast.errors) == \
                   (slow.data, slow.child, slow.blank, slow.tags, slow.refs, slow.errors), cells
        assert kept_hits > 1000  # kept results were used, and often


# --- normalize_email's verdict without the validator's layers ------------------------------------------------

def normalize_email_before(value):
    """kehu.customers.normalize.normalize_email as it was: Django's validate_email on every value."""
    from django.core.validators import validate_email

    value = (value or "").strip()
    if not value:
        return ""
    validate_email(value)
    local, _sep, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def email_values(seed=18):
    rng = random.Random(seed)
    yield from EMAILS
    yield from (e.upper() for e in EMAILS)
    yield from (f" {e}\t" for e in EMAILS)
    yield from [None, "", " ", "x" * 314 + "@b.com", "x" * 315 + "@b.com", "a@b.com", "A@B.COM", "a@localhost", "a@LOCALHOST", "a@[1.2.3.4]", "a@[1.2.3.400]"]
    pieces = ["a", "Z", "9", "华", ".", "-", "_", "+", "@", " ", '"', "[", "]", ":", "1", "com", "cn", "..", "\x00",
              "\n", "xn--", "localhost", "ＡＢ"]
    for _i in range(3000):
        yield "".join(rng.choice(pieces) for _j in range(rng.randrange(0, 10)))


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_normalize_email_equals_validate_email(lang):
    from kehu.customers import normalize

    with translation.override(lang):
        fast = 0
        for _round in range(2):  # the second time from the domains' kept verdicts
            for value in email_values():
                got = outcome(normalize.normalize_email, value)
                assert got == outcome(normalize_email_before, value), repr(value)
                fast += bool(value and value.strip()) and normalize._valid_email(value.strip())
        assert fast > 60  # the fast path was taken, and often

