"""`{% load markdown %}{{ text|markdown }}`: Markdown rendered and sanitized (kehu/core/markdown.py)."""

from django import template

from kehu.core.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(value):
    return render_markdown(value)
