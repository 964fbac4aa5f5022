from django.urls import path

from kehu.core.registry import registry
from kehu.core.views import record_urls

from . import calendar, views

app_name = "activities"

urlpatterns = [
    path("followups/contacts/", views.contact_lookup, name="contact_lookup"),
    path("tasks/<int:pk>/complete/", views.complete_view, name="task_complete"),
    path("calendar/<str:token>.ics", calendar.feed, name="calendar_feed"),
    path("calendar/link/", calendar.token_create, name="calendar_token_create"),
    path("calendar/link/revoke/", calendar.token_revoke, name="calendar_token_revoke"),
]
urlpatterns += record_urls(registry.get("followup"))
urlpatterns += record_urls(registry.get("task"), {"list": views.TaskListView})
