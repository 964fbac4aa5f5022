"""A contact's data scope reads its own `owner` (always its customer's) instead of joining its
customer: the owners are brought in line once (a contact saved before `Contact.save` copied the
owner, or changed by hand in the database), then indexed for the list's sorts."""

from django.conf import settings
from django.db import migrations, models

ALIVE = models.Q(("deleted_at__isnull", True))


def owners_of_their_customers(apps, schema_editor):
    differs = "IS DISTINCT FROM" if schema_editor.connection.vendor == "postgresql" else "IS NOT"
    owner = "(SELECT c.owner_id FROM customers_customer c WHERE c.id = customers_contact.customer_id)"
    schema_editor.execute(f"UPDATE customers_contact SET owner_id = {owner} WHERE owner_id {differs} {owner}")


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0016_name_key"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(owners_of_their_customers, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(condition=ALIVE, fields=["owner", "id"], name="contact_owner_id_idx"),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(condition=ALIVE, fields=["owner", "name", "id"], name="contact_owner_name_idx"),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(condition=ALIVE, fields=["owner", "created_at", "id"], name="contact_owner_created_idx"),
        ),
    ]
