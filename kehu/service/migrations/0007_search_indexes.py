"""Search indexes for the ticket and feedback lists (kehu/core/search.py, issue 17): a ticket search
for a term in no ticket walked all 1.5M tickets in the list's order (150-300 ms on SQLite at 1M,
more for a supervisor's scope)."""

from django.db import migrations

from kehu.core.search import search_index_operation


class Migration(migrations.Migration):
    atomic = False  # PostgreSQL builds the GIN indexes, SQLite fills the FTS tables, outside one long transaction

    dependencies = [("service", "0006_queue_and_open_indexes")]
    operations = [
        search_index_operation("service_ticket", ["number", "summary"]),
        search_index_operation("service_feedback", ["content"]),
    ]
