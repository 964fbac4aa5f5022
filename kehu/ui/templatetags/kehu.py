import datetime
from decimal import Decimal

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

register = template.Library()


@register.filter
def cell(value):
    """Render any field value for a table cell or detail row."""
    if value is None or value == "":
        return mark_safe('<span class="text-secondary">—</span>')  # noqa: S308 - constant
    if isinstance(value, bool):
        return format_html('<span class="badge bg-{}-lt">{}</span>', "green" if value else "secondary",
                           _("Yes") if value else _("No"))
    if isinstance(value, datetime.datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, Decimal):
        return formats.number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
    if isinstance(value, str) and value.startswith("+") and value[1:].isdigit():
        from kehu.core.phones import display_phone

        return display_phone(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@register.filter
def qty(value):
    """{{ value|qty }}: a quantity or a percentage without its trailing zeros: 2.500 → 2.5, 10.000 → 10."""
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(value).normalize():f}"
    except (ArithmeticError, ValueError, TypeError):  # what the user typed into a form, shown back as typed
        return value


@register.filter
def money(value, currency=None):
    """{{ value|money }}: an amount with the company currency's symbol, grouped by thousands in the
    user's language (¥1,234,567.50); {{ value|money:"USD" }} in another currency; — for none."""
    from kehu.core.money import format_money

    if value is None or value == "":
        return mark_safe('<span class="text-secondary">—</span>')  # noqa: S308 - constant
    try:
        return format_money(value, currency)
    except (TypeError, ValueError):  # not an amount (a float is refused): shown as any value
        return cell(value)


@register.filter
def money_zh_words(value):
    """{{ value|money_zh_words }}: the amount in Chinese capital numerals (大写金额) for quotations,
    orders and contracts: 壹仟零肆元零柒分; "" for none; a value that is not an amount (a float) is
    shown as it is."""
    from kehu.core.money import amount_in_words_zh

    if value is None or value == "":
        return ""
    try:
        return amount_in_words_zh(value)
    except (TypeError, ValueError):
        return cell(value)

@register.simple_tag
def sort_link(column, current_sort, query_without_sort):
    if not column.sort:
        return column.label
    if current_sort == column.sort:
        new, arrow = f"-{column.sort}", " ↑"
    elif current_sort == f"-{column.sort}":
        new, arrow = column.sort, " ↓"
    else:
        new, arrow = f"-{column.sort}", ""
    sep = "&" if query_without_sort else ""
    return format_html('<a href="?{}{}sort={}" class="text-reset">{}{}</a>', query_without_sort, sep, new,
                       column.label, arrow)


@register.simple_tag
def column_value(column, obj):
    return money(column.value(obj)) if column.money else cell(column.value(obj))


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def change_rows(entry):
    """[(field label, before, after)] of a change-log entry, with choices and dates made readable."""
    from auditlog.models import LogEntry

    rows = []
    try:
        display = entry.changes_display_dict or {}
    except Exception:  # a model that no longer exists: fall back to the raw values
        display = entry.changes_dict or {}
    for label, pair in display.items():
        before, after = (list(pair) + [None, None])[:2] if isinstance(pair, (list, tuple)) else (None, pair)
        before, after = _clean(before), _clean(after)
        if entry.action == LogEntry.Action.CREATE and after == "":
            continue
        rows.append((capfirst(label), before, after))  # verbose names are lower case ("notes")
    return rows


# a change-log entry's action (auditlog's LogEntry.Action: create, update, delete, access): built
# once, not per entry (a history chunk renders 50)
_ACTION_LABELS = {0: gettext_lazy("Created"), 1: gettext_lazy("Changed"), 2: gettext_lazy("Deleted"),
                  3: gettext_lazy("Viewed")}


@register.filter
def action_label(entry):
    label = _ACTION_LABELS.get(entry.action)
    return label if label is not None else entry.get_action_display()


def _clean(value):
    return "" if value in (None, "None", "", [], "[]", {}, "{}") else value


@register.filter
def field_type(bound_field):
    return bound_field.field.widget.__class__.__name__


@register.simple_tag
def rurl(rt, action, *args):
    """{% rurl rt 'detail' obj.pk %}: the URL of a record type's view."""
    from django.urls import reverse

    return reverse(rt.url_name(action), args=args)


ROW_PK = 987654321  # a pk no record has: the detail URL is reversed once and the pk put in its place


@register.simple_tag
def record_rows(rt, columns, items, select=True):
    """The body rows of a record list, written in Python: through the template every cell cost a
    tag call, a URL reverse and an escape, ~11 ms of a 50-row page (docs/benchmarks.md)."""
    from html import escape

    from django.urls import reverse

    from kehu.core.widgets import esc

    before, after = reverse(rt.url_name("detail"), args=[ROW_PK]).split(str(ROW_PK), 1)
    before, after = escape(before), escape(after)
    select_label = escape(_("Select"))
    # the record must open from its row: the first column links when none of the chosen ones does
    links = [col.link for col in columns] if any(col.link for col in columns) else [i == 0 for i in range(len(columns))]
    parts = []
    for obj in items:
        pk = escape(str(obj.pk))
        parts.append(f'<tr>\n<td><input class="form-check-input m-0 align-middle" type="checkbox" name="pk" '
                     f'value="{pk}" aria-label="{select_label}"></td>' if select else "<tr>\n")
        for col, link in zip(columns, links, strict=True):
            value = esc(money(col.value(obj)) if col.money else cell(col.value(obj)))
            if link:
                parts.append(f'<td><a href="{before}{pk}{after}">{value}</a></td>')
            else:
                parts.append(f"<td>{value}</td>")
        parts.append("</tr>\n")
    if not parts:
        parts.append(f'<tr><td colspan="{len(columns) + int(select)}" class="text-center text-secondary py-5">'
                     f'{escape(_("Nothing found."))}</td></tr>')
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


@register.simple_tag
def options(pairs, selected=None):
    """<option> elements for [(value, label)], written in Python, the one whose value is `selected`
    (`{% options users object.owner_id %}`) chosen. Through format_html, or the template's loop,
    the 200 users of an owner menu cost 1.5-8 ms of the page."""
    from kehu.core.widgets import esc

    chosen = "" if selected is None else str(selected)
    return mark_safe("".join(  # noqa: S308 - escaped
        f'<option value="{esc(value)}"{" selected" if chosen and str(value) == chosen else ""}>{esc(label)}</option>'
        for value, label in pairs))


_nav_html: dict[tuple, str] = {}


@register.simple_tag(takes_context=True)
def nav_menu(context):
    """The menu's sections and its Administration entries (ui/base.html), written in Python once
    per language, script prefix and set of entries the user may open: through the template's loops
    ~1.5 ms of every page. The entries (kehu/ui/context_processors.navigation) never change while
    the process runs."""
    from django.urls import get_script_prefix
    from django.utils.translation import get_language

    nav, admin_nav = context.get("nav") or [], context.get("admin_nav") or []
    key = (get_language(), get_script_prefix(), tuple((s["key"], tuple(i["key"] for i in s["items"])) for s in nav),
           tuple(i["key"] for i in admin_nav))
    html = _nav_html.get(key)
    if html is None:
        if len(_nav_html) > 512:  # bounded: a few roles × two languages in practice
            _nav_html.clear()
        html = _nav_html[key] = _render_nav(nav, admin_nav)
    return mark_safe(html)  # noqa: S308 - escaped in _render_nav


def _render_nav(nav: list[dict], admin_nav: list[dict]) -> str:
    from kehu.core.widgets import esc

    parts = []
    for section in nav:
        first = section["items"][0]
        link = (f'<a class="nav-link text-nowrap{"" if len(section["items"]) == 1 else " pe-1"}" href="{esc(first["url"])}" '
                f'data-testid="nav-{esc(first["key"])}"><i class="ti {esc(first["icon"])} me-1 nav-icon"></i>'
                f'{esc(first["label"])}</a>')
        if len(section["items"]) == 1:
            parts.append(f'<li class="nav-item">{link}</li>')
            continue
        # the section's main list one click away, the rest of the section in its menu
        label = esc(section["label"])
        parts.append(f'<li class="nav-item dropdown nav-split">\n  {link}\n'
                     f'  <a class="nav-link dropdown-toggle ps-0" href="#" data-bs-toggle="dropdown" role="button" '
                     f'aria-expanded="false" aria-label="{label}" title="{label}" data-testid="navsec-{esc(section["key"])}"></a>\n'
                     f'  <div class="dropdown-menu">\n    <h6 class="dropdown-header">{label}</h6>\n    ')
        for index, item in enumerate(section["items"]):
            testid = f' data-testid="nav-{esc(item["key"])}"' if index else ""
            parts.append(f'<a class="dropdown-item" href="{esc(item["url"])}"{testid}><i class="ti {esc(item["icon"])} me-2">'
                         f'</i>{esc(item["label"])}</a>')
        parts.append("\n  </div>\n</li>")
    if admin_nav:
        title = esc(_("Administration"))
        parts.append(f'<li class="nav-item dropdown">\n  <a class="nav-link dropdown-toggle text-nowrap" href="#" '
                     f'data-bs-toggle="dropdown" role="button" title="{title}" aria-label="{title}"><i class="ti '
                     f'ti-settings me-1 nav-admin-icon"></i><span class="nav-admin-label">{title}</span></a>\n'
                     f'  <div class="dropdown-menu">\n    <h6 class="dropdown-header">{title}</h6>\n    ')
        for item in admin_nav:
            parts.append(f'<a class="dropdown-item" href="{esc(item["url"])}"><i class="ti {esc(item["icon"])} me-2"></i>'
                         f'{esc(item["label"])}</a>')
        parts.append("\n  </div>\n</li>")
    return "\n".join(parts)
