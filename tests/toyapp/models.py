"""A record type declared the way a new app declares one (issue 10): a model here, its record type
in records.py, a migration; nothing else in Kehu names it. It has a three-state workflow, a money
field, a number, and is visible through two scope paths (its owner or its handler)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from kehu.core.models import KehuModel
from kehu.core.money import MoneyField
from kehu.core.numbering import Numbering

ALIVE = Q(deleted_at__isnull=True)


class Gadget(KehuModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        ACTIVE = "active", "启用"
        RETIRED = "retired", "停用"

    number = models.CharField("编号", max_length=20, unique=True, editable=False)
    name = models.CharField("名称", max_length=100)
    price = MoneyField("价格", null=True, blank=True)
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name="处理人")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    note = models.TextField("说明", blank=True)

    numbering = Numbering("WJ")  # WJ + local date + the day's sequence
    scope_paths = ("owner", "handler")  # visible to its owner's scope and to its handler's

    class Meta:
        verbose_name = "小部件"
        verbose_name_plural = "小部件"
        indexes = [
            models.Index(fields=["id"], name="gadget_alive_id_idx", condition=ALIVE),
            models.Index(fields=["owner", "id"], name="gadget_owner_idx", condition=ALIVE),
            models.Index(fields=["handler", "id"], name="gadget_handler_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="gadget_created_idx", condition=ALIVE),
        ]

    def __str__(self):
        return self.name


class GadgetCount(KehuModel):
    """A read-only record type with an action (a stock count: only "recount" changes it)."""

    gadget = models.ForeignKey(Gadget, on_delete=models.CASCADE, related_name="counts", verbose_name="小部件")
    quantity = models.IntegerField("数量", default=0)
    counted_at = models.DateTimeField("盘点时间", null=True, blank=True)

    class Meta:
        verbose_name = "盘点"
        verbose_name_plural = "盘点"
        indexes = [
            models.Index(fields=["id"], name="gadgetcount_alive_idx", condition=ALIVE),
            models.Index(fields=["owner", "id"], name="gadgetcount_owner_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="gadgetcount_created_idx", condition=ALIVE),
            models.Index(fields=["owner", "created_at", "id"], name="gadgetcount_owner_created_idx",
                         condition=ALIVE),
        ]

    def __str__(self):
        return f"{self.gadget_id}: {self.quantity}"
