from kehu.core.registry import registry
from kehu.core.views import record_urls

from . import views

app_name = "catalog"

urlpatterns = record_urls(registry.get("product"), {"list": views.ProductListView,
                                                    "detail": views.ProductDetailView})
urlpatterns += record_urls(registry.get("productcategory"))
urlpatterns += record_urls(registry.get("warehouse"))
urlpatterns += record_urls(registry.get("stockmove"))
