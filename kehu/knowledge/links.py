"""What an article solved: a generic link from an article to any record (a ticket, a customer).

The ticket page (kehu/service, merged later) links an article in one click with `link()`, and the
article page lists the records it solved that the reader may see (`objects_solved`).

    from kehu.knowledge.links import link, unlink, links_for, objects_solved
    link(article, ticket, user)          # once per (article, record): a second call changes nothing
    links_for(ticket)                    # [ArticleLink, ...] newest first, their articles loaded
    objects_solved(article, user)        # the linked records inside the user's data scope
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ArticleLink(models.Model):
    article = models.ForeignKey("knowledge.Article", on_delete=models.CASCADE, related_name="links",
                                verbose_name=_("article"))
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    linked_object = GenericForeignKey("content_type", "object_id")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("linked by"))
    linked_at = models.DateTimeField(_("linked at"), default=timezone.now)

    class Meta:
        app_label = "knowledge"
        verbose_name = _("article link")
        verbose_name_plural = _("article links")
        constraints = [models.UniqueConstraint(fields=["article", "content_type", "object_id"],
                                               name="knowledge_link_unique")]
        indexes = [models.Index(fields=["content_type", "object_id"], name="kblink_object_idx")]

    def __str__(self):
        return f"{self.article_id} → {self.content_type_id}:{self.object_id}"


def link(article, obj, user) -> ArticleLink:
    """Link `article` to `obj` (once: linking again returns the existing link)."""
    ct = ContentType.objects.get_for_model(type(obj))
    existing = ArticleLink.objects.filter(article=article, content_type=ct, object_id=obj.pk).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return ArticleLink.objects.create(article=article, content_type=ct, object_id=obj.pk, linked_by=user)
    except IntegrityError:  # linked by someone else meanwhile
        return ArticleLink.objects.get(article=article, content_type=ct, object_id=obj.pk)


def unlink(article, obj, user=None) -> bool:
    """Remove the link between `article` and `obj`; True when there was one."""
    ct = ContentType.objects.get_for_model(type(obj))
    deleted, _rows = ArticleLink.objects.filter(article=article, content_type=ct, object_id=obj.pk).delete()
    return bool(deleted)


def links_for(obj) -> list[ArticleLink]:
    """The links to `obj`, newest first, with their (alive) articles."""
    ct = ContentType.objects.get_for_model(type(obj))
    return list(ArticleLink.objects.filter(content_type=ct, object_id=obj.pk, article__deleted_at__isnull=True)
                .select_related("article", "linked_by").order_by("-linked_at", "-id"))


def objects_solved(article, user, limit: int = 50) -> list:
    """The records linked to `article` that `user` may see: per record type, the view right and
    the record type's data scope (`visible(user)`); records of a model with no record type are left out."""
    from kehu.core.registry import registry

    by_type: dict[int, list[int]] = {}
    for ct_id, object_id in (ArticleLink.objects.filter(article=article).order_by("-linked_at", "-id")
                             .values_list("content_type_id", "object_id")[:1000]):
        by_type.setdefault(ct_id, []).append(object_id)
    found = []
    for ct_id, ids in by_type.items():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        rt = registry.for_model(model) if model is not None else None
        if rt is None or not user.has_right(rt.module, "view"):
            continue
        rows = rt.visible(user).in_bulk(ids)
        found += [rows[i] for i in ids if i in rows]
    return found[:limit]
