"""The per-process memory of tokens and rights: fewer queries, and changes still take effect."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.accounts import authcache
from kehu.accounts.models import ApiToken, Role, User
from kehu.core.testing.factories import make_org, make_user, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return make_org()


def queries(client, path="/api/v1/customers/"):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    return response, [q["sql"] for q in ctx.captured_queries]


def test_second_request_skips_token_roles_and_scope_queries(org):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(org.supervisor)}")
    authcache.clear()
    first, cold = queries(client)
    second, warm = queries(client)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    for table in ("accounts_apitoken", "accounts_role", "accounts_department"):
        assert any(table in sql for sql in cold), table
        assert not any(f'FROM "{table}"' in sql for sql in warm), (table, warm)
    assert len(warm) <= len(cold) - 3


def test_revoked_token_is_refused_at_once(org):
    key = token_for(org.manager)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/customers/").status_code == 200
    token = ApiToken.objects.get(user=org.manager)
    token.revoked_at = timezone.now()
    token.save()
    assert client.get("/api/v1/customers/").status_code == 401


def test_expired_token_is_refused_even_when_remembered(org):
    key = token_for(org.manager)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/customers/").status_code == 200
    # bypass the signals: only the expiry check on every request can refuse it now
    ApiToken.objects.filter(user=org.manager).update(expires_at=timezone.now() - timezone.timedelta(seconds=1))
    remembered = authcache._tokens
    for _deadline, api_token, _user in remembered.values():
        api_token.expires_at = timezone.now() - timezone.timedelta(seconds=1)
    assert client.get("/api/v1/customers/").status_code == 401


def test_role_change_takes_effect_at_once(org):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(org.nobody)}")
    assert client.get("/api/v1/customers/").status_code == 403
    org.nobody.roles.add(Role.objects.get(code="account_manager"))
    assert client.get("/api/v1/customers/").status_code == 200
    role = Role.objects.get(code="account_manager")
    role.rights = []
    role.save()
    assert client.get("/api/v1/customers/").status_code == 403


def test_deactivated_user_is_refused_at_once(org):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(org.manager)}")
    assert client.get("/api/v1/customers/").status_code == 200
    org.manager.is_active = False
    org.manager.save()
    assert client.get("/api/v1/customers/").status_code == 401


def test_change_in_another_process_is_seen_after_the_time_limit(org, settings, monkeypatch):
    """A change that does not pass through this process's signals (another server worker)."""
    settings.KEHU_AUTH_CACHE_SECONDS = 5
    clock = [1000.0]
    monkeypatch.setattr(authcache.time, "monotonic", lambda: clock[0])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(org.manager)}")
    assert client.get("/api/v1/customers/").status_code == 200
    User.objects.filter(pk=org.manager.pk).update(is_active=False)  # no signal, as from elsewhere
    clock[0] += 4
    assert client.get("/api/v1/customers/").status_code == 200  # still remembered
    clock[0] += 2
    assert client.get("/api/v1/customers/").status_code == 401


def test_zero_turns_the_memory_off(org, settings):
    settings.KEHU_AUTH_CACHE_SECONDS = 0
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(org.supervisor)}")
    client.get("/api/v1/customers/")
    _response, warm = queries(client)
    assert any("accounts_apitoken" in sql for sql in warm)


def test_a_request_cannot_change_what_the_next_one_sees(org):
    key = token_for(org.supervisor)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    client.get("/api/v1/customers/")
    _deadline, _token, user = next(iter(authcache._tokens.values()))
    assert not hasattr(user, "_kehu_access")  # requests got copies; the remembered user is untouched
    other = make_user("later", "account_manager", org.team)
    assert other.pk  # creating a user empties the memory
    assert authcache._tokens == {}
