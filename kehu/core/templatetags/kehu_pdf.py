"""Tags of the print templates (core/pdf/base.html)."""

import re

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

register = template.Library()


def css_string(text: str) -> str:
    """`text` as a quoted CSS string, safe inside <style>: quotes, backslashes, newlines and < are
    escaped as CSS hex escapes (HTML escaping does not apply in a <style> element)."""
    escaped = re.sub(r'["\\<>&\n\r\x00-\x1f]', lambda m: f"\\{ord(m[0]):x} ", str(text))
    return f'"{escaped}"'


@register.simple_tag
def pdf_page_counter():
    """The CSS `content` of the page number in the user's language: "第 " counter(page) " / "
    counter(pages) " 页" (from the translatable "Page %(page)s of %(pages)s")."""
    label = gettext("Page %(page)s of %(pages)s")
    parts = []
    for piece in re.split(r"(%\(page\)s|%\(pages\)s)", label):
        if piece == "%(page)s":
            parts.append("counter(page)")
        elif piece == "%(pages)s":
            parts.append("counter(pages)")
        elif piece:
            parts.append(css_string(piece))
    return mark_safe(" ".join(parts))  # noqa: S308 - CSS strings escaped by css_string
