"""The knowledge base's pages beyond the generic ones: the list (category tree, ranked search), the
article page (rendered body, votes, views, what it solved), the editor's preview, versions and diff."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views import View

from kehu.core.markdown import render_markdown
from kehu.core.pagination import Page
from kehu.core.registry import registry
from kehu.core.views import RecordDetailView, RecordEditView, RecordListView, RecordViewMixin, require

from . import links, services
from .models import Article, ArticleCategory


def category_tree() -> list[ArticleCategory]:
    return list(ArticleCategory.objects.order_by("path"))


class ArticleListView(RecordListView):
    """The generic list, beside the category tree. A search without an explicit sort is ranked
    (title hits first: services.rank) and shows the best RANKED_ROWS."""

    template_name = "knowledge/article_list.html"

    def filtered_queryset(self):
        self.list_qs = super().filtered_queryset()
        if self.ranked():  # the page shown is the ranked one (get): the generic page is not read first
            return self.list_qs.none()
        return self.list_qs

    def ranked(self) -> bool:
        """A search shown ranked: a term, no explicit sort or cursor, a page (not an export or a count)."""
        get = self.request.GET
        return bool((get.get("q") or "").strip() and not any(get.get(k) for k in ("sort", "cursor", "format", "count"))
                    and not self.filter_errors)

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        q = (request.GET.get("q") or "").strip()
        if self.ranked() and isinstance(response, TemplateResponse):
            ctx = response.context_data
            from kehu.core.filters import list_queryset

            rest = request.GET.copy()
            rest.pop("q", None)  # the same list without its search, for the title hits (services.rank)
            _fs, unsearched = list_queryset(self.rt, request.user, rest, owned=self.owned_tab())
            items = self.rt.prepare(services.rank(self.list_qs, q, unsearched=unsearched))
            ctx["page"] = Page(items=items, next_cursor=None, prev_cursor=None, sort=ctx["sort"])
            ctx["ranked"] = len(items)
        return response

    def extra_context(self):
        return {"categories": category_tree(), "category_id": self.request.GET.get("category", "")}


class ArticleDetailView(RecordDetailView):
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if request.GET.get("tab", "details") == "details":
            services.record_view(response.context_data["object"])
        return response

    def extra_context(self, obj):
        user = self.request.user
        tab = self.request.GET.get("tab", "details")
        ctx = {"extra_tabs": [("versions", _("Versions"))], "header_actions": "knowledge/_article_actions.html"}
        if tab == "details":
            ctx.update(body_html=render_markdown(obj.body), my_vote=services.vote_of(obj, user),
                       solved=[(o, registry.for_model(type(o)).get_absolute_url(o))
                               for o in links.objects_solved(obj, user)], can_vote=obj.is_published,
                       tags=obj.tags, path=obj.category and ancestors(obj.category))
        elif tab == "versions":
            ctx["versions"] = list(obj.versions.select_related("saved_by").order_by("-number")[:200])
        return ctx


def ancestors(category) -> list[ArticleCategory]:
    ids = [int(x) for x in category.path.strip("/").split("/") if x]
    found = ArticleCategory.objects.in_bulk(ids)
    return [found[i] for i in ids if i in found]


class ArticleEditView(RecordEditView):
    template_name = "knowledge/article_form.html"


class ArticleMixin(RecordViewMixin):
    rt = None

    def dispatch(self, request, *args, **kwargs):
        self.rt = registry.get("article")
        return super().dispatch(request, *args, **kwargs)

    def article(self) -> Article:
        return get_object_or_404(self.rt.visible(self.request.user), pk=self.kwargs["pk"])


class VoteView(ArticleMixin, View):
    """POST helpful=1|0: the user's vote (HTMX: the vote box again)."""

    def post(self, request, pk):
        article = self.article()
        value = request.POST.get("helpful")
        if value not in ("0", "1"):
            raise Http404
        try:
            services.vote(article, request.user, value == "1")
        except ValidationError as exc:
            raise PermissionDenied(" ".join(exc.messages)) from None
        ctx = {"object": article, "my_vote": value == "1", "can_vote": True, "voted": True}
        if request.htmx:
            return TemplateResponse(request, "knowledge/_vote.html", ctx)
        return HttpResponseRedirect(self.rt.get_absolute_url(article))


class PreviewView(RecordViewMixin, View):
    """POST body=…: the Markdown rendered as the article page will show it (the editor's preview)."""

    def dispatch(self, request, *args, **kwargs):
        self.rt = registry.get("article")
        if request.user.is_authenticated and not (request.user.has_right("article", "create")
                                                  or request.user.has_right("article", "edit")):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def post(self, request):
        return TemplateResponse(request, "knowledge/_preview.html", {"body_html": render_markdown(request.POST.get("body", ""))})


class DiffView(ArticleMixin, View):
    """?a=<version>&b=<version|current>: the two texts side by side, changed lines marked."""

    def get(self, request, pk):
        article = self.article()
        versions = list(article.versions.select_related("saved_by").order_by("-number"))
        default_a = versions[0].number if versions else "current"
        try:
            old = services.text_of(article, request.GET.get("a") or default_a)
            new = services.text_of(article, request.GET.get("b") or "current")
        except ValidationError:
            raise Http404 from None
        ctx = {"rt": self.rt, "object": article, "old": old, "new": new, "versions": versions,
               "rows": services.diff_rows(old, new), "can": self.rights()}
        return TemplateResponse(request, "knowledge/article_diff.html", ctx)


class RestoreVersionView(ArticleMixin, View):
    def dispatch(self, request, *args, **kwargs):
        self.action = "edit"
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, pk, number):
        article = self.article()
        require(request.user, self.rt, "edit")
        try:
            services.restore_version(article, number, request.user)
        except ValidationError:
            raise Http404 from None
        messages.success(request, _("Version %(n)s restored: the text it replaced is kept as a version.") % {"n": number})
        return HttpResponseRedirect(self.rt.get_absolute_url(article))
