from html import escape as _html_escape

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _


def esc(value) -> str:
    """Django's `conditional_escape`, the same text (a value that is already HTML as it is, any
    other through `html.escape`), without the lazy-text wrapper Django's `escape` adds to every
    call: HTML written in Python escapes a value per cell and per option, ~1,300 a list page, and
    the wrapper was about a tenth of the page's time (docs/benchmarks.md, stop 47)."""
    html = getattr(value, "__html__", None)
    return html() if html is not None else _html_escape(str(value))


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


class QuickSelect(forms.Select):
    """A single-choice <select> written straight from its flat choices, without Django's per-option
    context dicts: the owner filter's 200 users took ~2.5 ms of every list page that way. The HTML
    is the same as forms.Select's (kehu/core/tests/test_widgets.py)."""

    def render(self, name, value, attrs=None, renderer=None):
        choices = list(iter(self.choices))  # not list(choices): it asks a model iterator's length, a query
        if any(isinstance(label, (list, tuple)) for _value, label in choices):
            return super().render(name, value, attrs, renderer)
        final = self.build_attrs(self.attrs, attrs)
        wanted = set(self.format_value(value))
        parts = [f'<select name="{esc(name)}"{_attrs(final)}>']
        chosen = False
        for option, label in choices:
            option = "" if option is None else str(option)
            selected = not chosen and option in wanted
            chosen = chosen or selected
            parts.append(f'\n  <option value="{_html_escape(option)}"{" selected" if selected else ""}>'
                         f'{esc(label)}</option>\n')
        parts.append("\n</select>")
        return mark_safe("".join(parts))


SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"
# each of these is `{% include "django/forms/widgets/input.html" %}` and nothing else
INPUT_TEMPLATES = frozenset(f"django/forms/widgets/{kind}.html" for kind in (
    "input", "text", "date", "number", "email", "hidden", "password", "search", "tel", "url", "time",
    "datetime", "color", "checkbox"))


class FormRenderer(DjangoTemplates):
    """Django's form renderer, except that a plain <select> is written in Python. Through the
    templates every option costs two template includes: a 200-user owner select took ~8 ms of the
    customer list page and each small dictionary select ~1 ms. So is an <input> (two includes, ~0.1 ms
    each, a dozen per list page). The HTML is the same byte for byte (kehu/core/tests/test_widgets.py)."""

    def render(self, template_name, context, request=None):
        if template_name in INPUT_TEMPLATES:
            return _render_input(context["widget"])
        if template_name == SELECT_TEMPLATE:
            widget = context["widget"]
            if all(o["template_name"] == OPTION_TEMPLATE for _, group, _ in widget["optgroups"] for o in group):
                return _render_select(widget)
        return super().render(template_name, context, request)


def _attrs(attrs: dict) -> str:
    return "".join(
        f" {esc(name)}" if value is True else f' {esc(name)}="{_html_escape(str(value))}"'
        for name, value in attrs.items() if value is not False
    )


def _render_input(widget: dict) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{esc(value if isinstance(value, str) else str(value))}"'
    return mark_safe(f'<input type="{esc(widget["type"])}" name="{esc(widget["name"])}"'
                     f'{shown}{_attrs(widget["attrs"])}>')


def _render_select(widget: dict) -> str:
    parts = [f'<select name="{esc(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{esc(group_name)}">')
        for o in options:
            parts.append(f'\n  <option value="{_html_escape(str(o["value"]))}"{_attrs(o["attrs"])}>'
                         f'{esc(o["label"])}</option>\n')
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts))
