"""Rebuild search_text with Chinese bigram words (see normalize.search_text)."""

from django.db import migrations


def rebuild(apps, schema_editor):
    from kehu.customers.normalize import search_text

    Customer = apps.get_model("customers", "Customer")
    Contact = apps.get_model("customers", "Contact")
    last = 0
    while True:
        batch = list(Customer.objects.filter(pk__gt=last).order_by("pk")[:2000])
        if not batch:
            return
        contacts: dict = {}
        for row in Contact.objects.filter(customer_id__in=[c.pk for c in batch], deleted_at__isnull=True).values_list(
                "customer_id", "name", "mobile", "phone", "email"):
            contacts.setdefault(row[0], []).append(row[1:])
        for c in batch:
            c.search_text = search_text(c.number, c.name, c.phone, c.email, contacts.get(c.pk, []))
        Customer.objects.bulk_update(batch, ["search_text"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_sqlite_search_fts")]
    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
