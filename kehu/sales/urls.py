from django.urls import path

from kehu.core.registry import registry
from kehu.core.views import record_urls

from . import views

app_name = "sales"

urlpatterns = [
    path("opportunities/board/", views.board_view, name="opportunity_board"),
    path("opportunities/lookup/", views.opportunity_lookup, name="opportunity_lookup"),
    path("opportunities/forecast/", views.forecast_view, name="opportunity_forecast"),
    path("opportunities/<int:pk>/stage/", views.stage_view, name="opportunity_stage"),
    path("opportunities/<int:pk>/assign/", views.assign_view, name="opportunity_assign"),
    path("opportunities/<int:pk>/plan/", views.plan_view, name="opportunity_plan"),
    path("opportunities/<int:pk>/plan/<int:step_pk>/complete/", views.plan_complete_view,
         name="opportunity_plan_complete"),
]
urlpatterns += record_urls(registry.get("opportunity"), {
    "list": views.OpportunityListView, "detail": views.OpportunityDetailView, "add": views.OpportunityEditView, "edit": views.OpportunityEditView,
})
urlpatterns += record_urls(registry.get("planstep"))
urlpatterns += record_urls(registry.get("stage"))
