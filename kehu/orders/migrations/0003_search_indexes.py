"""Search indexes for the quotation, order, contract, payment and invoice lists
(kehu/core/search.py): a search for a rare number or title walked every order in the list's order
(the orders benchmark at 100k customers: over budget)."""

from django.db import migrations

from kehu.core.search import search_index_operation


class Migration(migrations.Migration):
    atomic = False  # PostgreSQL builds the GIN indexes, SQLite fills the FTS tables, outside one long transaction

    dependencies = [("orders", "0002_money_contracts")]
    operations = [
        search_index_operation("orders_quotation", ["number", "title"]),
        search_index_operation("orders_order", ["number", "title"]),
        search_index_operation("orders_contract", ["number", "title"]),
        search_index_operation("orders_payment", ["number", "reference"]),
        search_index_operation("orders_invoice", ["number", "invoice_number", "title"]),
    ]
