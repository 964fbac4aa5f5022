from django.urls import path

from kehu.core.registry import registry
from kehu.core.views import record_urls

from . import public
from .records import SurveyListView

app_name = "surveys"

urlpatterns = record_urls(registry.get("survey"), {"list": SurveyListView}) + [
    path("s/<str:token>/", public.answer, name="answer"),  # the e-mailed link: no login
]
