"""Search indexes for the campaign and campaign-member lists (kehu/core/search.py). Without them a
member search walked every member joined to its customer and campaign in the list's order: 0.4-0.9 s
at 500,000 members (the bench's 1M set, PostgreSQL), whatever the term."""

from django.db import migrations

from kehu.core.search import search_index_operation


class Migration(migrations.Migration):
    atomic = False  # PostgreSQL builds the GIN indexes, SQLite fills the FTS tables, outside one long transaction

    dependencies = [("campaigns", "0001_initial")]
    operations = [
        search_index_operation("campaigns_campaign", ["number", "name"]),
        search_index_operation("campaigns_campaignmember", ["notes"]),
    ]
