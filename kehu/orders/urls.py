from django.urls import path

from kehu.core.registry import registry
from kehu.core.views import record_urls

from . import urls_fin, views

app_name = "orders"

urlpatterns = []
for key in ("quotation", "order"):
    rt = registry.get(key)
    p = rt.url_prefix
    urlpatterns += [
        path(f"{p}/<int:pk>/lines/", views.LinesView.as_view(rt=rt), name=f"{key}_lines"),
        path(f"{p}/<int:pk>/lines/<int:line_pk>/", views.LinesView.as_view(rt=rt), name=f"{key}_line"),
        path(f"{p}/<int:pk>/pdf/", views.DocumentPdfView.as_view(rt=rt), name=f"{key}_pdf"),
        path(f"{p}/<int:pk>/lines/<int:line_pk>/delete/", views.LinesView.as_view(rt=rt), {"delete": True},
             name=f"{key}_line_delete"),
    ]
    urlpatterns += record_urls(rt, {"detail": views.DocumentDetailView})
urlpatterns += urls_fin.urlpatterns  # payments and invoices (urls_fin.py)
urlpatterns += urls_fin.document_urls("contract")  # a contract's payments panel
urlpatterns += [
    path("products/lookup/", views.product_lookup, name="product_lookup"),
    path("orders/<int:pk>/ship/", views.ShipmentView.as_view(rt=registry.get("order")), name="order_ship"),
    path("orders/<int:pk>/after-sales/", views.AfterSalesView.as_view(rt=registry.get("order")),
         name="order_after_sales"),
    path("orders/<int:pk>/after-sales/<int:request_pk>/<str:action>/",
         views.AfterSalesView.as_view(rt=registry.get("order")), name="order_after_sales_action"),
]
from .contract_views import contract_urls  # noqa: E402  (contracts: contract_views.py)

urlpatterns += contract_urls()
