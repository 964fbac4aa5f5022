"""Choosing a list's columns (?columns=...) shows them and remembers them for the user."""

import pytest

from kehu.accounts.models import User
from kehu.customers.testing import make_customer


@pytest.mark.django_db
def test_chosen_columns_are_shown_and_remembered(client, org):
    client.force_login(org.manager)
    r = client.get("/customers/?columns=name&columns=last_activity_at")
    assert r.status_code == 200
    assert User.objects.get(pk=org.manager.pk).preferences["columns"]["customer"] == ["name", "last_activity_at"]
    html = client.get("/customers/").content.decode()  # remembered without the parameter
    head = html[html.index("<thead>"):html.index("</thead>")]
    assert "sort=-last_activity_at" in head and "sort=-number" not in head
    # the number (the usual link) is not shown: the first column opens the record
    customer = make_customer(org.manager, name="链接测试有限公司")
    html = client.get("/customers/").content.decode()
    assert f'<a href="/customers/{customer.pk}/">链接测试有限公司</a>' in html


def test_a_choice_column_shows_what_get_display_shows_for_every_record_type_and_language():
    """Column.value reads a choice field's label from a kept map (kehu.core.registry.choice_labels)
    instead of get_<field>_display(): the same label for every value of every choice field of every
    record type, in both languages; a model's own display method is still called."""
    from django.utils import translation

    from kehu.core.registry import Column, choice_labels, registry

    checked = 0
    for rt in registry.all():
        for field in rt.model._meta.concrete_fields:
            if not field.choices or choice_labels(rt.model, field.name) is None:
                continue
            for value, _label in [*field.flatchoices, ("not-a-choice", "")]:
                obj = rt.model(**{field.attname: value})
                for language in ("en", "zh-hans"):
                    with translation.override(language):
                        shown = Column(field.name, "").value(obj)
                        assert shown == getattr(obj, f"get_{field.name}_display")(), (rt.key, field.name, value)
                        assert isinstance(shown, str) or shown == value
                checked += 1
    assert checked > 50

    from kehu.orders.models import Order  # its own get_payment_status_display (a derived state)

    assert choice_labels(Order, "payment_status") is None
    order = Order()
    assert Column("payment_status", "").value(order) == order.get_payment_status_display()
