"""Test-only URLs: Kehu's own, plus views that fail on purpose (kehu/core/tests/test_errors.py)."""

from django.db import OperationalError
from django.urls import path

from kehu.urls import urlpatterns as kehu_urlpatterns


def boom(request):
    raise RuntimeError("boom on purpose")


def database_gone(request):
    raise OperationalError("server closed the connection unexpectedly")


urlpatterns = [
    path("test-errors/boom/", boom),
    path("test-errors/database/", database_gone),
    path("api/v1/test-errors/boom/", boom),
    *kehu_urlpatterns,
]
