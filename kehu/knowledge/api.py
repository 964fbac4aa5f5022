"""The knowledge base's API beyond the generic CRUD of /api/v1/articles/: suggestions, votes,
versions, a diff and restoring a version (ArticleType.extend_api)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import Query, Schema

from kehu.core.api_input import StrictIn


class SuggestionOut(Schema):
    id: int
    title: str
    category: int | None
    audience: str
    helpful_count: int
    url: str


class VoteIn(StrictIn):
    helpful: bool


class VoteOut(Schema):
    helpful: bool | None
    helpful_count: int
    not_helpful_count: int


class VersionOut(Schema):
    number: int
    title: str
    saved_by: int | None
    saved_at: datetime


class VersionDetailOut(VersionOut):
    body: str


class DiffOut(Schema):
    a: str
    b: str
    diff: str


class SuggestQuery(Schema):
    text: str
    limit: int = 5


def extend(router, rt, Out):
    from kehu.core.api import get_visible, require, serialize

    from . import services

    @router.get("/suggest", response=list[SuggestionOut], operation_id="article_suggest",
                summary="The published articles most relevant to a free text (a ticket's summary and request), "
                        "best first; Chinese and English")
    def suggest(request, query: Query[SuggestQuery]):
        require(request, rt, "view")
        if not 1 <= query.limit <= 20:
            raise ValidationError({"limit": ["Between 1 and 20."]})
        articles = services.suggest_articles(query.text, request.auth, limit=query.limit)
        return [{"id": a.pk, "title": a.title, "category": a.category_id, "audience": a.audience,
                 "helpful_count": a.helpful_count, "url": rt.get_absolute_url(a)} for a in articles]

    @router.get("/{int:pk}/vote", response=VoteOut, operation_id="article_my_vote")
    def my_vote(request, pk: int):
        require(request, rt, "view")
        article = get_visible(request, rt, pk)
        return {"helpful": services.vote_of(article, request.auth), "helpful_count": article.helpful_count,
                "not_helpful_count": article.not_helpful_count}

    @router.put("/{int:pk}/vote", response=VoteOut, operation_id="article_vote",
                summary="The caller's vote (one per user and article; voting again changes it)")
    def put_vote(request, pk: int, payload: VoteIn):
        require(request, rt, "view")
        article = get_visible(request, rt, pk)
        services.vote(article, request.auth, payload.helpful)
        return {"helpful": payload.helpful, "helpful_count": article.helpful_count,
                "not_helpful_count": article.not_helpful_count}

    def version_out(v) -> dict:
        return {"number": v.number, "title": v.title, "saved_by": v.saved_by_id, "saved_at": v.saved_at}

    @router.get("/{int:pk}/versions", response=list[VersionOut], operation_id="article_versions",
                summary="The texts the article had before each edit, newest first")
    def versions(request, pk: int):
        require(request, rt, "view")
        article = get_visible(request, rt, pk)
        return [version_out(v) for v in article.versions.order_by("-number")[:500]]

    @router.get("/{int:pk}/versions/{int:number}", response=VersionDetailOut, operation_id="article_version")
    def version(request, pk: int, number: int):
        require(request, rt, "view")
        article = get_visible(request, rt, pk)
        v = article.versions.filter(number=number).first()
        if v is None:
            raise Http404
        return {**version_out(v), "body": v.body}

    @router.get("/{int:pk}/diff", response=DiffOut, operation_id="article_diff",
                summary="A unified diff between two versions (a, b: a version number or 'current')")
    def diff(request, pk: int, a: str, b: str = "current"):
        require(request, rt, "view")
        article = get_visible(request, rt, pk)
        old, new = services.text_of(article, a), services.text_of(article, b)  # 422 naming `version`
        return {"a": a, "b": b, "diff": services.unified_diff(old, new)}

    @router.post("/{int:pk}/versions/{int:number}/restore", response=Out, operation_id="article_restore_version",
                 summary="Make a version's title and body the article's again (the replaced text is kept)")
    def restore(request, pk: int, number: int):
        require(request, rt, "edit")
        article = get_visible(request, rt, pk)
        return serialize(rt, services.restore_version(article, number, request.auth))
