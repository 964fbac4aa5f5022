"""The progress of a background job over rows (exports, imports): percent, rows per second and
time left, derived from its counters and timestamps. A model mixes it in and names its total
(`progress_total`) and the statuses that count as complete (`progress_complete`)."""

from __future__ import annotations

from django.utils import timezone


class RowProgress:
    progress_total = "rows_total"  # the field holding the rows expected
    progress_complete: tuple = ("done",)

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def percent(self) -> int:
        total = getattr(self, self.progress_total)
        if self.status in self.progress_complete:
            return 100
        if not total:
            return 0
        return max(0, min(99, int(self.rows_done * 100 / total)))

    @property
    def rows_per_second(self) -> float | None:
        if not self.started_at or not self.rows_done:
            return None
        end = self.finished_at or self.progress_at or timezone.now()
        seconds = (end - self.started_at).total_seconds()
        return self.rows_done / seconds if seconds > 0 else None

    @property
    def seconds_left(self) -> int | None:
        rate, total = self.rows_per_second, getattr(self, self.progress_total)
        if self.status != "running" or not rate or total is None:
            return None
        return max(0, int((total - self.rows_done) / rate))
