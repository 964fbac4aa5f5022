"""Model fields shared by every app."""

from django.db import models


def dict_fk(kind: str, verbose_name, **kwargs):
    """A nullable foreign key to a data dictionary value (`DictItem`) of one `kind`: only active
    values of that list are offered."""
    from .models import DictItem

    return models.ForeignKey(
        DictItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": kind, "active": True},
        verbose_name=verbose_name,
        **kwargs,
    )
