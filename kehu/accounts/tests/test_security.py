"""Accounts and security: password policy, forced change, lock-out, login anomalies, sessions,
API tokens, data scope and the production settings."""

import io
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from kehu.accounts.middleware import SESSION_LAST_SEEN
from kehu.accounts.models import ApiToken, KnownDevice, User, hash_token
from kehu.core.models import Notification
from kehu.core.testing.factories import PASSWORD, auth, make_user
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer

LOGIN = "/accounts/login/"
PASSWORD_CHANGE = "/accounts/password/"


def ui(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def logged_in_user_id(client):
    return client.session.get(SESSION_KEY)


# --- password policy and forced change ----------------------------------------------

@pytest.mark.parametrize("weak", [
    "abcdefgh",      # letters only
    "abcd1234",      # no special character
    "abcd!@#$",      # no digit
    "1234!@#$",      # no letter
    "Ab1#xy",        # too short
    "",              # empty
])
def test_password_change_rejects_weak_passwords(org, weak):
    user = org.manager
    client = ui(user)
    response = client.post(PASSWORD_CHANGE, {"old_password": PASSWORD, "new_password1": weak,
                                             "new_password2": weak})
    assert response.status_code == 200
    assert "new_password2" in response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_change_accepts_strong_password(org):
    client = ui(org.manager)
    response = client.post(PASSWORD_CHANGE, {"old_password": PASSWORD, "new_password1": "Yuan#hang2024",
                                             "new_password2": "Yuan#hang2024"})
    assert response.status_code == 302
    org.manager.refresh_from_db()
    assert org.manager.check_password("Yuan#hang2024")
    # still logged in after the change (session hash updated)
    assert client.get("/customers/").status_code == 200


def test_forced_password_change_redirects_until_changed(org):
    user = make_user("newbie", "account_manager", org.team, must_change_password=True)
    client = ui(user)
    for url in ("/", "/customers/", "/customers/add/", "/accounts/profile/", "/notifications/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == PASSWORD_CHANGE, url
    assert client.get(PASSWORD_CHANGE).status_code == 200
    # a weak new password does not clear the flag
    client.post(PASSWORD_CHANGE, {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"})
    user.refresh_from_db()
    assert user.must_change_password
    assert client.get("/customers/")["Location"] == PASSWORD_CHANGE
    response = client.post(PASSWORD_CHANGE, {"old_password": PASSWORD, "new_password1": "Kehu#2024new",
                                             "new_password2": "Kehu#2024new"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password
    assert user.password_changed_at is not None
    assert client.get("/customers/").status_code == 200
    assert client.get("/").status_code == 200


# --- lock-out (django-axes) ----------------------------------------------------------

def test_lockout_after_five_failed_logins(org):
    client = Client()
    for _i in range(5):
        response = client.post(LOGIN, {"username": "manager", "password": "wrong#Pass1"})
        assert logged_in_user_id(client) is None
    # the sixth attempt is refused even with the right password
    response = client.post(LOGIN, {"username": "manager", "password": PASSWORD})
    assert response.status_code != 302
    assert logged_in_user_id(Client()) is None
    assert logged_in_user_id(client) is None
    assert client.get("/customers/").status_code == 302  # not logged in
    # another username from the same IP still logs in
    other = Client()
    response = other.post(LOGIN, {"username": "manager2", "password": PASSWORD})
    assert response.status_code == 302
    assert str(logged_in_user_id(other)) == str(org.manager2.pk)


def test_four_failures_then_success_is_allowed(org):
    client = Client()
    for _i in range(4):
        client.post(LOGIN, {"username": "manager", "password": "wrong#Pass1"})
    response = client.post(LOGIN, {"username": "manager", "password": PASSWORD})
    assert response.status_code == 302
    assert str(logged_in_user_id(client)) == str(org.manager.pk)


# --- login anomaly -------------------------------------------------------------------

def _login(ip, agent):
    client = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
    response = client.post(LOGIN, {"username": "manager", "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client


def test_login_anomaly_alert(org, django_capture_on_commit_callbacks):
    user = org.manager
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _login("10.0.0.1", "Firefox/1")
    assert KnownDevice.objects.filter(user=user, ip="10.0.0.1").count() == 1
    assert Notification.objects.filter(user=user).count() == 0
    assert len(mail.outbox) == 0

    # the same place again: nothing
    with django_capture_on_commit_callbacks(execute=True):
        _login("10.0.0.1", "Firefox/1")
    assert KnownDevice.objects.filter(user=user).count() == 1
    assert Notification.objects.filter(user=user).count() == 0
    assert len(mail.outbox) == 0

    # a new IP
    with django_capture_on_commit_callbacks(execute=True):
        _login("203.0.113.9", "Firefox/1")
    assert KnownDevice.objects.filter(user=user).count() == 2
    assert Notification.objects.filter(user=user).count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert "203.0.113.9" in mail.outbox[0].body

    # a new browser from a known IP
    with django_capture_on_commit_callbacks(execute=True):
        _login("10.0.0.1", "Chrome/99")
    assert KnownDevice.objects.filter(user=user).count() == 3
    assert Notification.objects.filter(user=user).count() == 2
    assert len(mail.outbox) == 2
    assert mail.outbox[1].to == [user.email]


# --- sessions ------------------------------------------------------------------------

def test_idle_session_times_out(org):
    client = ui(org.manager)
    assert client.get("/customers/").status_code == 200
    session = client.session
    session[SESSION_LAST_SEEN] = time.time() - (settings.KEHU_IDLE_TIMEOUT_MINUTES + 5) * 60
    session.save()
    response = client.get("/customers/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert logged_in_user_id(client) is None
    # and stays logged out
    response = client.get("/customers/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_active_session_is_kept(org):
    client = ui(org.manager)
    session = client.session
    session[SESSION_LAST_SEEN] = time.time() - 60  # one minute idle is fine
    session.save()
    assert client.get("/customers/").status_code == 200


def test_session_key_rotates_at_login(org):
    client = Client()
    session = client.session
    session["probe"] = 1
    session.save()
    before = session.session_key
    assert client.cookies[settings.SESSION_COOKIE_NAME].value == before
    response = client.post(LOGIN, {"username": "manager", "password": PASSWORD})
    assert response.status_code == 302
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after and after != before
    assert str(client.session.get(SESSION_KEY)) == str(org.manager.pk)


# --- API tokens ----------------------------------------------------------------------

def test_token_command_prints_working_hashed_token(org):
    make_customer(org.manager, "令牌测试有限公司")
    out = io.StringIO()
    call_command("token", "manager", stdout=out)
    key = out.getvalue().strip()
    assert key.startswith("kh_") and len(key) > 20
    token = ApiToken.objects.get(user=org.manager)
    assert token.key_hash == hash_token(key)
    assert token.key_hash != key
    for field in ApiToken._meta.concrete_fields:
        value = field.value_from_object(token)
        assert not (isinstance(value, str) and key in value), field.name
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.get("/api/v1/customers/")
    assert response.status_code == 200
    assert [r["name"] for r in response.json()["results"]] == ["令牌测试有限公司"]
    token.refresh_from_db()
    assert token.last_used_at is not None

    # revoked in the profile -> 401
    ui(org.manager).post(f"/accounts/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.get("/api/v1/customers/").status_code == 401


def test_token_command_unknown_user(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("token", "ghost", stdout=io.StringIO())


def test_bad_expired_or_inactive_tokens_are_401(org):
    assert Client(HTTP_AUTHORIZATION="Bearer kh_not_a_token").get("/api/v1/customers/").status_code == 401
    token, key = ApiToken.issue(org.manager)
    token.expires_at = timezone.now() - timezone.timedelta(minutes=1)
    token.save()
    assert Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/customers/").status_code == 401
    kwargs = auth(org.manager2)
    User.objects.filter(pk=org.manager2.pk).update(is_active=False)
    assert Client(**kwargs).get("/api/v1/customers/").status_code == 401


# --- data scope ----------------------------------------------------------------------

def test_supervisor_sees_team_not_other_department(org):
    mine = make_customer(org.manager, "一组客户有限公司")
    other = make_customer(org.manager2, "二部客户有限公司")
    client = ui(org.supervisor)
    names = {c.name for c in client.get("/customers/").context["page"].items}
    assert mine.name in names and other.name not in names
    assert client.get(f"/customers/{mine.pk}/").status_code == 200
    assert client.get(f"/customers/{other.pk}/").status_code == 404
    api = Client(**auth(org.supervisor))
    ids = {r["id"] for r in api.get("/api/v1/customers/").json()["results"]}
    assert mine.pk in ids and other.pk not in ids
    assert api.get(f"/api/v1/customers/{other.pk}").status_code == 404
    assert api.patch(f"/api/v1/customers/{other.pk}", {"notes": "x"},
                     content_type="application/json").status_code == 404
    # an account manager sees only their own
    m2 = ui(org.manager2)
    assert m2.get(f"/customers/{mine.pk}/").status_code == 404
    assert m2.get(f"/customers/{other.pk}/").status_code == 200


def test_executive_sees_all_but_cannot_edit(org):
    a = make_customer(org.manager, "高管可见一有限公司")
    b = make_customer(org.manager2, "高管可见二有限公司")
    client = ui(org.executive)
    names = {c.name for c in client.get("/customers/").context["page"].items}
    assert {a.name, b.name} <= names
    assert client.get(f"/customers/{b.pk}/").status_code == 200
    assert client.get(f"/customers/{b.pk}/edit/").status_code == 403
    assert client.post(f"/customers/{b.pk}/edit/", {"name": "改名"}).status_code == 403
    assert client.get("/customers/add/").status_code == 403
    assert client.post(f"/customers/{b.pk}/delete/").status_code == 403
    api = Client(**auth(org.executive))
    assert len(api.get("/api/v1/customers/").json()["results"]) == 2
    assert api.patch(f"/api/v1/customers/{b.pk}", {"notes": "x"},
                     content_type="application/json").status_code == 403
    assert api.delete(f"/api/v1/customers/{b.pk}").status_code == 403
    b.refresh_from_db()
    assert b.name == "高管可见二有限公司" and b.notes == ""


def test_service_can_view_but_not_create(org):
    a = make_customer(org.manager, "客服可见有限公司")
    client = ui(org.service)
    assert client.get("/customers/").status_code == 200
    assert client.get(f"/customers/{a.pk}/").status_code == 200
    assert client.get("/customers/add/").status_code == 403
    assert client.post("/customers/add/", {"name": "客服新建有限公司", "status": "active"}).status_code == 403
    api = Client(**auth(org.service))
    assert api.get(f"/api/v1/customers/{a.pk}").status_code == 200
    response = api.post("/api/v1/customers/", {"name": "客服新建有限公司"}, content_type="application/json")
    assert response.status_code == 403
    assert not Customer.objects.filter(name="客服新建有限公司").exists()


def test_user_without_role_sees_nothing(org):
    make_customer(org.manager, "无角色不可见有限公司")
    assert ui(org.nobody).get("/customers/").status_code == 403
    assert Client(**auth(org.nobody)).get("/api/v1/customers/").status_code == 403


# --- production settings -------------------------------------------------------------

def test_check_deploy_in_production_has_no_warnings(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KEHU_", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "kehu.settings",
        "KEHU_ENV": "production",
        "KEHU_SECRET_KEY": secrets.token_urlsafe(64),
        "KEHU_VAR_DIR": str(tmp_path),
        "KEHU_ALLOWED_HOSTS": "crm.example.com",
        "KEHU_BASE_URL": "https://crm.example.com",  # else kehu.W003: links in e-mails would point at 127.0.0.1
    })
    root = Path(settings.BASE_DIR).parent
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stderr + result.stdout


def test_production_requires_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KEHU_", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"))}
    env.update({"DJANGO_SETTINGS_MODULE": "kehu.settings", "KEHU_ENV": "production",
                "KEHU_VAR_DIR": str(tmp_path)})
    root = Path(settings.BASE_DIR).parent
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=root, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert "KEHU_SECRET_KEY" in result.stderr


def test_the_embedded_default_migrates_without_warnings(tmp_path):
    """`make run` migrates a fresh SQLite database: the database-dependent model checks (which a
    plain `check` skips) must print nothing there either, e.g. PostgreSQL's covering indexes."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KEHU_", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"))}
    env.update({"DJANGO_SETTINGS_MODULE": "kehu.settings", "KEHU_VAR_DIR": str(tmp_path)})
    root = Path(settings.BASE_DIR).parent
    result = subprocess.run([sys.executable, "manage.py", "check", "--database", "default", "--fail-level", "WARNING"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stderr + result.stdout
