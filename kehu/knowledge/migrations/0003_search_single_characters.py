"""Articles' `search_words` hold each Chinese character as well as each pair, and each pair of
adjacent latin letters or digits (" 北 ", " zh "): a one-character or two-letter search reads them
through the trigram index instead of testing every article's body."""

from django.db import migrations


def rebuild(apps, schema_editor):
    from kehu.knowledge.models import search_words_of

    Article = apps.get_model("knowledge", "Article")
    rows = Article._base_manager.order_by("pk").values_list("pk", "title", "tag_text", "body")
    batch = []
    for pk, title, tag_text, body in rows.iterator(chunk_size=500):
        batch.append(Article(pk=pk, search_words=search_words_of(title, tag_text, body)))
        if len(batch) == 500:
            Article._base_manager.bulk_update(batch, ["search_words"])
            batch = []
    if batch:
        Article._base_manager.bulk_update(batch, ["search_words"])


class Migration(migrations.Migration):

    dependencies = [("knowledge", "0002_article_search")]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
