"""Error responses (issue 9): the API always answers JSON, the UI a friendly page in both languages,
503 + Retry-After while the database is unreachable, 413 for an oversized body; debug off by default."""

import json
import logging
import os
import subprocess
import sys
import time

import pytest
from django.db import OperationalError
from django.test import Client

from kehu.core.testing.factories import PASSWORD, auth

THREE_MB = 3 * 1024 * 1024


@pytest.fixture
def client500():
    return Client(raise_request_exception=False)


def boom(*args, **kwargs):
    raise RuntimeError("boom on purpose")


def database_gone(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.parametrize("debug", [False, True])
def test_api_unhandled_exception_is_json_500_with_request_id_in_log(org, client500, monkeypatch, caplog, settings,
                                                                     debug):
    settings.DEBUG = debug
    headers = auth(org.manager)
    monkeypatch.setattr("kehu.accounts.authcache.token", boom)
    with caplog.at_level(logging.ERROR):
        response = client500.get("/api/v1/customers/", **headers)
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["detail"] and body["request_id"]
    assert response["X-Request-ID"] == body["request_id"]
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == body["request_id"] and r.exc_info]
    assert logged, "the traceback is not logged with the request id"
    assert "boom on purpose" in "".join(logging.Formatter().formatException(r.exc_info) for r in logged)


def test_request_id_header_on_every_response_and_a_sane_incoming_one_is_kept(client):
    response = client.get("/accounts/login/")
    assert len(response["X-Request-ID"]) >= 16
    assert client.get("/accounts/login/", HTTP_X_REQUEST_ID="abc-123-def")["X-Request-ID"] == "abc-123-def"
    assert client.get("/accounts/login/", HTTP_X_REQUEST_ID="<script>")["X-Request-ID"] != "<script>"


def test_api_database_unreachable_is_503_with_retry_after(org, client500, monkeypatch):
    headers = auth(org.manager)
    monkeypatch.setattr("kehu.accounts.authcache.token", database_gone)
    response = client500.get("/api/v1/customers/", **headers)
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["request_id"] == response["X-Request-ID"]


def test_database_unreachable_in_a_middleware_is_503_too(org, client500, monkeypatch):
    """The user is loaded by the middleware (session timeout) before any view runs."""
    client500.force_login(org.manager)
    monkeypatch.setattr("kehu.accounts.middleware.SessionTimeoutMiddleware.__call__", database_gone)
    response = client500.get("/customers/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert "Temporarily unavailable" in response.content.decode()
    response = client500.get("/api/v1/customers/")
    assert response.status_code == 503 and response.json()["request_id"]


def test_api_oversized_body_is_413_json(org, client500):
    headers = auth(org.manager)
    body = json.dumps({"name": "x" * THREE_MB})
    response = client500.post("/api/v1/customers/", body, content_type="application/json", **headers)
    assert response.status_code == 413
    assert response.json()["detail"] and response.json()["request_id"]


def test_api_oversized_body_read_by_the_view_is_413_json(org, client500, settings):
    """Without a Content-Length the middleware cannot refuse it up front: Django raises when the body
    is read (RequestDataTooBig), and that is 413 too, not 400 or 500."""
    headers = auth(org.manager)
    from django.core.exceptions import RequestDataTooBig

    from kehu.core.middleware import ErrorMiddleware

    response = ErrorMiddleware(lambda r: None).process_exception(
        client500.post("/api/v1/customers/", "{}", content_type="application/json", **headers).wsgi_request,
        RequestDataTooBig("too big"))
    assert response.status_code == 413 and json.loads(response.content)["detail"]


def test_ui_oversized_form_is_a_friendly_413_page(org, client500):
    client500.force_login(org.manager)
    response = client500.post("/customers/add/", {"name": "x" * THREE_MB}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 413
    assert "Too large" in response.content.decode() and "Traceback" not in response.content.decode()


@pytest.mark.urls("kehu.core.tests.error_urls")
def test_api_error_from_a_plain_view_under_api_is_json(client500, settings):
    settings.DEBUG = True  # even then: JSON, no technical page
    response = client500.get("/api/v1/test-errors/boom/")
    assert response.status_code == 500 and response.json()["request_id"]
    response = client500.get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")


@pytest.mark.urls("kehu.core.tests.error_urls")
@pytest.mark.parametrize("lang,text", [("en", "Server error"), ("zh-hans", "服务器错误")])
def test_ui_500_page_in_both_languages_with_request_id(client500, lang, text):
    response = client500.get("/test-errors/boom/", HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 500
    page = response.content.decode()
    assert text in page and response["X-Request-ID"] in page and "boom on purpose" not in page


@pytest.mark.urls("kehu.core.tests.error_urls")
def test_ui_database_error_in_a_view_is_a_friendly_503(client500):
    response = client500.get("/test-errors/database/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 503 and response["Retry-After"].isdigit()
    assert "暂时无法访问" in response.content.decode()


@pytest.mark.parametrize("lang,text", [("en", "Page not found"), ("zh-hans", "页面不存在")])
def test_ui_404_page_in_both_languages(org, client, lang, text):
    client.force_login(org.manager)
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 404
    page = response.content.decode()
    assert text in page
    assert 'data-testid="header-search"' in page  # the base layout, navigation included


def test_ui_403_page_is_friendly(org, client):
    client.force_login(org.manager)
    response = client.get("/admin/audit/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "Access denied" in response.content.decode()


def _settings_debug(extra_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEHU_DEBUG", "KEHU_ENV"))}
    env.update(extra_env)
    out = subprocess.run([sys.executable, "-c", "import kehu.settings as s; print(s.DEBUG)"], env=env,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_debug_is_off_unless_asked_for():
    assert _settings_debug({}) == "False"
    assert _settings_debug({"KEHU_DEBUG": "1"}) == "True"


def test_login_page_works_with_debug_off(client, settings):
    assert settings.DEBUG is False
    assert client.get("/accounts/login/").status_code == 200
    assert PASSWORD  # the factories' password, used by the other tests


# --- the request's time limit (kehu/core/deadline.py) -----------------------------------------

@pytest.mark.urls("kehu.core.tests.error_urls")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_statement_past_the_time_limit_is_stopped_logged_and_answered_503(client500, settings, caplog):
    from django.db import connection

    settings.KEHU_STATEMENT_TIMEOUT_MS = 300
    connection.close()  # PostgreSQL: the limit is set on connections opened inside a request
    try:
        started = time.monotonic()
        response = client500.get("/api/v1/test-errors/slow/", HTTP_ACCEPT_LANGUAGE="en")
        assert time.monotonic() - started < 10, "the statement was not stopped"
        assert response.status_code == 503
        assert "longer than" in response.json()["detail"] and response.json()["request_id"]
        assert any("statement stopped" in r.getMessage() and ("pg_sleep" in r.getMessage() or "RECURSIVE" in
                   r.getMessage()) for r in caplog.records), "the slow statement is not logged"
        response = client500.get("/test-errors/slow/")  # the UI, in the default language
        assert response.status_code == 503 and "处理时间超过" in response.content.decode()
    finally:
        # the request's connection keeps its 300 ms limit: the test's teardown (TRUNCATE of every
        # table) must not run on it, or a loaded machine stops the flush
        connection.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_work_outside_a_request_has_no_time_limit(settings):
    from django.db import connection

    settings.KEHU_STATEMENT_TIMEOUT_MS = 1
    connection.close()
    with connection.cursor() as cursor:  # a job: a query that takes longer than 1 ms still finishes
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_sleep(0.05)")
        else:
            cursor.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) "
                           "SELECT count(*) FROM c")
        cursor.fetchone()
