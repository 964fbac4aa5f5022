"""Each list request's filter set works on copies of its class's filters, one level deep
(kehu.core.filters.OwnCopyFilters): the copies and the form made from them are its own, and
nothing it sets reaches the class or another request's filter set."""

import pytest
from django.http import QueryDict

from kehu.core.registry import registry
from kehu.customers.testing import make_customer


@pytest.mark.django_db
def test_each_filter_set_has_its_own_filters_form_and_methods(org):
    rt = registry.get("customer")
    mine_a = make_customer(org.manager)
    make_customer(org.manager2)
    a = rt.filterset(QueryDict("mine=true"), queryset=rt.visible(org.manager), user=org.manager)
    b = rt.filterset(QueryDict("mine=true"), queryset=rt.visible(org.manager2), user=org.manager2)
    declared = rt.filterset.base_filters
    for name, f in a.filters.items():
        assert f is not declared[name] and f is not b.filters[name], name
        assert f.parent is a and b.filters[name].parent is b
        assert f.extra is not declared[name].extra
    # a method filter (`mine`) calls the filter set it belongs to: each user gets their own rows
    assert {c.pk for c in a.qs} == {mine_a.pk}
    assert mine_a.pk not in {c.pk for c in b.qs}
    # the form's fields are the filters' own fields, not copies of copies; another form's are others
    assert a.form.fields["owner"] is a.filters["owner"].field
    assert a.form.fields["owner"] is not b.form.fields["owner"]
    a.filters["owner"].extra["help_text"] = "只在这里"
    a.form.fields["owner"].widget.attrs["data-x"] = "1"
    c = rt.filterset(QueryDict(), queryset=rt.visible(org.admin), user=org.admin)
    assert "help_text" not in c.filters["owner"].extra and "help_text" not in declared["owner"].extra
    assert "data-x" not in c.form.fields["owner"].widget.attrs
    assert not hasattr(declared["owner"], "parent") and "_field" not in vars(declared["owner"])


@pytest.mark.django_db
def test_an_owner_is_checked_against_the_known_users(org):
    rt = registry.get("customer")
    ok = rt.filterset(QueryDict(f"owner={org.manager.pk}"), queryset=rt.visible(org.admin), user=org.admin)
    assert ok.is_valid(), ok.errors
    bad = rt.filterset(QueryDict("owner=987654"), queryset=rt.visible(org.admin), user=org.admin)
    assert not bad.is_valid() and "owner" in bad.errors
    junk = rt.filterset(QueryDict("owner=abc"), queryset=rt.visible(org.admin), user=org.admin)
    assert not junk.is_valid() and "owner" in junk.errors
