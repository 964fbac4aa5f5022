"""The settings the test suite runs with: Kehu's own, plus a test app that declares a record type
the way a new app would (tests/toyapp: one models.py, one records.py and a migration; issue 10)."""

from kehu.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.toyapp"]  # noqa: F405
