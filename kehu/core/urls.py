from django.urls import path

from . import admin_views, exports_views, header_search, views
from .backup import views as backup_views
from .imports import views as imports_views
from .registry import registry

app_name = "core"

urlpatterns = [
    path("search/", header_search.search, name="search"),  # the header search (providers: kehu/core/registries.py)
    path("admin/audit/", admin_views.audit_log, name="audit_log"),
    path("admin/outbox/", admin_views.outbox, name="outbox"),
    path("admin/backups/", backup_views.backups, name="backups"),
    path("admin/outbox/<int:pk>/", admin_views.outbox_message, name="outbox_message"),
    path("notifications/", admin_views.notifications, name="notifications"),
    path("notifications/<int:pk>/", admin_views.open_notification, name="notification_open"),
    path("notifications/read-all/", admin_views.read_all, name="notifications_read_all"),
    path("attachments/<int:pk>/", views.AttachmentDownloadView.as_view(), name="attachment_download"),
    path("attachments/<int:pk>/delete/", views.AttachmentDeleteView.as_view(), name="attachment_delete"),
]
urlpatterns += imports_views.urlpatterns  # imports: upload, mapping, check, run, history, undo (kehu/core/imports)
urlpatterns += exports_views.urlpatterns  # My exports: progress, download (kehu/core/exports_views.py)
for key in ("dictitem", "customfield"):
    urlpatterns += views.record_urls(registry.get(key))
