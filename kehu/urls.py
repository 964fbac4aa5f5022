from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from kehu.core.api import api, register_all
from kehu.core.views import generated_urls
from kehu.ui import views as ui_views

register_all()
api.add_router("/exports/", "kehu.core.api_exports.router")  # exports as background jobs (issue 17)
api.add_router("/imports/", "kehu.core.imports.api.router")  # imports: upload, check, import, undo (issue 15)

urlpatterns = [
    path("", ui_views.home, name="home"),
    path("healthz", ui_views.healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("kehu.accounts.urls")),
    path("", include("kehu.core.urls")),
    path("", include("kehu.customers.urls")),
    path("", include("kehu.sales.urls")),
    path("", include("kehu.activities.urls")),
    path("", include("kehu.catalog.urls")),
    path("", include("kehu.orders.urls")),
    path("", include("kehu.surveys.urls")),
    path("", include("kehu.service.urls")),
    path("", include("kehu.knowledge.urls")),
    path("", include("kehu.campaigns.urls")),
]
# an installed app without a urls.py of its own (a plugin, a test app): the generic pages of its
# record types under its label's namespace, so adding it touches INSTALLED_APPS only
urlpatterns += generated_urls(urlpatterns)
