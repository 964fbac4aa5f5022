"""Human-readable record numbers: prefix + local date + the day's sequence (KH202611220001).

One declaration on the model; `KehuModel.save()` fills the field when a record is created:

    class Order(KehuModel):
        number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
        numbering = Numbering("DD")          # DD + 20261122 + 0001, a new sequence each day

The date is the site's (or the request's user's) local day, `timezone.localdate()`: an order
created at 23:30 UTC on 21 November is a 22 November order in Asia/Shanghai. The sequence is a
`Sequence` row per (key, day), incremented under its row lock (`next_sequence`), so concurrent
creations never get the same number. A number is never reused: a creation that is rolled back
leaves a gap, as paper forms would.

Numbers sort as they were given (the number-prefix search reads a month's customers as the range of
ids between its first and last number: kehu/customers/forms.py `number_range`). A day past
10**digits - 2 numbers therefore goes on as all nines plus OVERFLOW_DIGITS more digits:
KH202612069998, KH202612069999000000, KH202612069999000001, ... up to 1,009,998 numbers a day (a
million-row import fits), 20 characters. Before, the 10,000th number of a day was KH2026120610000,
which sorts before KH202612069999: the day's numbers were no longer in the order of creation.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

OVERFLOW_DIGITS = 6


class NumberingExhausted(RuntimeError):
    """A period (a day) used every number its format can give in order."""


@dataclass(frozen=True)
class Numbering:
    prefix: str  # "KH", "SJ"
    key: str = ""  # the Sequence namespace; default the model's name ("customer": customer:20261122)
    date_format: str = "%Y%m%d"
    digits: int = 4
    field: str = "number"

    def sequence_key(self, model, day: datetime.date) -> str:
        return f"{self.key or model._meta.model_name}:{day.strftime(self.date_format)}"

    def format(self, day: datetime.date, seq: int) -> str:
        return f"{self.prefix}{day.strftime(self.date_format)}{self.sequence_text(seq)}"

    def sequence_text(self, seq: int) -> str:
        """The sequence's digits, in the order of the sequence (see the module's doc)."""
        full = 10 ** self.digits - 1  # the first value written as all nines plus more digits
        if seq < full:
            return f"{seq:0{self.digits}d}"
        beyond = seq - full
        if beyond >= 10 ** OVERFLOW_DIGITS:
            raise NumberingExhausted(
                f"More than {full + 10 ** OVERFLOW_DIGITS - 1:,} numbers with the prefix {self.prefix} in one "
                f"period ({self.date_format}): no number in order is left.")
        return "9" * self.digits + f"{beyond:0{OVERFLOW_DIGITS}d}"

    def next(self, model, day: datetime.date | None = None) -> str:
        """The next number of `model` for `day` (today, local), drawn from its sequence."""
        from .models import next_sequence

        day = day or timezone.localdate()
        return self.format(day, next_sequence(self.sequence_key(model, day)))

    def fill_many(self, objs) -> None:
        """Give many new records of one model their numbers with one draw of the day's sequence
        (bulk imports): the same numbers, in order, as filling each in turn."""
        from django.db import transaction
        from django.db.models import F

        from .models import Sequence

        todo = [o for o in objs if not getattr(o, self.field)]
        if not todo:
            return
        day = timezone.localdate()
        key = self.sequence_key(type(todo[0]), day)
        with transaction.atomic():
            if not Sequence.objects.filter(key=key).update(value=F("value") + len(todo)):
                Sequence.objects.get_or_create(key=key, defaults={"value": 0})
                Sequence.objects.filter(key=key).update(value=F("value") + len(todo))
            last = Sequence.objects.values_list("value", flat=True).get(key=key)
        for i, obj in enumerate(todo):
            setattr(obj, self.field, self.format(day, last - len(todo) + 1 + i))

    def fill(self, obj) -> None:
        """Give `obj` its number unless it has one."""
        if not getattr(obj, self.field):
            setattr(obj, self.field, self.next(type(obj)))
