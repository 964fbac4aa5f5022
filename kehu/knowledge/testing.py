"""Test data builders of the knowledge base, shared by every app's tests (the service app's too)."""

import itertools

from django.utils import timezone

from .models import Article, ArticleCategory

_seq = itertools.count(1)


def make_article_category(name=None, parent=None) -> ArticleCategory:
    category = ArticleCategory(name=name or f"知识分类{next(_seq)}", parent=parent)
    category.full_clean()
    category.save()
    return category


def make_article(owner=None, title=None, *, body="", published=True, tags=(), **extra) -> Article:
    """A validated, saved article, published unless `published=False`; `tags`: its tag names."""
    n = next(_seq)
    article = Article(title=title or f"测试文章{n}", body=body or f"第 {n} 篇文章的正文。", owner=owner,
                      created_by=owner, updated_by=owner, **extra)
    if published:
        article.status, article.published_at = Article.Status.PUBLISHED, timezone.now()
    article.full_clean()
    article.save()
    if tags:
        article.set_tags(list(tags))
    return article
