"""Search indexes for the follow-up and task lists (kehu/core/search.py, issue 17): a follow-up
search for a rare term walked all 5M follow-ups in the list's order."""

from django.db import migrations

from kehu.core.search import search_index_operation


class Migration(migrations.Migration):
    atomic = False  # PostgreSQL builds the GIN indexes, SQLite fills the FTS tables, outside one long transaction

    dependencies = [("activities", "0005_list_sort_indexes")]
    operations = [
        search_index_operation("activities_followup", ["topic", "content", "participants", "next_action"]),
        search_index_operation("activities_task", ["title", "description"]),
    ]
