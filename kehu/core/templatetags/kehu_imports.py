from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag
def import_url(rt) -> str:
    """The import page of a record type that declares an importer (kehu/core/imports), else ""."""
    from kehu.core.imports import base

    if rt.key not in base.all_importers():
        return ""
    return f"{reverse('core:import_new')}?type={rt.key}"
