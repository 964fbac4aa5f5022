from kehu.core.audit import register

from .models import Article

# derived columns stay out of the change log: the search words (from the title, tags and body) and
# the counters, written by queryset updates anyway
register(Article, exclude=("search_words", "tag_text", "view_count", "helpful_count", "not_helpful_count"))
