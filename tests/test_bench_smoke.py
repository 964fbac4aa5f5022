"""Smoke test of the benchmark suite (issue 4) at BENCH_SCALE=small: no timing assertion, only that
it runs end to end.

Always on its own SQLite file, whatever DATABASE_URL the suite runs with.
"""

import json
import re

import pytest

from kehu.bench import SCALES, run

CUSTOMERS = SCALES["small"]  # BENCH_SCALE=small: 10,000 customers and everything that hangs off them


@pytest.mark.own_database
def test_bench_smoke(tmp_path):
    db = run.SqliteDatabase(tmp_path)
    rows, notes = run.run_database(db, CUSTOMERS, tmp_path, requests=3, warmup=1, seconds=1.0,
                                   generated_requests=(1, 1), generated_sample=15, mixed_seconds=2,
                                   worker_models=[("sync", 2, 1)], floors=5)
    md, js = tmp_path / "benchmarks.md", tmp_path / "benchmarks.json"
    run.write_outputs(rows, {"sqlite": notes}, md, js, "pytest tests/test_bench_smoke.py")

    scenarios = {r["scenario"] for r in rows}
    for user in ("supervisor", "admin"):
        for name in ("api list first page", "api list deep page", "api search name substring",
                     "api search pinyin initials", "api search phone", "api search contact name", "api detail",
                     "html customer page", "html customer timeline", "html customer list",
                     "api create customer", "api list throughput (8 clients)", "api opportunity list",
                     "api follow-ups of a customer"):
            assert f"{user}: {name}" in scenarios
    assert any(r["worker_rss_mb"] for r in rows), "no worker memory measured"
    for r in rows:
        assert r["statuses"] and set(r["statuses"]) <= {200, 201}, (r["scenario"], r["statuses"])
    data = json.loads(js.read_text())
    assert len(data) == len(rows)
    for item in data:
        assert set(item) == set(run.KEYS)
        assert item["database"] == "sqlite" and item["customers"] == CUSTOMERS
    text = md.read_text()
    assert "| scenario |" in text
    counts = notes["counts"]  # the other modules' rows are generated too
    assert counts["customers"] == CUSTOMERS and counts["followups"] > 3 * CUSTOMERS
    assert counts["opportunities"] > CUSTOMERS // 2 and counts["tasks"] > CUSTOMERS // 2
    assert f"{counts['followups']:,} follow-ups" in text
    # the generated scenarios (issue 17): every record type's list, every role, the landing pages
    generated = notes["generated"]
    assert notes["generated_count"] > 1000
    names = {(g["role"], g["name"]) for g in generated}
    for role in ("admin", "supervisor", "rep"):
        for name in ("home (page shell)", "opportunity board", "opportunity forecast", "public pool (html)",
                     "calendar feed", "calendar feed, unchanged (If-None-Match)", "api customer edit (notes)",
                     "api follow-up create", "duplicate check name + phone + e-mail (api)",
                     "customer: api first page", "customer: html first page"):
            assert (role, name) in names, (role, name)
    # the generator ages customer types (no lost customer is under a year old): the filter's value
    # the newest customers hold least is measured too, the page its index must serve
    spec = json.loads((tmp_path / "scenarios.json").read_text())  # every scenario, before the smoke's sample
    rare = {sc["name"] for sc in spec["scenarios"] if sc["role"] == "admin" and "(rare among the newest)" in sc["name"]}
    assert any(re.fullmatch(r"customer: api filter type=\d+ \(rare among the newest\)", name) for name in rare), rare
    groups = {g["group"] for g in generated}
    assert {"list customer", "list contact", "list opportunity", "list followup", "list task", "list planstep",
            "landing", "search", "writes"} <= groups
    for g in generated:
        assert g["verdict"] in ("PASS", "FAIL", "not shown", "–"), g
        if g["verdict"] != "not shown":  # no error status anywhere; a timing FAIL is allowed here
            assert set(g["statuses"]) <= run.OK_STATUSES, (g["role"], g["name"], g["path"], g["statuses"])
    feed = next(g for g in generated if g["name"] == "calendar feed, unchanged (If-None-Match)")
    assert 304 in feed["statuses"]
    assert "## Generated scenarios" in text and "| customer: api first page | admin |" in text
    # the mixed load ran through wrk (installed by make test) with no error
    (mixed,) = notes["mixed"]
    assert mixed["requests"] > 0, mixed
    # no request answered with an error; a lost socket is reported, and rare (wrk reconnects to
    # sync workers after every response; a reset while it writes the next request is one error)
    assert mixed["status_errors"] == 0 and not mixed["failed_requests"], (
        f"failed requests {mixed['failed_requests']}, status errors {mixed['status_errors']}, "
        f"sockets {mixed['socket_errors']}")
    assert sum(mixed["socket_errors"].values()) <= max(2, mixed["requests"] // 500), mixed
    assert "## Mixed load: worker models" in text
    with_raw = {r["scenario"] for r in rows if r["raw_sql_ms"] is not None}
    assert "admin: api follow-ups of a customer" in with_raw and "admin: api opportunity list" in with_raw
    # orders and money (issue 11): the lists, the customer's orders tab, an order with 10 lines,
    # 8 clients shipping at once; the payment and contract lists measured or skipped with a note
    assert counts["orders"] > CUSTOMERS and counts["order_lines"] > 2 * counts["orders"]
    assert counts["payments"] > 2 * CUSTOMERS and counts["contracts"] > CUSTOMERS // 3
    for user in ("supervisor", "admin"):
        for name in ("api order list first page", "api order list status=delivered", "html customer page + orders tab",
                     "api create order with 10 lines", "api create order, then add 10 lines"):
            assert f"{user}: {name}" in scenarios, name
    money = notes["orders"]
    for kind in ("payment", "contract"):
        assert (f"admin: api {kind} list first page" in scenarios
                or any(f"/api/v1/{kind}s/ answers 404" in s for s in money["skipped"])), kind
    race = money["race"]
    assert race["verdict"] == "PASS" and race["negative_balances"] == 0 and race["errors"] == 0, race
    assert race["shipped"] == 20 and race["refused_422"] == 12, race
    assert "## Orders and money (issue 11)" in text


def test_bench_keeps_the_hand_written_analysis(tmp_path):
    """A new run replaces the figures but keeps what follows the analysis marker."""
    md, js = tmp_path / "benchmarks.md", tmp_path / "benchmarks.json"
    md.write_text(f"# Benchmarks\n\n| old | table |\n\n{run.ANALYSIS_MARKER}\n\n## Budgets\n\nverdicts\n")
    row = dict.fromkeys(run.KEYS)
    row.update(scenario="admin: api detail", database="sqlite", customers=10, p50_ms=1.5)
    run.write_outputs([row], {}, md, js, "test")
    text = md.read_text()
    assert "| old | table |" not in text and "| admin: api detail | sqlite |" in text
    assert text.index("| admin: api detail |") < text.index(run.ANALYSIS_MARKER) < text.index("verdicts")
    run.write_outputs([row], {}, md, js, "test")
    assert md.read_text().count("verdicts") == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bench_orders_generator():
    """The orders-and-money generator, in process at a tiny scale (a second or two): rows at the
    issue's ratios, line amounts as line_total computes them and order totals their sums, unique
    numbers, the customer's owner on its documents, never more received than owed, and kept
    customer figures equal to what kehu.orders.figures computes from the generated rows."""
    import random

    from django.db.models import Count

    from kehu.bench import generate
    from kehu.core.money import line_total, round_money
    from kehu.customers.models import Customer
    from kehu.orders import figures
    from kehu.orders.models import Contract, Instalment, Invoice, Order, OrderLine, Payment

    rng = random.Random(11)
    users, admin, supervisor, *_rest = generate.create_people(rng)
    catalog, race = generate.create_catalog(random.Random(12), admin)
    first, last, counts = generate.load(150, rng, [u.pk for u in users], activities=False, catalog=catalog)
    assert counts["orders_order"] > 150 and counts["orders_orderline"] > 2 * counts["orders_order"]
    assert counts["orders_payment"] > 250 and counts["orders_contract"] > 40
    assert counts["orders_instalment"] and counts["orders_invoice"]
    for model in (Order, Contract, Payment, Invoice):
        assert not model.all_objects.values("number").annotate(n=Count("id")).filter(n__gt=1).exists(), model
    assert Order.objects.filter(number__regex=r"^DD\d{12,}$").count() == counts["orders_order"]
    statuses = set(Order.objects.values_list("status", flat=True))
    assert {"created", "processing", "shipped", "delivered", "cancelled"} <= statuses
    lines: dict = {}
    for ln in OrderLine.objects.all():
        amounts = line_total(ln.quantity, ln.unit_price, ln.discount_pct, ln.tax_rate)
        assert (ln.net, ln.tax, ln.gross) == tuple(amounts), ln.pk
        lines.setdefault(ln.order_id, []).append(ln)
    received: dict = {}
    for p in Payment.objects.all():
        key = ("order", p.order_id) if p.order_id else ("contract", p.contract_id)
        received[key] = received.get(key, 0) + p.amount
    for o in Order.objects.select_related("customer"):
        mine = lines[o.pk]
        assert o.net_total == sum(ln.net for ln in mine) and o.total == sum(ln.gross for ln in mine)
        assert o.cost_total == sum(round_money(ln.quantity * ln.unit_cost) for ln in mine)
        assert o.amount_received == received.get(("order", o.pk), 0) <= o.total
        assert o.customer.owner_id in (None, o.owner_id)
    for c in Contract.objects.select_related("customer"):
        assert c.amount_received == received.get(("contract", c.pk), 0) <= c.amount
        assert sum(i.amount for i in Instalment.objects.filter(contract=c)) == c.amount
        assert c.amount_ordered == sum(o.total for o in c.orders.exclude(status="cancelled"))
        assert c.customer.owner_id in (None, c.owner_id)
    ids = list(Customer.all_objects.filter(pk__gte=first, pk__lte=last).values_list("pk", flat=True))
    computed = figures.computed(ids)
    for pk in ids:  # SQLite sums decimals as floats: compared to the cent
        kept = figures.kept(pk)
        assert {k: round_money(v) if k not in ("first_order_on", "last_order_on", "order_count") else v
                for k, v in computed[pk].items()} == kept, pk
    samples = generate.order_samples(admin, supervisor, (first + last) // 2, race)
    assert samples["race_product"] == race and len(samples["products"]) == 10
    assert Customer.objects.visible_to(supervisor).filter(pk=samples["supervisor_orders_customer_pk"]).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bench_campaigns_generator():
    """Campaigns and their members, in process at a tiny scale: numbered as the app numbers them,
    states that agree with their dates, each customer once per campaign, members added after their
    customer and answering as the status says (services.stamp_status), a contact of the member's
    own customer, and each member valid by the model's own rules."""
    import datetime as dt
    import random

    from django.db.models import Count
    from django.utils import timezone

    from kehu.bench import generate
    from kehu.campaigns.models import Campaign, CampaignMember

    rng = random.Random(21)
    users, admin, supervisor, *_rest = generate.create_people(rng)
    end_min, now_min = generate._minutes_of_load()
    campaigns = generate.create_campaigns(random.Random(22), 300, [admin.pk, supervisor.pk], end_min, now_min)
    assert len(campaigns) == generate.CAMPAIGNS_MIN
    first, last, counts = generate.load(300, rng, [u.pk for u in users], activities=False, campaigns=campaigns)
    members = counts["campaigns_campaignmember"]
    assert 60 < members < 300, members  # 0.5 a customer, less the campaigns over before a customer came
    today = timezone.localdate()
    for c in Campaign.objects.all():
        assert len(c.number) == 14 and c.number.startswith("HD"), c.number
        c.full_clean()
        if c.end_date < today:
            assert c.status in ("completed", "cancelled"), (c.number, c.status)
        else:
            assert c.status == ("active" if c.start_date <= today else "planned"), (c.number, c.status)
    assert not CampaignMember.objects.values("campaign", "customer").annotate(n=Count("id")).filter(n__gt=1).exists()
    seen = set()
    for m in CampaignMember.objects.select_related("campaign", "customer", "contact"):
        seen.add(m.status)
        assert m.customer_id in range(first, last + 1)
        assert m.customer.created_at <= m.created_at <= timezone.now() - dt.timedelta(minutes=1), m.pk
        assert m.owner_id == (m.customer.owner_id or m.campaign.owner_id)
        assert m.contact is None or m.contact.customer_id == m.customer_id
        assert (m.responded_at is not None) == (m.status in ("responded", "converted", "declined")), m.status
        assert (m.converted_at is not None) == (m.status == "converted"), m.status
        if m.responded_at:
            assert m.created_at <= m.responded_at <= (m.converted_at or m.responded_at)
        if m.campaign.status in ("planned", "cancelled"):
            assert m.status in ("invited", "declined", "unsubscribed"), (m.campaign.status, m.status)
        m.match_existing = True  # the row exists: its twin check would find itself
        m.full_clean()
    assert {"invited", "responded", "converted"} <= seen, seen
    states = set(CampaignMember.objects.values_list("campaign__status", flat=True))
    assert {"active", "planned", "completed"} <= states, states  # members of a planned campaign too


def test_the_mixed_load_replayed_in_process_draws_what_wrk_draws():
    from kehu.bench import mixprofile

    spec = {
        "users": {"admin": {"token": "kh_a"}, "rep": {"token": "kh_r"}},
        "customer_ids": {"admin": [1, 2], "rep": [3, 4]},
        "scenarios": [
            {"client": "api", "group": "list customer", "role": "admin", "path": "/api/v1/customers/?status=active"},
            {"client": "api", "group": "list task", "role": "rep", "path": "/api/v1/tasks/?sort=due_at"},
            {"client": "html", "group": "list customer", "role": "rep", "path": "/customers/"},
            {"client": "api", "group": "list ticket", "role": "rep", "path": "/api/v1/tickets/"},
        ],
    }
    requests = mixprofile.requests_of(spec)
    reads = [r for r in requests if r[0] == "GET"]
    writes = [r for r in requests if r[0] != "GET"]
    assert {r[1] for r in reads} == {"/api/v1/customers/?status=active", "/api/v1/tasks/?sort=due_at",
                                     "/api/v1/customers/1", "/api/v1/customers/2", "/api/v1/customers/3",
                                     "/api/v1/customers/4"}
    assert len(writes) == len(reads) // 4 and {w[0] for w in writes} <= {"PATCH", "POST"}
    assert all(token in ("kh_a", "kh_r") for _m, _p, token, _b in requests)
    assert run._lua_entry("GET", "/x", "t").startswith("{")  # the Lua form is left as it was


def test_the_replay_names_each_kind_of_request_and_its_share(capsys):
    from kehu.bench import mixprofile

    assert mixprofile.kind_of(("GET", "/api/v1/customers/17", "t", None)) == "GET /api/v1/customers/{id}"
    assert mixprofile.kind_of(("GET", "/api/v1/tasks/?sort=due_at&q=x&q=y", "t", None)) == \
        "GET /api/v1/tasks/?q&sort"
    assert mixprofile.kind_of(("POST", "/api/v1/followups/", "t", "{}")) == "POST /api/v1/followups/"
    timed = [(30.0, ("PATCH", "/api/v1/customers/1", "t", "{}")), (6.0, ("GET", "/api/v1/customers/2", "t", None)),
             (4.0, ("GET", "/api/v1/customers/3", "t", None))]
    mixprofile.print_slowest(timed, 1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["PATCH", "/api/v1/customers/{id}", "1", "30.00", "30.0", "75.0%"]
    assert lines[2].split() == ["GET", "/api/v1/customers/{id}", "2", "5.00", "6.0", "25.0%"]
    assert lines[3:] == ["    30.0 ms  PATCH /api/v1/customers/1"]
