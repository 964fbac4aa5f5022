"""The Python <select> of kehu.core.widgets.FormRenderer writes what Django's templates write."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates

from kehu.core.widgets import FormRenderer


class Sample(forms.Form):
    plain = forms.ChoiceField(choices=[("", "---------"), ("a", "Alpha"), ("b", 'B & "quoted" <b>')])
    grouped = forms.ChoiceField(choices=[("水果", [("apple", "苹果"), ("pear", "梨")]), ("x", "其他")])
    many = forms.MultipleChoiceField(choices=[(1, "one"), (2, "two"), (3, "three")])
    flag = forms.NullBooleanField()
    styled = forms.ChoiceField(choices=[("1", "一")], widget=forms.Select(
        attrs={"class": "form-select", "hx-get": "/x/?a=1&b=2", "disabled": True, "hidden": False}))


@pytest.mark.parametrize("data", [{}, {"plain": "b", "grouped": "pear", "many": ["1", "3"], "flag": "true",
                                       "styled": "1"}])
def test_select_html_matches_django_templates(data):
    fast, django = Sample(data or None, renderer=FormRenderer()), Sample(data or None, renderer=DjangoTemplates())
    for name in Sample.base_fields:
        assert str(fast[name]) == str(django[name]), name
    assert 'selected' in str(fast["grouped"]) or not data
    assert "B &amp; &quot;quoted&quot; &lt;b&gt;" in str(fast["plain"])


def test_every_form_uses_the_fast_renderer(settings):
    from django.forms.renderers import get_default_renderer

    get_default_renderer.cache_clear()
    try:
        assert isinstance(get_default_renderer(), FormRenderer)
    finally:
        get_default_renderer.cache_clear()
