"""Record forms read a chosen foreign key once (kehu/core/forms.py): the form's ModelChoiceField
reads the row from its (scoped) queryset, and the model's own validation does not read it again,
unless a constraint names the field; rows preloaded for many forms are not read at all."""

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.core.forms import KehuFormMixin, PreloadedModelChoiceField, constrained_fields, preload_rows
from kehu.customers.models import Contact, Customer
from kehu.customers.testing import make_customer

pytestmark = pytest.mark.django_db


class ContactForm(KehuFormMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["customer", "name"]


def test_a_chosen_customer_is_read_once(org):
    customer = make_customer(org.manager)
    with CaptureQueriesContext(connection) as ctx:
        form = ContactForm({"customer": str(customer.pk), "name": "王芳"})
        assert form.is_valid(), form.errors
    reads = [q["sql"] for q in ctx.captured_queries if '"customers_customer"' in q["sql"]]
    assert len(reads) == 1, reads  # the field's get(); no second `SELECT 1 ... WHERE id = ...`


def test_an_unknown_or_deleted_customer_is_still_refused(org):
    customer = make_customer(org.manager)
    customer.soft_delete(org.manager)  # in the base manager (the model's check) but not the form's choices
    for value in (str(customer.pk), "987654321", "x"):
        form = ContactForm({"customer": value, "name": "王芳"})
        assert not form.is_valid() and "customer" in form.errors, value


def test_a_field_named_by_a_constraint_keeps_the_models_check():
    from kehu.orders.models import Instalment

    assert {"order", "contract"} <= constrained_fields(Instalment)
    assert "customer" not in constrained_fields(Contact)


def test_both_documents_of_an_instalment_are_refused_by_the_form_not_the_database(org):
    """The instalment's check constraint (an order or a contract, not both) names both foreign keys:
    the form still validates it, so the user gets a message, not an IntegrityError."""
    from kehu.orders.contract_testing import make_contract
    from kehu.orders.models import Instalment
    from kehu.orders.testing import make_order

    class InstalmentForm(KehuFormMixin, forms.ModelForm):
        class Meta:
            model = Instalment
            fields = ["order", "contract", "due_on", "amount"]

    order = make_order(org.manager)
    contract = make_contract(org.manager)
    form = InstalmentForm({"order": order.pk, "contract": contract.pk, "due_on": "2026-12-31", "amount": "10.00"})
    assert not form.is_valid()
    assert "order" not in form._get_validation_exclusions()
    form = InstalmentForm({"order": order.pk, "due_on": "2026-12-31", "amount": "10.00"})
    assert form.is_valid(), form.errors


def test_preloaded_rows_answer_without_a_query_and_others_fall_back(org):
    a, b, c = (make_customer(org.manager) for _ in range(3))

    class Form(KehuFormMixin, forms.Form):
        customer = PreloadedModelChoiceField(Customer.objects.all())

    with CaptureQueriesContext(connection) as ctx:
        rows = preload_rows(Customer.objects.all(), [a.pk, str(b.pk), "junk", None, 10**30])
    assert set(rows) == {a.pk, b.pk} and len(ctx.captured_queries) == 1
    with CaptureQueriesContext(connection) as ctx:
        for customer in (a, b):
            form = Form({"customer": str(customer.pk)})
            form.fields["customer"].preloaded = rows
            assert form.is_valid() and form.cleaned_data["customer"] == customer
    assert ctx.captured_queries == []
    form = Form({"customer": str(c.pk)})  # not preloaded: read from the queryset
    form.fields["customer"].preloaded = rows
    assert form.is_valid() and form.cleaned_data["customer"] == c
    form = Form({"customer": "987654321"})
    form.fields["customer"].preloaded = rows
    assert not form.is_valid()


class CustomerDictForm(KehuFormMixin, forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["name", "industry", "level"]


def test_dictionary_values_are_offered_and_checked_from_the_cache(org):
    """A dictionary field (`dict_fk`) renders and validates from the dictionary's cache: no query
    per field and form (a customer's edit page read six lists). The rule stays the model field's:
    an active value of the field's own list; a value of another list or a deactivated one is
    refused as an invalid choice."""
    from kehu.core import dictionary
    from kehu.core.forms import DictItemChoiceField
    from kehu.core.models import DictItem

    industries = list(DictItem.objects.filter(kind="industry", active=True).order_by("order", "id"))
    retired = DictItem.objects.create(kind="industry", code="zz_retired", label="旧行业", order=-5, active=False)
    level = DictItem.objects.filter(kind="customer_level", active=True).first()
    dictionary.items_by_id()  # warm, as it is after the first page
    with CaptureQueriesContext(connection) as ctx:
        form = CustomerDictForm(instance=Customer(owner=org.manager))
        field = form.fields["industry"]
        assert isinstance(field, DictItemChoiceField)
        offered = [value for value, _label in field.choices if value != ""]
        html = str(form["industry"])
        ok = CustomerDictForm({"name": "字典缓存有限公司", "industry": industries[0].pk, "level": level.pk},
                              instance=Customer(owner=org.manager))
        assert ok.is_valid(), ok.errors
    assert [int(str(v)) for v in offered] == [i.pk for i in industries]  # the list's order, active only
    assert f'value="{industries[0].pk}"' in html and f'value="{retired.pk}"' not in html
    assert ok.cleaned_data["industry"] == industries[0]
    assert not [q for q in ctx.captured_queries if "core_dictitem" in q["sql"]], ctx.captured_queries
    for wrong in (retired.pk, level.pk, "x", True, 987654321):
        form = CustomerDictForm({"name": "字典缓存有限公司", "industry": wrong}, instance=Customer(owner=org.manager))
        assert not form.is_valid(), wrong
        assert [e.code for e in form.errors.as_data()["industry"]] == ["invalid_choice"], wrong


def test_a_dictionary_value_added_after_the_cache_was_filled_is_accepted(org):
    from kehu.core import dictionary
    from kehu.core.models import DictItem

    new = DictItem.objects.create(kind="industry", code="zz_new", label="新行业")
    try:  # the cache as another process holds it, filled before the value was added
        dictionary._cache["items"] = {pk: item for pk, item in dictionary.items_by_id().items() if pk != new.pk}
        dictionary._cache["at"] = float("inf")
        form = CustomerDictForm({"name": "新行业有限公司", "industry": new.pk}, instance=Customer(owner=org.manager))
        assert form.is_valid(), form.errors
        assert form.cleaned_data["industry"] == new
    finally:
        dictionary._cache["at"] = 0.0


def test_a_form_that_narrows_a_dictionary_field_keeps_its_own_choices(org):
    from kehu.core.models import DictItem

    first, second = DictItem.objects.filter(kind="industry", active=True).order_by("order", "id")[:2]

    class Narrow(CustomerDictForm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["industry"].queryset = DictItem.objects.filter(pk=first.pk)

    form = Narrow(instance=Customer(owner=org.manager))
    assert [int(str(v)) for v, _label in form.fields["industry"].choices if v != ""] == [first.pk]
    form = Narrow({"name": "窄字典有限公司", "industry": second.pk}, instance=Customer(owner=org.manager))
    assert not form.is_valid() and "industry" in form.errors
