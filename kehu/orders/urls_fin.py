"""The pages of payments and invoices (appended to kehu/orders/urls.py): their generic record
pages and the payments panel of an order (a contract's page mounts the same view)."""

from django.urls import path

from kehu.core.registry import registry
from kehu.core.views import record_urls

from . import payments_views


def document_urls(key: str) -> list:
    """The payments panel of record type `key` (order, contract): GET it, POST a payment, refund,
    plan or invoice request to it."""
    rt = registry.get(key)
    p = rt.url_prefix
    view = payments_views.PaymentsPanelView.as_view(rt=rt)
    return [path(f"{p}/<int:pk>/payments/", view, name=f"{key}_payments"),
            path(f"{p}/<int:pk>/payments/<slug:what>/", view, name=f"{key}_payments_post")]


urlpatterns = record_urls(registry.get("payment")) + record_urls(registry.get("invoice")) + document_urls("order")
urlpatterns += [path("orders/lookup/", payments_views.order_lookup, name="order_lookup")]
