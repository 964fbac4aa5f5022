from django import forms
from django.utils.translation import gettext_lazy as _


class AutocompleteSelect(forms.Select):
    """A <select> that holds only the chosen option; typing in the box above it loads matches
    from `lookup_url` (HTMX), so a foreign key to a million rows renders instantly."""

    template_name = "core/widgets/autocomplete_select.html"

    def __init__(self, lookup_url, attrs=None, narrow_by: tuple[str, ...] = ()):
        """`narrow_by`: names of other fields of the form whose values the lookup receives (a
        contact search narrowed to the chosen customer)."""
        super().__init__(attrs={"class": "form-select", **(attrs or {})})
        self.lookup_url = lookup_url
        self.narrow_by = tuple(narrow_by)

    def optgroups(self, name, value, attrs=None):
        selected = [v for v in value if v not in (None, "")]
        options = [self.create_option(name, "", "---------", not selected, 0)]
        queryset = getattr(self.choices, "queryset", None)
        if queryset is not None and selected:
            try:
                rows = list(queryset.filter(pk__in=selected))
            except (ValueError, TypeError):
                rows = []
            for index, obj in enumerate(rows, start=1):
                options.append(self.create_option(name, obj.pk, str(obj), True, index))
        return [(None, options, 0)]

    def get_context(self, name, value, attrs):
        ctx = super().get_context(name, value, attrs)
        ctx["widget"]["lookup_url"] = str(self.lookup_url)
        ctx["widget"]["search_label"] = _("Type to search")
        ctx["widget"]["include"] = ", ".join(f"[name={n}]" for n in self.narrow_by)
        return ctx
