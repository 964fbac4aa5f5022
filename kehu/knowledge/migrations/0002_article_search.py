"""The articles' search index: title, body, tag names and Chinese character pairs (kehu/core/search.py)."""

from django.db import migrations

from kehu.core.search import search_index_operation


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]
    operations = [search_index_operation("knowledge_article", ["title", "body", "tag_text", "search_words"])]
