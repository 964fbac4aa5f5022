"""The header search's articles (declared in registrations.py)."""

from .services import search_articles


def articles(user, q: str) -> list:
    """The best 10 articles the user may read for `q`, title hits first."""
    return search_articles(q, user, limit=10)
