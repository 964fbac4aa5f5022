"""The base FilterSet: one per record type, serving UI lists, the API and exports alike.

Every filter set understands `q` (free-text search), `tag`, `owner`, `mine`, `created_after`,
`created_before` and a `cf_<name>` filter per custom field.
"""

import django_filters
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import TaggedItem


class KehuFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    tag = django_filters.CharFilter(method="filter_tag", label=_("Tag"))
    owner = django_filters.NumberFilter(field_name="owner_id", label=_("Owner"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("Mine only"))
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("Created from"))
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("Created to"))

    search_fields: list[str] = []
    primary: list[str] = ["owner", "tag"]  # shown at once; the others under "More filters"

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        from .customfields import add_filters

        add_filters(self, self._meta.model._meta.label_lower)

    def search(self, queryset, name, value):
        value = (value or "").strip()
        if not value or not self.search_fields:
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)

    def filter_tag(self, queryset, name, value):
        if not value:
            return queryset
        ct = ContentType.objects.get_for_model(queryset.model)
        ids = TaggedItem.objects.filter(content_type=ct, tag__name=value).values("object_id")
        return queryset.filter(pk__in=ids)

    def filter_mine(self, queryset, name, value):
        if value and self.user is not None:
            return queryset.filter(owner_id=self.user.pk)
        return queryset

    @property
    def active_filters(self) -> dict:
        return {k: v for k, v in self.data.items() if k in self.filters and v not in ("", None)}

    @property
    def form(self):
        form = django_filters.FilterSet.form.fget(self)
        if not getattr(form, "_kehu_styled", False):
            style_filter_form(form)
        return form


def style_filter_form(form):
    from django import forms

    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select form-select-sm")
        elif isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        else:
            widget.attrs.setdefault("class", "form-control form-control-sm")
        if isinstance(field, forms.DateField):
            widget.input_type = "date"
    form._kehu_styled = True


class PlainFilterSet(django_filters.FilterSet):
    """For record types that are not KehuModels (users, roles, departments)."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    search_fields: list[str] = []

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    search = KehuFilterSet.search
    primary: list[str] = []
    active_filters = KehuFilterSet.active_filters
    form = KehuFilterSet.form
