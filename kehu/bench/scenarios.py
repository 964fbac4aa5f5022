"""The benchmark's scenarios, generated from the record types' declarations (issue 17, point 5).

    python -m kehu.bench.scenarios --meta meta.json --out scenarios.json

Run with Django loaded against the generated database (DATABASE_URL): it reads the registry and
the data, and writes what the harness (kehu.bench.run, which does not load Django) requests.
Nobody writes a scenario for a new filter or sort: every record type's list is measured

- for each role (admin: all data; supervisor: a department; rep: own records) that may see it,
  in the API and in the HTML list;
- with each declared filter alone (values taken from the data the role sees; a pair of
  `*_after`/`*_before` filters is one range of one month), and each filter combined with the
  one-month creation range (API); a dictionary, relation or choice filter also with the value its
  newest rows hold least ("rare among the newest": the page its index must serve);
- with each declared sort, ascending and descending, at the first page and at a cursor 100,000
  rows deep (or half of what the role sees, when that is less);
- with every search term class: old and new number prefixes, one and two characters, no match, a
  common term, a name, pinyin initials, a phone number and a 4-digit fragment, an e-mail domain;

plus the landing pages of each role (home and each of its panels, board, forecast, public pool,
tasks, the calendar feed), the header search and lookup, the duplicate check, edits and creates.
Each scenario carries its budget (issue 17) so the report can say PASS or FAIL.
"""

from __future__ import annotations

import argparse
import json
import os
from urllib.parse import urlencode

# Budgets, p95 in ms (issue 17)
BUDGET_API = 20
BUDGET_API_SHORT = 50  # search terms under 3 characters, and terms that match nothing
BUDGET_HTML = 50
BUDGET_LANDING = 150  # home, board, forecast, pool
BUDGET_CALENDAR = 100
BUDGET_WRITE = 30  # customer edit, follow-up create
BUDGET_DUPLICATES = 20

DEEP = 100_000
MONTH = ("2024-03-01", "2024-03-31")
SMALL_TYPES_ROLES = ("admin",)  # settings lists (users, roles, dictionary...): the admin's screens


def search_terms(meta) -> list[tuple[str, str, int]]:
    """(term class, term, API budget): every class the issue names, from the generated data."""
    from kehu.customers.models import Customer

    s = meta["samples"]
    old = Customer.objects.order_by("pk").values_list("number", flat=True).first() or "KH2024050001"
    new = Customer.objects.order_by("-pk").values_list("number", flat=True).first() or "KH2026120001"
    email = (Customer.objects.filter(pk__gte=s["mid_id"]).exclude(email="").order_by("pk")
             .values_list("email", flat=True).first() or "a@example.com")
    return [
        ("number prefix old", old[:8], BUDGET_API),
        ("number prefix new", new[:8], BUDGET_API),
        ("number full", new, BUDGET_API),
        ("1 character", "北", BUDGET_API_SHORT),
        ("2 characters", "公司", BUDGET_API_SHORT),
        ("2 letters", "zh", BUDGET_API_SHORT),
        ("no match", "龘", BUDGET_API_SHORT),
        ("no match long", "龘龘龘龘", BUDGET_API_SHORT),
        ("common term", s["city"], _budget(s["city"])),
        ("pinyin initials", s["initials"], _budget(s["initials"])),
        ("phone", s["phone"], BUDGET_API),
        ("phone fragment 4 digits", s["phone"][-4:], BUDGET_API),
        ("contact name", s["contact_name"], _budget(s["contact_name"])),
        ("e-mail domain", email.split("@", 1)[1], BUDGET_API),
    ]


def _budget(term: str) -> int:
    """The API budget of a sampled search term: the issue's "terms under 3 characters ≤ 50 ms" by
    its length (a city such as 重庆 or a two-character name is one), else 20 ms."""
    return BUDGET_API_SHORT if len(term) < 3 else BUDGET_API


def _field_value(rt, name, field, user, tag):
    """Values of one filter's form field that the role would pick: from records it sees."""
    from django import forms

    if name == "tag":
        return [tag] if tag else []
    if isinstance(field, forms.NullBooleanField | forms.BooleanField):
        return ["true", "false"] if isinstance(field, forms.NullBooleanField) else ["true"]
    if isinstance(field, forms.ModelMultipleChoiceField | forms.ModelChoiceField):
        model_field = next((f for f in rt.model._meta.fields if f.name == name), None)
        if model_field is not None and model_field.is_relation:
            value = (rt.visible(user).filter(**{f"{name}__isnull": False}).order_by("-pk")
                     .values_list(name, flat=True).first())
            if value is not None:
                return [str(value)] + _rare_among_newest(rt, user, name, field.queryset.values_list("pk", flat=True))
        obj = field.queryset.order_by("pk").first()
        return [str(obj.pk)] if obj is not None else []
    if isinstance(field, forms.ChoiceField):
        values = [str(v) for v, _label in field.choices if v not in ("", None)]
        model_field = next((f for f in rt.model._meta.fields if f.name == name), None)
        if model_field is not None and values:  # a dictionary filter is a choice of its items' ids
            return values[:1] + [v for v in _rare_among_newest(rt, user, name, values) if v != values[0]]
        return values[:1]
    if isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
        return ["30"]
    if isinstance(field, forms.CharField):
        model_field = next((f for f in rt.model._meta.fields if f.name == name), None)
        if model_field is not None:
            value = (rt.visible(user).exclude(**{name: ""}).order_by("-pk").values_list(name, flat=True).first())
            if value:
                return [str(value)]
        return ["北京"]
    return []


RARE = "rare among the newest"
NEWEST = 1000  # how many of the newest records the role sees are counted


def _rare_among_newest(rt, user, name, choices) -> list[str]:
    """The value of a filter that the role's newest records hold least, when it is held at all and
    by under 1 % of them: real data is skewed by age (the newest customers are prospects, lost
    customers are old ones), and the first page of such a filter must be read from its index,
    not by walking the newest rows until 50 match (issue 17)."""
    from collections import Counter

    newest = Counter(rt.visible(user).order_by("-pk").values_list(name, flat=True)[:NEWEST])
    held = {str(v) for v in rt.visible(user).order_by().values_list(name, flat=True).distinct()[:200]
            if v not in (None, "")}
    candidates = [str(c) for c in choices if str(c) in held]
    if not candidates:
        return []
    counts = {str(k): n for k, n in newest.items()}
    rare = min(candidates, key=lambda c: (counts.get(c, 0), c))
    return [rare] if counts.get(rare, 0) < NEWEST // 100 else []


def filter_cases(rt, user, tag) -> list[tuple[str, dict]]:
    """(label, params) for each declared filter; date pairs as a one-month range."""
    from django import forms

    fs = rt.filterset(None, queryset=rt.visible(user), user=user)
    fields = fs.form.fields
    cases, done = [], set()
    for name, field in fields.items():
        if name == "q" or name in done:
            continue
        if isinstance(field, forms.DateField):
            base = name.rsplit("_", 1)[0]
            after, before = f"{base}_after", f"{base}_before"
            if after in fields and before in fields:
                done |= {after, before}
                cases.append((f"filter {base} one month", {after: MONTH[0], before: MONTH[1]}))
            else:
                cases.append((f"filter {name}={MONTH[0]}", {name: MONTH[0]}))
            continue
        for i, value in enumerate(_field_value(rt, name, field, user, tag)):
            rare = i > 0 and not isinstance(field, forms.BooleanField | forms.NullBooleanField)
            cases.append((f"filter {name}={value}" + (f" ({RARE})" if rare else ""), {name: value}))
    return cases


def deep_cursor(rt, user, sort: str) -> tuple[str, int] | None:
    """A `next` cursor DEEP rows into the role's list in `sort` order (or half-way)."""
    from kehu.core.filters import list_queryset
    from kehu.core.pagination import encode_cursor

    field = sort.lstrip("-")
    _fs, qs = list_queryset(rt, user, {})
    if field != "id" and rt.model._meta.get_field(field).null:
        qs = qs.filter(**{f"{field}__isnull": False})
    order = [sort, "-id" if sort.startswith("-") else "id"]
    depth = DEEP
    row = qs.order_by(*order).values_list(field if field != "id" else "pk", "pk")[depth:depth + 1]
    row = list(row)
    if not row:
        total = qs.count()
        if total < 4:
            return None
        depth = total // 2
        row = list(qs.order_by(*order).values_list(field if field != "id" else "pk", "pk")[depth:depth + 1])
        if not row:
            return None
    value, pk = row[0]
    return encode_cursor(sort, value, pk, "next"), depth


def list_scenarios(role, user, meta, tag, terms) -> list[dict]:
    from django.urls import reverse

    from kehu.core.registry import registry

    out = []
    for rt in registry.all():
        if rt.filterset is None or not user.has_right(rt.module, "view"):
            continue
        small = not rt.is_kehu_model
        if small and role not in SMALL_TYPES_ROLES:
            continue
        api = f"/api/v1/{rt.api_prefix}/"
        html = reverse(rt.url_name("list"))
        group = f"list {rt.key}"

        def add(label, params, budget_api=BUDGET_API, html_too=True, rt=rt, api=api, html=html, group=group):
            query = ("?" + urlencode(params)) if params else ""
            out.append({"name": f"{rt.key}: api {label}", "role": role, "client": "api", "path": api + query,
                        "budget_ms": budget_api, "group": group})
            if html_too:
                out.append({"name": f"{rt.key}: html {label}", "role": role, "client": "html",
                            "path": html + query, "budget_ms": BUDGET_HTML, "group": group})

        add("first page", {})
        cases = filter_cases(rt, user, tag)
        for label, params in cases:
            add(label, params)
        created = next((p for label, p in cases if label == "filter created one month"), None)
        if created:
            for label, params in cases:
                if params is not created and RARE not in label:
                    add(f"{label} + created one month", {**params, **created}, html_too=False)
        fs_fields = rt.filterset.base_filters
        if "q" in fs_fields:
            for label, term, budget in terms:
                add(f"search {label} ({term})", {"q": term}, budget_api=budget)
        for name in rt.sort_fields:
            for sort in (name, f"-{name}"):
                add(f"sort {sort} first page", {"sort": sort})
                deep = deep_cursor(rt, user, sort)
                if deep:
                    cursor, depth = deep
                    add(f"sort {sort} cursor {depth:,} rows deep", {"sort": sort, "cursor": cursor})
    return out


def page_scenarios(role, user, meta, terms) -> list[dict]:
    """Landing pages, detail pages, the header search, the duplicate check, edits, creates."""
    from kehu.activities.models import FollowUp
    from kehu.customers.models import Customer
    from kehu.sales.models import Opportunity

    out = []

    def page(name, path, budget, client="html", group="pages", **extra):
        out.append({"name": name, "role": role, "client": client, "path": path, "budget_ms": budget,
                    "group": group, **extra})

    page("home (page shell)", "/", BUDGET_LANDING, group="landing")
    from kehu.core.registries import home_panels

    for panel in home_panels:
        # a panel the role has no right to answers 404: the harness reports it as not shown
        page(f"home panel {panel}", f"/?panel={panel}", BUDGET_LANDING, group="landing", optional=True)
    if user.has_right("opportunity", "view"):
        page("opportunity board", "/opportunities/board/", BUDGET_LANDING, group="landing")
        page("opportunity forecast", "/opportunities/forecast/", BUDGET_LANDING, group="landing")
    if user.has_right("customer", "view"):
        page("public pool (html)", "/customers/?pool=true", BUDGET_LANDING, group="landing")
        page("public pool (api)", "/api/v1/customers/?pool=true", BUDGET_API, client="api", group="landing")
        page("customers not followed up for 30 days", "/customers/?idle_days=30", BUDGET_HTML, group="landing")
    if user.has_right("task", "view"):
        page("my tasks", "/tasks/?mine=true", BUDGET_HTML, group="landing")
        page("overdue tasks by due date", "/tasks/?overdue=true&sort=due_at", BUDGET_HTML, group="landing")
    page("calendar feed", f"/calendar/{user.calendar_token}.ics", BUDGET_CALENDAR, client="anon",
         group="landing")
    page("calendar feed, unchanged (If-None-Match)", f"/calendar/{user.calendar_token}.ics", BUDGET_CALENDAR,
         client="anon", group="landing", conditional=True)

    visible = Customer.objects.visible_to(user).filter(owner__isnull=False)
    mid = meta["samples"]["mid_id"]
    customer = visible.filter(pk__gte=mid).order_by("pk").first() or visible.order_by("-pk").first()
    busy = meta["samples"].get("busy_customer_pk") if role != "rep" else None
    if busy and not Customer.objects.visible_to(user).filter(pk=busy).exists():
        busy = None
    shown = busy or (customer.pk if customer else None)
    if shown:
        page("customer page", f"/customers/{shown}/", BUDGET_HTML)
        page("customer timeline", f"/customers/{shown}/timeline/", BUDGET_HTML)
        page("customer history", f"/customers/{shown}/history/", BUDGET_HTML, optional=True)
        page("api customer detail", f"/api/v1/customers/{shown}", BUDGET_API, client="api")
    opp = Opportunity.objects.visible_to(user).order_by("-pk").first()
    if opp:
        page("opportunity page", f"/opportunities/{opp.pk}/", BUDGET_HTML)
    for label, term, _budget in terms:
        page(f"header search {label} ({term})", "/search/?" + urlencode({"q": term}), BUDGET_HTML, group="search")
        page(f"customer lookup {label} ({term})", "/customers/lookup/?" + urlencode({"q": term}), BUDGET_HTML,
             group="search")

    # the duplicate check: a name, a phone and an e-mail that exist
    sample = Customer.objects.filter(pk__gte=mid).exclude(phone="").exclude(email="").order_by("pk").first()
    if sample:
        q = urlencode({"name": sample.name, "phone": sample.phone, "email": sample.email})
        page("duplicate check name + phone + e-mail (api)", f"/api/v1/customers/duplicates?{q}", BUDGET_DUPLICATES,
             client="api", group="writes")
        page("duplicate check name + phone + e-mail (html)", f"/customers/duplicates/?{q}", BUDGET_HTML,
             group="writes")
    if customer:
        page("api customer edit (notes)", f"/api/v1/customers/{customer.pk}", BUDGET_WRITE, client="api",
             group="writes", method="PATCH", json={"notes": "bench {uniq}"})
        method = FollowUp.objects.exclude(method__isnull=True).values_list("method_id", flat=True).first()
        body = {"customer": customer.pk, "topic": "bench {uniq}", "content": "bench"}
        if method:
            body["method"] = method
        page("api follow-up create", "/api/v1/followups/", BUDGET_WRITE, client="api", group="writes",
             method="POST", json=body)
    page("api customer create", "/api/v1/customers/", None, client="api", group="writes", method="POST",
         json={"name": "{name}", "status": "active"})
    return out


def rep_user(meta):
    """A rep (account manager, own scope) of the supervisor's department with customers."""
    from django.db.models import Count

    from kehu.accounts.models import User
    from kehu.customers.models import Customer

    ids = [i for i in meta["supervisor"]["scope_owner_ids"] if i != meta["supervisor"]["id"]]
    top = (Customer.objects.filter(owner_id__in=ids[:20]).order_by().values("owner_id")
           .annotate(n=Count("id")).order_by("-n").first())
    return User.objects.get(pk=top["owner_id"] if top else ids[0])


def build(meta) -> dict:
    import secrets

    from kehu.accounts.models import ApiToken, User
    from kehu.core.models import Tag

    users = {"admin": User.objects.get(pk=meta["admin"]["id"]),
             "supervisor": User.objects.get(pk=meta["supervisor"]["id"]),
             "rep": rep_user(meta)}
    tokens = {"admin": meta["admin"]["token"], "supervisor": meta["supervisor"]["token"]}
    _t, tokens["rep"] = ApiToken.issue(users["rep"], name="bench")
    for user in users.values():
        if not user.calendar_token:
            user.calendar_token = secrets.token_urlsafe(32)
            User.objects.filter(pk=user.pk).update(calendar_token=user.calendar_token)
    tag = Tag.objects.order_by("pk").values_list("name", flat=True).first()
    terms = search_terms(meta)
    from kehu.customers.models import Customer

    scenarios, customer_ids = [], {}
    for role, user in users.items():
        user = User.objects.get(pk=user.pk)  # fresh access (rights, scope)
        scenarios += page_scenarios(role, user, meta, terms)
        scenarios += list_scenarios(role, user, meta, tag, terms)
        # customers the mixed load reads and edits: spread, so that writers rarely meet on a row
        customer_ids[role] = list(Customer.objects.visible_to(user).filter(
            owner__isnull=False, pk__gte=meta["samples"]["mid_id"]).order_by("pk").values_list("pk", flat=True)[:60])
    return {
        "users": {role: {"username": u.username, "id": u.pk, "token": tokens[role]} for role, u in users.items()},
        "password": meta["password"],
        "scenarios": scenarios,
        "customer_ids": customer_ids,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kehu.bench.scenarios", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meta", required=True)
    parser.add_argument("--out", required=True)
    opts = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    import django

    django.setup()
    with open(opts.meta, encoding="utf-8") as fh:
        meta = json.load(fh)
    result = build(meta)
    with open(opts.out, "w", encoding="utf-8") as fh:
        json.dump(result, fh, ensure_ascii=False, indent=1)
    print(f"{len(result['scenarios'])} scenarios")


if __name__ == "__main__":
    main()
