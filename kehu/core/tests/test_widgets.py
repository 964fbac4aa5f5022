"""The Python <select> of kehu.core.widgets.FormRenderer writes what Django's templates write."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates

from kehu.core.widgets import FormRenderer, QuickSelect


class Sample(forms.Form):
    plain = forms.ChoiceField(choices=[("", "---------"), ("a", "Alpha"), ("b", 'B & "quoted" <b>')])
    grouped = forms.ChoiceField(choices=[("水果", [("apple", "苹果"), ("pear", "梨")]), ("x", "其他")])
    many = forms.MultipleChoiceField(choices=[(1, "one"), (2, "two"), (3, "three")])
    flag = forms.NullBooleanField()
    text = forms.CharField(widget=forms.TextInput(attrs={"placeholder": 'a "b" <c>', "required": True}))
    day = forms.DateField(widget=forms.DateInput(attrs={"class": "form-control"}))
    count = forms.IntegerField()
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True))
    hidden = forms.CharField(widget=forms.HiddenInput)
    box = forms.BooleanField()
    mail = forms.EmailField()
    styled = forms.ChoiceField(choices=[("1", "一")], widget=forms.Select(
        attrs={"class": "form-select", "hx-get": "/x/?a=1&b=2", "disabled": True, "hidden": False}))


@pytest.mark.parametrize("data", [{}, {"plain": "b", "grouped": "pear", "many": ["1", "3"], "flag": "true",
                                       "styled": "1", "text": '<x> & "y"', "day": "2026-12-03",
                                       "count": "12", "secret": "p&w", "hidden": "h", "box": "on",
                                       "mail": "a@b.cn"}])
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


class Quick(forms.Form):
    who = forms.ChoiceField(choices=[("", "---------"), (1, "张三"), (2, 'B & "quoted" <b>'), (3, "three")])
    styled = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], required=False,
                               widget=forms.Select(attrs={"class": "form-select form-select-sm"}))


@pytest.mark.parametrize("data", [{}, {"who": "2", "styled": "b"}, {"who": "9"}])
def test_quick_select_matches_django_select(data):
    django = Quick(data or None, renderer=DjangoTemplates())
    quick = Quick(data or None, renderer=DjangoTemplates())
    for name in Quick.base_fields:
        widget = quick.fields[name].widget
        quick.fields[name].widget = QuickSelect(attrs=widget.attrs, choices=widget.choices)
        assert str(quick[name]) == str(django[name]), name
    if data.get("who") == "2":
        assert '<option value="2" selected>B &amp; &quot;quoted&quot; &lt;b&gt;</option>' in str(quick["who"])


@pytest.mark.django_db
@pytest.mark.parametrize("given,selected", [(None, ""), ("true", "true"), ("false", "false")])
def test_a_boolean_filter_offers_any_yes_no_not_unknown(given, selected):
    """A list's yes/no filter starts at "---------" (any) like its other selects; "Unknown" (未知)
    read as a value to filter on."""
    from django.utils import translation

    from kehu.sales.forms import OpportunityFilterSet

    with translation.override("zh-hans"):
        html = str(OpportunityFilterSet({"open": given} if given else {}).form["open"])
    assert "未知" not in html and 'value="unknown"' not in html
    assert '>---------</option>' in html and "是" in html and "否" in html
    assert f'<option value="{selected}" selected>' in html


@pytest.mark.django_db
def test_a_model_choice_select_lists_its_options_with_one_select():
    """Django reads a model choice field's options through QuerySet.iterator(), a server-side
    cursor on PostgreSQL (DECLARE, FETCH, CLOSE), after a COUNT when list() asks their length:
    ~3 ms of every opportunity list page. Kehu's iterator reads them with one SELECT, for forms
    and filter sets alike, and the options are the same."""
    import django_filters
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kehu.sales.models import Stage

    stages = list(Stage.objects.all())
    assert len(stages) >= 3

    class Filters(django_filters.FilterSet):
        stage = django_filters.ModelChoiceFilter(queryset=Stage.objects.all(), widget=QuickSelect, null_label="无")

        class Meta:
            model = Stage
            fields = []

    class Form(forms.Form):
        stage = forms.ModelChoiceField(queryset=Stage.objects.all())

    for bound in (Filters({"stage": str(stages[1].pk)}).form["stage"], Form({"stage": stages[1].pk})["stage"]):
        assert not bound.form.errors  # validated first: its one read of the chosen stage is not the options'
        with CaptureQueriesContext(connection) as queries:
            html = str(bound)
        sql = [q["sql"] for q in queries.captured_queries]
        assert len(sql) == 1 and sql[0].lstrip().startswith("SELECT") and "COUNT" not in sql[0], sql
        for stage in stages:
            assert f'value="{stage.pk}"' in html and str(stage) in html
        assert html.count("selected") == 1 and f'value="{stages[1].pk}" selected' in html
    assert '<option value="null">无</option>' in str(Filters().form["stage"])
