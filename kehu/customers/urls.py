from django.urls import path

from kehu.core.registry import registry
from kehu.core.views import record_urls

from . import views

app_name = "customers"

urlpatterns = [
    path("customers/duplicates/", views.duplicates_view, name="customer_duplicates"),
    path("customers/lookup/", views.lookup_view, name="customer_lookup"),
    path("customers/<int:pk>/timeline/", views.timeline_view, name="customer_timeline"),
    path("customers/<int:pk>/claim/", views.claim_view, name="customer_claim"),
    path("customers/<int:pk>/release/", views.release_view, name="customer_release"),
    path("customers/<int:pk>/transfer/", views.transfer_view, name="customer_transfer"),
    path("customers/<int:pk>/merge/", views.merge_view, name="customer_merge"),
    path("customers/quality/", views.quality_view, name="quality"),
    path("customers/quality/scan/", views.quality_scan_view, name="quality_scan"),
    path("customers/quality/merge/", views.quality_merge_view, name="quality_merge"),
    path("customers/quality/dismiss/", views.quality_dismiss_view, name="quality_dismiss"),
    path("contacts/<int:pk>/vcard/", views.contact_vcard_view, name="contact_vcard"),
    path("contacts/<int:pk>/qr.png", views.contact_qr_view, name="contact_qr"),
]
urlpatterns += record_urls(registry.get("customer"), {
    "list": views.CustomerListView, "detail": views.CustomerDetailView, "bulk": views.CustomerBulkView,
    "add": views.CustomerEditView, "edit": views.CustomerEditView,
})
urlpatterns += record_urls(registry.get("contact"), {
    "list": views.ContactListView, "detail": views.ContactDetailView, "bulk": views.ContactBulkView,
})
