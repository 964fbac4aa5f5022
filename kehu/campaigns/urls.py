from django.urls import path

from kehu.core.registry import registry
from kehu.core.views import record_urls

from . import views

app_name = "campaigns"

urlpatterns = [
    path("campaigns/<int:pk>/members/add/", views.add_member, name="campaign_add_member"),
    path("campaigns/<int:pk>/members/<int:member_pk>/status/", views.member_status, name="campaign_member_status"),
]
urlpatterns += record_urls(registry.get("campaign"), {"detail": views.CampaignDetailView})
urlpatterns += record_urls(registry.get("campaignmember"))
