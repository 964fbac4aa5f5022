import pytest


@pytest.fixture(autouse=True)
def _fresh_counters():
    """The public page's rate-limit counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    from kehu.surveys import testing

    cache.clear()
    testing.ANSWERS.clear()
    yield
    cache.clear()
