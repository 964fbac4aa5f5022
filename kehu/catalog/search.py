"""The header search's products (declared in registrations.py)."""

from kehu.core.registry import registry


def products(user, q: str) -> list:
    """Active products by code, name and pinyin: the first 25 by code."""
    rt = registry.get("product")
    fs = rt.filterset({"q": q}, queryset=rt.visible(user), user=user)
    return rt.prepare(list(fs.qs.filter(active=True).select_related("category").order_by("code")[:25]))
