"""Test-only URLs: Kehu's own, plus views that fail on purpose (kehu/core/tests/test_errors.py)."""

from django.db import OperationalError
from django.urls import path

from kehu.urls import urlpatterns as kehu_urlpatterns


def boom(request):
    raise RuntimeError("boom on purpose")


def database_gone(request):
    raise OperationalError("server closed the connection unexpectedly")


def slow_query(request):
    """A statement that runs far longer than the test's time limit."""
    from django.db import connection
    from django.http import HttpResponse

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_sleep(20)")
        else:
            cursor.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
                           "SELECT count(*) FROM c")
    return HttpResponse("finished")


urlpatterns = [
    path("test-errors/slow/", slow_query),
    path("api/v1/test-errors/slow/", slow_query),
    path("test-errors/boom/", boom),
    path("test-errors/database/", database_gone),
    path("api/v1/test-errors/boom/", boom),
    *kehu_urlpatterns,
]
