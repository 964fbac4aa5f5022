"""Model fields shared by every app."""

from django.db import models


class DictForeignKey(models.ForeignKey):
    """A ForeignKey to DictItem whose form field reads the dictionary's cache
    (kehu.core.forms.DictItemChoiceField). Migrations see a plain ForeignKey."""

    def formfield(self, **kwargs):
        from .forms import DictItemChoiceField

        return super().formfield(**{"form_class": DictItemChoiceField, **kwargs})

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.ForeignKey", args, kwargs


def dict_fk(kind: str, verbose_name, **kwargs):
    """A nullable foreign key to a data dictionary value (`DictItem`) of one `kind`: only active
    values of that list are offered."""
    from .models import DictItem

    return DictForeignKey(
        DictItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": kind, "active": True},
        verbose_name=verbose_name,
        **kwargs,
    )
