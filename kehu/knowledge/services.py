"""The knowledge base's rules: votes, views, versions (diff, restore) and search (ranked, suggestions).

Search reuses core's indexed search (kehu/core/search.py): title, body and tag names of
`knowledge_article` are one FTS5 trigram table on SQLite and trigram GIN indexes on PostgreSQL
(migration 0002). Chinese needs no word segmentation: any run of three characters or more is found
through the trigrams, like the customers' and orders' search.
"""

from __future__ import annotations

import difflib
import math
import re

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils.translation import gettext as _

from kehu.core import search as core_search
from kehu.core.registry import registry

from .models import Article, ArticleVersion, ArticleVote

TABLE = "knowledge_article"
COLUMNS = ["title", "body", "tag_text", "search_words"]
MAX_TERMS = 16  # a free text gives at most this many index probes
TERM_PROBE = 300  # rows read per term; a term matching more is too common to tell articles apart
RANKED_ROWS = 50  # a list search shows the best this many, ranked (a page: 100 rows cost the page 20 ms)
RANK_POOL = 500  # ranked among this many most helpful matches, and the title hits
WEIGHTS = {"title": 3.0, "tag_text": 2.0, "body": 1.0}


# --- views and votes ------------------------------------------------------------------------------

def record_view(article) -> None:
    """One more view: a single `UPDATE … SET view_count = view_count + 1` (no version, no change log)."""
    Article.all_objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)
    article.view_count += 1


def vote(article, user, helpful: bool) -> ArticleVote:
    """The user's vote on a published article (one per user, changeable); the article's counts
    are recounted from the votes in the same transaction."""
    if not article.is_published:
        raise ValidationError({"helpful": _("Only published articles can be voted on.")})
    with transaction.atomic():
        row, _created = ArticleVote.objects.update_or_create(article=article, user=user,
                                                             defaults={"helpful": bool(helpful)})
        counts = ArticleVote.objects.filter(article=article).aggregate(
            yes=Count("id", filter=Q(helpful=True)), no=Count("id", filter=Q(helpful=False)))
        Article.all_objects.filter(pk=article.pk).update(helpful_count=counts["yes"], not_helpful_count=counts["no"])
    article.helpful_count, article.not_helpful_count = counts["yes"], counts["no"]
    return row


def vote_of(article, user) -> bool | None:
    return ArticleVote.objects.filter(article=article, user=user).values_list("helpful", flat=True).first()


# --- versions ------------------------------------------------------------------------------------------

class Text:
    """A text of an article to compare: a kept version or the current one."""

    def __init__(self, number, title, body, saved_by, saved_at, current=False):
        self.number, self.title, self.body = number, title, body
        self.saved_by, self.saved_at, self.current = saved_by, saved_at, current

    @classmethod
    def of_version(cls, v: ArticleVersion) -> Text:
        return cls(v.number, v.title, v.body, v.saved_by, v.saved_at)

    @classmethod
    def of_article(cls, article) -> Text:
        return cls(None, article.title, article.body, article.updated_by or article.created_by,
                   article.updated_at, current=True)


def text_of(article, number) -> Text:
    """Version `number` of the article ("current" or None: the article as it is)."""
    if number in (None, "", "current"):
        return Text.of_article(article)
    try:
        version = article.versions.select_related("saved_by").get(number=int(number))
    except (ValueError, ArticleVersion.DoesNotExist):
        raise ValidationError({"version": _("There is no such version of this article.")}) from None
    return Text.of_version(version)


def diff_rows(old: Text, new: Text) -> list[tuple]:
    """Side-by-side rows (kind, old line, new line) of the title and body, kinds equal / changed /
    removed / added; the lines are plain text (the template escapes them)."""
    a = [f"# {old.title}", "", *old.body.splitlines()]
    b = [f"# {new.title}", "", *new.body.splitlines()]
    rows = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [("equal", a[i], b[j]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
        elif tag == "replace":
            left, right = a[i1:i2], b[j1:j2]
            for k in range(max(len(left), len(right))):
                rows.append(("changed", left[k] if k < len(left) else None, right[k] if k < len(right) else None))
        elif tag == "delete":
            rows += [("removed", a[i], None) for i in range(i1, i2)]
        else:
            rows += [("added", None, b[j]) for j in range(j1, j2)]
    return rows


def unified_diff(old: Text, new: Text) -> str:
    """The API's diff: unified, plain text."""
    name = lambda t: _("current") if t.current else f"v{t.number}"  # noqa: E731
    a = [f"# {old.title}", "", *old.body.splitlines()]
    b = [f"# {new.title}", "", *new.body.splitlines()]
    return "\n".join(difflib.unified_diff(a, b, name(old), name(new), lineterm=""))


def restore_version(article, number: int, user):
    """Make version `number`'s title and body the article's again (the replaced text becomes a version)."""
    text = text_of(article, number)
    if text.title == article.title and text.body == article.body:
        return article
    article.title, article.body, article.updated_by = text.title, text.body, user
    article.save()
    return article


# --- search ------------------------------------------------------------------------------------------------

STOPWORDS = {"the", "and", "for", "with", "not", "can", "you", "how", "what", "when", "why", "does", "this",
             "that", "are", "was", "were", "has", "have", "had", "but", "from", "our", "your", "will", "please",
             "any", "all", "get", "got", "its", "into", "there", "they", "them", "who", "which", "after"}
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*[A-Za-z0-9]|[A-Za-z0-9]")


# characters that make a pair of Chinese characters say nothing of the subject (的, 了, 怎么…)
STOP_CHARS = set("的了是在我你他她它们也和就都吗呢吧啊么这那有个一不没很还要会能可以请帮忙您好谢")


def terms_of(text: str, limit: int = MAX_TERMS) -> list[str]:
    """The search terms of a free text (a ticket's summary and request), at most `limit`: each pair
    of adjacent Chinese characters (the commonest word length; a pair with a function character
    such as 的 or 了 is left out) as the word " 发票 " that the articles' `search_words` hold, and the
    Latin words of three characters or more (not the commonest English words). Chinese pairs and
    words are taken in turn, in the order of the text, so neither crowds the other out."""
    text = (text or "")[:4000]
    cjk: dict[str, None] = {}
    for run in CJK.findall(text):
        for i in range(len(run) - 1):
            pair = run[i:i + 2]
            if not (STOP_CHARS & set(pair)):
                cjk.setdefault(f" {pair} ", None)
    latin: dict[str, None] = {}
    for w in WORD.findall(text):
        if len(w) >= 3 and w.lower() not in STOPWORDS:
            latin.setdefault(w.lower(), None)
    a, b = list(cjk), list(latin)
    mixed = [t for pair in zip(a, b, strict=False) for t in pair] + a[len(b):] + b[len(a):]
    return mixed[:limit]


def _visible_published(user):
    return registry.get("article").visible(user).filter(status=Article.Status.PUBLISHED)


def suggest_articles(text: str, user, limit: int = 5) -> list[Article]:
    """The published articles most relevant to `text` that `user` may read, best first.

    Each term is probed through the search index (at most MAX_TERMS probes of TERM_PROBE rows);
    a term found in TERM_PROBE rows or more tells nothing and is dropped. An article scores, for
    each term it holds, the term's rarity (1/√rows) times where it holds it: title 3, tags 2, body 1.
    The candidates (at most 200) are then read once, in the user's scope, published only."""
    if not user.has_right("article", "view"):
        return []
    terms = terms_of(text)
    if not terms:
        return []
    found: dict[int, list[tuple[str, float]]] = {}
    probes = probe_many([(term, ["search_words"] if term.startswith(" ") else ["title", "body", "tag_text"])
                         for term in terms], TERM_PROBE)
    for term, ids in zip(terms, probes, strict=True):
        if not ids or len(ids) >= TERM_PROBE:
            continue
        rarity = 1 / math.sqrt(len(ids))
        for pk in ids:
            found.setdefault(pk, []).append((term, rarity))
    if not found:
        return []
    best = sorted(found, key=lambda pk: (-sum(r for _t, r in found[pk]), -pk))[:200]
    # the candidates' title, tags and votes only (their bodies: 25 ms for 200 articles), then the
    # best `limit` in full
    rows = list(_visible_published(user).filter(pk__in=best).values_list("id", "title", "tag_text", "helpful_count"))

    def score(row) -> float:
        pk, title, tags = row[0], row[1].lower(), row[2].lower()
        total = 0.0
        for term, rarity in found[pk]:
            t = term.strip().lower()
            where = "title" if t in title else "tag_text" if t in tags else "body"
            total += rarity * WEIGHTS[where]
        return total

    rows.sort(key=lambda row: (-score(row), -row[3], -row[0]))
    top = [row[0] for row in rows[:limit]]
    articles = Article.objects.select_related("category").in_bulk(top)
    return [articles[pk] for pk in top if pk in articles]


def probe(term: str, columns: list[str], limit: int) -> list[int]:
    """Ids of up to `limit` articles (alive) with `term` (3+ characters) in one of `columns`, read
    through those columns' part of the search index: an FTS5 column filter on SQLite, the columns'
    trigram indexes on PostgreSQL (core's probe reads every column: a Chinese pair " 发票 " is only
    in `search_words`, and reading the bodies' index for it cost PostgreSQL 30 ms a term)."""
    return probe_many([(term, columns)], limit)[0]


def probe_many(probes: list[tuple[str, list[str]]], limit: int) -> list[list[int]]:
    """`probe` for each (term, columns), on one cursor. PostgreSQL: one transaction for all, for its
    `SET LOCAL enable_seqscan = off`; SQLite: no transaction (a transaction per probe was a
    BEGIN IMMEDIATE, the database's write lock, twelve times for one ticket page)."""
    out: list[list[int]] = [[] for _p in probes]
    todo = [(i, term, columns) for i, (term, columns) in enumerate(probes) if len(term) >= core_search.MIN_TERM]
    if not todo or connection.vendor not in ("sqlite", "postgresql"):
        return out
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for i, term, columns in todo:
                phrase = "{" + " ".join(columns) + '} : "' + term.replace('"', '""') + '"'
                cursor.execute(f"SELECT rowid FROM {TABLE}_fts WHERE {TABLE}_fts MATCH %s LIMIT %s", [phrase, limit])
                out[i] = [row[0] for row in cursor.fetchall()]
        return out
    # as core's probe: the trigram index, not a walk, in this process
    with core_search.pg_planned(seqscan=False, parallel=False), connection.cursor() as cursor:
        for i, term, columns in todo:
            ors = " OR ".join(f"UPPER({c}::text) LIKE UPPER({core_search.OPAQUE})" for c in columns)
            cursor.execute(f"SELECT id FROM {TABLE} WHERE deleted_at IS NULL AND ({ors}) LIMIT %s",
                           [*[core_search.like_pattern(term)] * len(columns), limit])
            out[i] = [row[0] for row in cursor.fetchall()]
    return out


def title_ids(term: str, limit: int = 1000) -> list[int]:
    """Ids of up to `limit` articles whose title contains `term` (3+ characters), through the index."""
    return probe(term, ["title"], limit)


def rank(queryset, q: str, limit: int = RANKED_ROWS, unsearched=None) -> list[Article]:
    """The best `limit` articles of `queryset` (a list's search result for `q`), ranked: title hits
    first, then tag hits, then the rest; among equals the most helpful, then the newest.
    `unsearched`: the same list without the search (its scope and other filters), if the caller has it.

    Never a sort of every match: the RANK_POOL most helpful matches (the helpful-count index walked
    until enough rows match: a common term fills it after a few rows), and the title hits (the
    title's search index), which then rank first even when they are not among the most helpful.
    A term under three characters has no index: its matches are first read in the table's order,
    and when there are at most RANK_POOL of them they are the pool. A rare one walked the
    helpful-count index through the whole table, a random read per article (20,000 articles: 39 ms;
    in the table's order: 20 ms)."""
    q = q.strip()
    needle = q.lower()
    fields = ("id", "title", "tag_text", "helpful_count")  # tuples: 1,000 model instances cost 10 ms
    queryset = queryset.select_related(None).prefetch_related(None)
    from .forms import is_stored_word

    few = None
    if len(q) < core_search.MIN_TERM and not is_stored_word(q):  # no index: the condition is tested per row
        few = list(queryset.order_by("pk").values_list(*fields)[:RANK_POOL + 1])
    if few is not None and len(few) <= RANK_POOL:
        pool = {row[0]: row for row in few}
    else:
        pool = {row[0]: row for row in queryset.order_by("-helpful_count", "-id").values_list(*fields)[:RANK_POOL]}
    # the title hits not in the pool yet, read from `unsearched` when given: a title hit matches the
    # search anyway, and beside the search's own id list PostgreSQL planned `id IN (1,900 ids) AND
    # id IN (500 ids)` as a walk of every article (打印机: 12 ms; from the title hits alone: 2)
    titled = [pk for pk in title_ids(q) if pk not in pool][:RANK_POOL]
    if titled:
        from kehu.core.filters import IdList

        source = queryset if unsearched is None else unsearched.select_related(None).prefetch_related(None)
        pool.update((row[0], row) for row in source.filter(pk__in=IdList(titled)).values_list(*fields))

    def key(row):
        pk, title, tags, helpful = row
        where = 0 if needle in title.lower() else 1 if needle in tags.lower() else 2
        return (where, -helpful, -pk)

    best = [row[0] for row in sorted(pool.values(), key=key)[:limit]]
    rows = queryset.model._default_manager.select_related("category").in_bulk(best)
    return [rows[pk] for pk in best if pk in rows]


def search_articles(q: str, user, limit: int = RANKED_ROWS) -> list[Article]:
    """The list's search for `q` among the articles `user` may read, ranked (see `rank`)."""
    from kehu.core.filters import list_queryset

    rt = registry.get("article")
    _fs, qs = list_queryset(rt, user, {"q": q})
    return rank(qs, q, limit, unsearched=rt.visible(user))

