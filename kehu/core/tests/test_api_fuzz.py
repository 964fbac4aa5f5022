"""Schemathesis over the whole API: every operation, generated valid and invalid input, with an
administrator's and an account manager's token (own records, no assign right).

Fails on any 5xx and on any response its OpenAPI description does not allow (status code,
content type, body schema). Derandomized (fixed seed), a bounded number of examples per operation,
so it runs in about a minute on SQLite and on PostgreSQL. Each request runs in a savepoint that is
rolled back: cases do not depend on each other, and a database error cannot poison the next one.

Run with `-s` to see the counts (cases, server errors, schema violations).
"""

import datetime
import json
import os
from collections import Counter

import pytest
import schemathesis  # noqa: E402  (a test dependency: its absence must fail, not skip)
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.core.failures import FailureGroup  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("KEHU_FUZZ_EXAMPLES", "24"))  # per operation and token
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def load_schema():
    import kehu.urls  # noqa: F401  (registers the routers)
    from kehu.core.api import api

    document = json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1"), default=str))
    return schemathesis.openapi.from_dict(document)


def sample_records(org):
    """One record of each type in the account manager's scope, so that operations on `{pk}` reach
    real records, not only 404s."""
    from kehu.activities.models import FollowUp, Task
    from kehu.core.models import DictItem
    from kehu.customers.testing import make_contact, make_customer
    from kehu.sales.models import Opportunity, PlanStep, Stage

    customer = make_customer(org.manager, name="模糊测试客户")
    make_contact(customer, "张三")
    make_customer(org.manager2, name="别人的客户")
    stage = Stage.objects.filter(active=True, is_won=False, is_lost=False).order_by("order").first()
    opp = Opportunity.objects.create(title="模糊测试机会", customer=customer, stage=stage, owner=org.manager)
    PlanStep.objects.create(opportunity=opp, planned_on=datetime.date(2030, 1, 5), action="电话", responsible=org.manager,
                            order=1)
    FollowUp.objects.create(customer=customer, owner=org.manager, occurred_at=timezone.now(), topic="电话",
                            method=DictItem.objects.filter(kind="contact_method").first())
    Task.objects.create(title="回访", owner=org.manager, due_at=timezone.now())


def existing_pk(path: str):
    from kehu.core.registry import registry

    prefix = path.removeprefix("/api/v1/").split("/")[0]
    for rt in registry.all():
        if rt.api_prefix == prefix:
            return rt.model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
    return None


def strategy_for(operation):
    modes = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    if "{pk}" in operation.path:
        pk = existing_pk(operation.path)
        if pk is not None:
            modes += [operation.as_strategy(GenerationMode.POSITIVE, path_parameters={"pk": pk})]
    return st.one_of(*modes)


def fuzz(operation, who, token, app, counts, problems):
    """A Hypothesis test of one operation with one token; it records problems instead of raising."""

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy_for(operation))
    def run(case):
        counts["cases"] += 1
        with transaction.atomic():
            try:
                response = case.call(app=app, base_url="http://testserver",
                                     headers={"Authorization": f"Bearer {token}"})
            finally:
                transaction.set_rollback(True)
        counts[f"status {response.status_code}"] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                kind = "server errors" if response.status_code >= 500 else "schema violations"
                counts[kind] += 1
                key = f"{who} {operation.method.upper()} {operation.path}: {failure.title}"
                problems.setdefault(key, f"{case.as_curl_command()}\n  -> {response.status_code} "
                                         f"{response.content[:300]!r}\n  {failure.message[:600]}")

    return run


@pytest.fixture
def quiet_request_log():
    """4xx answers are expected by the thousand here; keep the log to server errors."""
    import logging

    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.mark.django_db
def test_every_operation_answers_as_documented(org, quiet_request_log):
    from django.core.wsgi import get_wsgi_application

    from kehu.core.testing.factories import token_for

    sample_records(org)
    app = get_wsgi_application()
    schema = load_schema()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 50, "every record type's operations are in the description"
    tokens = {"administrator": token_for(org.admin), "account manager": token_for(org.manager)}
    counts: Counter = Counter()
    problems: dict[str, str] = {}

    request_started.disconnect(close_old_connections)  # as Django's test client: one connection, in a transaction
    request_finished.disconnect(close_old_connections)
    try:
        for who, token in tokens.items():
            for operation in operations:
                fuzz(operation, who, token, app, counts, problems)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)

    summary = (f"schemathesis on {connection.vendor}: {len(operations)} operations x {len(tokens)} tokens, "
               f"{counts['cases']} cases, {counts['server errors']} server errors, "
               f"{counts['schema violations']} schema violations; "
               + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()) if k.startswith("status")))
    print("\n" + summary)
    for key, detail in problems.items():
        print(f"\n{key}\n  {detail}")
    assert not problems, f"{summary}\n" + "\n".join(problems)
