"""The settings the test suite runs with: Kehu's own, plus a test app that declares a record type
the way a new app would (tests/toyapp: one models.py, one records.py and a migration; issue 10)."""

from kehu.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.toyapp"]  # noqa: F405

# The per-process memory of users and rights (kehu/accounts/authcache.py) forgets after 5 s so that
# a change made by another server process is seen. In the suite every change goes through this
# process's signals, which clear it; a longer life keeps the query-count tests exact on a loaded
# machine, where one request can take longer than 5 s (test_authcache.py sets its own limits).
KEHU_AUTH_CACHE_SECONDS = 600
