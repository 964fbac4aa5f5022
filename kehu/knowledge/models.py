"""The knowledge base 知识库: articles in a category tree, their versions and the readers' votes.

An article's body is Markdown, shown through `kehu.core.markdown.render_markdown` (sanitized).
Every save that changes the title or the body keeps what it replaced as an `ArticleVersion` (who
saved that text and when), so edits can be compared and undone. Votes are one per user and article
(changeable); the article keeps their counts for its list and its ranking. `ArticleLink` (links.py)
ties an article to what it solved (a ticket, a customer).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.models import KehuModel, KehuQuerySet

ALIVE = Q(deleted_at__isnull=True)


class ArticleCategory(models.Model):
    """A node of the knowledge base's category tree (materialised path, as catalog.ProductCategory)."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("parent category"))
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    order = models.IntegerField(_("order"), default=0)

    class Meta:
        ordering = ["path"]
        verbose_name = _("article category")
        verbose_name_plural = _("article categories")
        indexes = [models.Index(fields=["order", "id"], name="kbcat_order_idx"),
                   models.Index(fields=["parent", "order", "id"], name="kbcat_parent_idx"),
                   models.Index(fields=["name", "id"], name="kbcat_name_idx")]

    def __str__(self):
        return self.name

    def clean(self):
        node = self.parent
        while node is not None:
            if self.pk and node.pk == self.pk:
                raise ValidationError({"parent": _("A category cannot be placed under itself.")})
            node = node.parent

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        path = (self.parent.path if self.parent else "") + f"{self.pk}/"
        if path != self.path:
            old = self.path
            ArticleCategory.objects.filter(pk=self.pk).update(path=path)
            self.path = path
            if old:  # move the subtree along
                for child in ArticleCategory.objects.filter(path__startswith=old).exclude(pk=self.pk):
                    ArticleCategory.objects.filter(pk=child.pk).update(path=path + child.path[len(old):])

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1

    def subtree_ids(self) -> list[int]:
        """This category's id and those of every category under it."""
        return list(ArticleCategory.objects.filter(path__startswith=self.path).values_list("pk", flat=True))


class ArticleQuerySet(KehuQuerySet):
    def published(self):
        return self.filter(status=Article.Status.PUBLISHED)


class ArticleManager(models.Manager.from_queryset(ArticleQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


LATIN_RUN = re.compile(r"[a-z0-9]+")


def latin_pairs(text: str) -> list[str]:
    """Every distinct pair of adjacent latin letters or digits of `text`, lower-case: Zhang 3G ->
    zh ha an ng 3g."""
    seen: dict[str, None] = {}
    for run in LATIN_RUN.findall((text or "").lower()):
        for i in range(len(run) - 1):
            seen.setdefault(run[i:i + 2], None)
    return list(seen)


def search_words_of(title: str, tag_text: str, body: str) -> str:
    """An article's `search_words` (Article.build_search_words; also migration 0003):
    each Chinese character, each pair of adjacent Chinese characters and each pair of adjacent
    latin letters or digits, as words (" 北 ", " 发票 ", " zh ")."""
    from kehu.customers.normalize import cjk_bigrams, cjk_unigrams

    text = " ".join([title or "", tag_text or "", (body or "")[:20000]])
    words = cjk_unigrams(text) + cjk_bigrams(text) + latin_pairs(text)
    return " " + " ".join(words) + " " if words else ""


class Article(KehuModel):
    """A knowledge-base article 知识库文章. Its owner is its author."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    class Audience(models.TextChoices):
        INTERNAL = "internal", _("Internal")
        SHAREABLE = "shareable", _("Shareable with customers")

    title = models.CharField(_("title"), max_length=200)
    # no index of its own: the list filters a category's subtree while it walks its order's index
    category = models.ForeignKey(ArticleCategory, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="articles", verbose_name=_("category"), db_index=False)
    body = models.TextField(_("body"), blank=True, help_text=_("Markdown: **bold**, # headings, - lists, [links](https://…)."))
    audience = models.CharField(_("audience"), max_length=12, choices=Audience.choices, default=Audience.INTERNAL)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    view_count = models.PositiveIntegerField(_("views"), default=0, editable=False)
    helpful_count = models.PositiveIntegerField(_("helpful"), default=0, editable=False)
    not_helpful_count = models.PositiveIntegerField(_("not helpful"), default=0, editable=False)
    # the tags' names, kept by set_tags: searched with the title and the body (one index)
    tag_text = models.TextField(editable=False, default="")
    # " 打印 印机 机卡 …": the distinct Chinese character pairs of the title, tags and body, each a word
    # of its own, so a two-character word (发票, 卡纸) is found through the trigram index as " 发票 "
    search_words = models.TextField(editable=False, default="")

    # the knowledge base is the company's: rights decide (and drafts only for editors: records.py)
    scope_owner_field = None

    objects = ArticleManager()

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        indexes = [
            models.Index(fields=["id"], name="article_alive_id_idx", condition=ALIVE),
            models.Index(fields=["title", "id"], name="article_title_idx", condition=ALIVE),
            models.Index(fields=["status", "id"], name="article_status_idx", condition=ALIVE),
            models.Index(fields=["audience", "id"], name="article_audience_idx", condition=ALIVE),
            models.Index(fields=["category", "id"], name="article_category_idx", condition=ALIVE),
            models.Index(fields=["owner", "id"], name="article_owner_idx", condition=ALIVE),
            models.Index(fields=["view_count", "id"], name="article_views_idx", condition=ALIVE),
            models.Index(fields=["helpful_count", "id"], name="article_helpful_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="article_created_idx", condition=ALIVE),
            models.Index(fields=["updated_at", "id"], name="article_updated_idx", condition=ALIVE),
            models.Index(fields=["published_at", "id"], name="article_published_idx", condition=ALIVE),
            models.Index(fields=["deleted_at"], name="article_deleted_idx", condition=Q(deleted_at__isnull=False)),
        ]

    def __str__(self):
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def clean(self):
        self.title = " ".join((self.title or "").split())
        if not self.title:
            raise ValidationError({"title": _("An article needs a title.")})

    def build_search_words(self) -> str:
        """Each Chinese character, each pair of adjacent ones and each pair of adjacent latin letters
        or digits of the title, tags and body, as words (" 北 ", " 发票 ", " zh "): a search of one or
        two Chinese characters or of two letters reads them through the trigram index, which a
        shorter term cannot use (ArticleFilterSet.search)."""
        return search_words_of(self.title, self.tag_text, self.body)

    def save(self, *args, **kwargs):
        """Keep the text this save replaces (title or body changed) as a version, in the same transaction."""
        from django.db import transaction

        self.search_words = self.build_search_words()
        if kwargs.get("update_fields") is not None and {"title", "body"} & set(kwargs["update_fields"]):
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {"search_words"}
        if self._state.adding or self.pk is None:
            return super().save(*args, **kwargs)
        fields = kwargs.get("update_fields")
        if fields is not None and not ({"title", "body"} & set(fields)):
            return super().save(*args, **kwargs)
        with transaction.atomic():
            old = (type(self).all_objects.filter(pk=self.pk)
                   .values("title", "body", "updated_by_id", "updated_at", "created_by_id").first())
            if old and (old["title"] != self.title or old["body"] != self.body):
                ArticleVersion.objects.create(
                    article_id=self.pk, number=ArticleVersion.next_number(self.pk), title=old["title"],
                    body=old["body"], saved_by_id=old["updated_by_id"] or old["created_by_id"],
                    saved_at=old["updated_at"])
            return super().save(*args, **kwargs)

    def set_tags(self, names):
        super().set_tags(names)
        text = " ".join(sorted({n.strip()[:50] for n in names if n and n.strip()}))
        self.tag_text = text
        # not an edit: no version, no change-log entry
        type(self).all_objects.filter(pk=self.pk).update(tag_text=text, search_words=self.build_search_words())


class ArticleVersion(models.Model):
    """A text an article had before a save replaced it: the title, the body, who saved it and when."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions",
                                verbose_name=_("article"))
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("saved by"))
    saved_at = models.DateTimeField(_("saved at"), default=timezone.now)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="knowledge_version_unique")]

    def __str__(self):
        return f"{self.article_id} v{self.number}"

    @staticmethod
    def next_number(article_id: int) -> int:
        last = (ArticleVersion.objects.filter(article_id=article_id).order_by("-number")
                .values_list("number", flat=True).first())
        return (last or 0) + 1


class ArticleVote(models.Model):
    """One user's vote on one article: helpful or not (changeable, one per user)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes", verbose_name=_("article"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("user"))
    helpful = models.BooleanField(_("helpful"))
    voted_at = models.DateTimeField(_("voted at"), default=timezone.now)

    class Meta:
        verbose_name = _("article vote")
        verbose_name_plural = _("article votes")
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="knowledge_vote_unique")]
        indexes = [models.Index(fields=["article", "helpful"], name="kbvote_article_idx")]

    def __str__(self):
        return f"{self.article_id}/{self.user_id}: {self.helpful}"


from .links import ArticleLink  # noqa: E402,F401  (a model of this app, defined beside its services)
