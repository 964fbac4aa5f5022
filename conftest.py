"""Shared pytest fixtures: users per role, departments, API clients."""

import os

os.environ.setdefault("KEHU_TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")

import pytest  # noqa: E402

pytest_plugins = ["kehu.core.testing.concurrency"]  # shared_database: tests on real concurrent connections


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # the daily backup would run (a backup and its verification) in every test that runs the due jobs;
    # kehu/core/tests/test_backup_schedule.py switches it on
    settings.KEHU_BACKUP_SCHEDULE = "off"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    from kehu.core import customfields, memo

    customfields._CACHE.clear()
    # a term one test's rows made common is not common in the next's, nor is a user's scope wide
    memo.forget_all()
    # nor is SQL one test compiled (kehu/core/reads.py, pagination.py) run for another's
    # (monkeypatched) record types
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.__dict__.pop("_kehu_page_queries", None)


@pytest.fixture
def org(db):
    """Two sales departments under a head office, and one user per role."""
    from kehu.core.testing.factories import make_org

    return make_org()


def pytest_terminal_summary(terminalreporter):
    """The authorization matrix's counts (kehu/core/testing/records.py), for the record."""
    from kehu.core.testing.records import AUTHZ_COUNTS

    if AUTHZ_COUNTS["cells"]:
        terminalreporter.write_line(
            f"authorization matrix: {AUTHZ_COUNTS['cells']} cells tried, {AUTHZ_COUNTS['broken']} broken")
