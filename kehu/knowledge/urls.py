from django.urls import path

from kehu.core.registry import registry
from kehu.core.views import record_urls

from . import views

app_name = "knowledge"

urlpatterns = [
    path("kb/articles/preview/", views.PreviewView.as_view(), name="article_preview"),
    path("kb/articles/<int:pk>/vote/", views.VoteView.as_view(), name="article_vote"),
    path("kb/articles/<int:pk>/diff/", views.DiffView.as_view(), name="article_diff"),
    path("kb/articles/<int:pk>/versions/<int:number>/restore/", views.RestoreVersionView.as_view(),
         name="article_restore_version"),
]
urlpatterns += record_urls(registry.get("article"), {"list": views.ArticleListView, "detail": views.ArticleDetailView,
                                                      "add": views.ArticleEditView, "edit": views.ArticleEditView})
urlpatterns += record_urls(registry.get("articlecategory"))
