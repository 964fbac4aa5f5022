"""Search index for the survey list (kehu/core/search.py, issue 17): a search walked all surveys."""

from django.db import migrations

from kehu.core.search import search_index_operation


class Migration(migrations.Migration):
    atomic = False  # PostgreSQL builds the GIN indexes, SQLite fills the FTS table, outside one long transaction

    dependencies = [("surveys", "0001_initial")]
    operations = [search_index_operation("surveys_survey", ["summary", "email"])]
