from django import template

from kehu.catalog.services import fmt_qty

register = template.Library()


@register.filter
def qty(value):
    """A quantity as people write it: 10, 2.5, -3 (not 10.000)."""
    return "—" if value is None or value == "" else fmt_qty(value)
