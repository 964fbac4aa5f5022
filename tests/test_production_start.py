"""Kehu starts in production mode: `kehu serve` with KEHU_ENV=production collects the static files
with whitenoise's manifest storage, gunicorn serves the login page with hashed static URLs, and
those files are served (issue 9: a vendored CSS naming a missing source map stopped the start).

Always on its own SQLite file and static root, whatever DATABASE_URL the suite runs with.
"""

import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from kehu.core.testing.smtp import free_port

# what the proxy in front of Kehu sends: production redirects plain HTTP to HTTPS
HEADERS = {"X-Forwarded-Proto": "https", "Accept-Language": "en"}


def production_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEHU_", "DATABASE_URL", "DJANGO_"))}
    env.update(
        KEHU_ENV="production",
        KEHU_SECRET_KEY=secrets.token_urlsafe(50),
        KEHU_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'kehu.sqlite3'}",
        KEHU_BASE_URL="https://crm.example.com",
        KEHU_EMAIL_HOST="127.0.0.1",
        DJANGO_SETTINGS_MODULE="kehu.settings",
    )
    return env


def kehu(env, *args, timeout=120):
    return subprocess.run([sys.executable, "-m", "kehu.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def get(url):
    request = urllib.request.Request(url, headers=HEADERS)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


@pytest.mark.own_database
def test_production_mode_starts_and_serves_hashed_static_files(tmp_path):
    env = production_env(tmp_path)
    (tmp_path / "var").mkdir()
    migrate = kehu(env, "migrate", "--noinput")
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    check = kehu(env, "check", "--deploy", "--fail-level", "WARNING")
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "serve.log", "w+")
    server = subprocess.Popen([sys.executable, "-m", "kehu.cli", "serve", "--bind", f"127.0.0.1:{port}",
                               "--workers", "1"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120  # a loaded 2-core machine once took over 40 s to import and bind
        status = None
        while time.monotonic() < deadline:
            assert server.poll() is None, "kehu serve exited:\n" + (tmp_path / "serve.log").read_text()[-5000:]
            try:
                status, page = get(base + "/accounts/login/")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        assert status == 200, (status, (tmp_path / "serve.log").read_text()[-5000:])
        assert "DEBUG" not in page and "Traceback" not in page
        hashed = re.findall(r'(/static/[\w/.-]+\.[0-9a-f]{12}\.(?:css|js))', page)
        assert hashed, "no hashed static URL in the login page:\n" + page[:3000]
        for url in set(hashed):
            file_status, _body = get(base + url)
            assert file_status == 200, url
        # debug is off: an unknown page is the friendly 404, not Django's technical page
        status, page = get(base + "/no-such-page/")
        assert status == 404 and "Page not found" in page and "URLconf" not in page
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
