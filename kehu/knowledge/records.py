"""The knowledge base's record types: articles (with their publishing workflow) and categories."""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.registry import RecordType, registry
from kehu.core.workflow import NONE, Transition, Workflow

from .forms import ArticleCategoryFilterSet, ArticleCategoryForm, ArticleFilterSet, ArticleForm
from .models import Article, ArticleCategory


def published(article, user, ctx) -> None:
    article.published_at = timezone.now()


class ArticleWorkflow(Workflow):
    """draft 草稿 → published 已发布 (readers see it) → back to draft (withdrawn)."""

    field = "status"
    transitions = (
        Transition("publish", _("Publish"), source=("draft",), target="published", comment=NONE, run=published,
                   icon="ti-world-upload", style="primary", help=_("Everyone who may read the knowledge base sees it.")),
        Transition("unpublish", _("Withdraw"), source=("published",), target="draft", icon="ti-eye-off",
                   help=_("Back to draft: only editors see it until it is published again.")),
    )


def sees_drafts(user) -> bool:
    """Drafts are read by the knowledge base's editors only (who may create or edit articles)."""
    return user is not None and (user.has_right("article", "edit") or user.has_right("article", "create"))


@registry.register
class ArticleType(RecordType):
    model = Article
    form = ArticleForm
    filterset = ArticleFilterSet
    url_prefix = "kb/articles"
    api_prefix = "articles"
    list_columns = ["title", "category", "status", "helpful_count", "view_count", "updated_at"]
    extra_columns = ["audience", "owner", "not_helpful_count", "published_at", "created_at", "tags"]
    sort_fields = ["id", "title", "view_count", "helpful_count", "created_at", "updated_at", "published_at"]
    default_sort = "-id"  # newest first; a filter (status, category, audience) reads its (field, id) index in that order
    list_select_related = ["category", "owner"]
    detail_template = "knowledge/article_detail.html"
    detail_fields = ["title", "category", "status", "audience", "owner", "view_count", "helpful_count",
                     "not_helpful_count", "published_at", "created_at", "created_by", "updated_at", "updated_by"]
    export_fields = ["title", "category", "status", "audience", "body", "owner", "view_count", "helpful_count",
                     "not_helpful_count", "published_at", "created_at", "updated_at"]
    api_exclude = ["tag_text", "search_words"]
    nav_icon = "ti-book"
    nav_section, nav_order = "service", 50  # after the tickets (kehu/service)
    search_placeholder = _("Title, text, tags")
    workflow = ArticleWorkflow()

    def visible(self, user, owned: bool = False):
        qs = super().visible(user, owned)
        return qs if sees_drafts(user) else qs.filter(status=Article.Status.PUBLISHED)

    def scope_key(self, user) -> tuple:
        return (*super().scope_key(user), "drafts" if sees_drafts(user) else "published")

    def extend_api(self, router, out_schema):
        from .api import extend  # suggest, votes, versions, diff, restore

        extend(router, self, out_schema)


@registry.register
class ArticleCategoryType(RecordType):
    model = ArticleCategory
    key = "articlecategory"
    url_prefix = "kb/categories"
    api_prefix = "article-categories"
    form = ArticleCategoryForm
    filterset = ArticleCategoryFilterSet
    list_columns = ["name", "parent", "order"]
    sort_fields = ["id", "name", "order"]
    default_sort = "order"
    list_select_related = ["parent"]
    detail_fields = ["name", "parent", "order"]
    nav_icon = "ti-folders"
    nav_section, nav_order = "admin", 46  # the Administration menu, beside the product categories

    def check_delete(self, obj):
        if obj.children.exists() or Article.all_objects.filter(category=obj).exists():
            raise ValidationError(_("This category still has articles or subcategories."))

