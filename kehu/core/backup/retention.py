"""Which backups to keep: the newest of each of the last N days, weeks and months that have one.

With the defaults (KEHU_BACKUP_KEEP_DAILY=7, _WEEKLY=4, _MONTHLY=12) a daily backup keeps about
7 + 3 + 11 archives: the last seven days, one a week for a month, one a month for a year. Periods are
counted among those that have a backup (as restic's and borg's `--keep-daily` do), so a week of
failed backups or a server that was off does not make the older archives expire. The newest archive is
always kept. Days, weeks (ISO) and months are those of the site's time zone.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable
from pathlib import Path

from django.utils import timezone

from .engines import setting


def policy() -> dict[str, int]:
    return {"daily": int(setting("KEHU_BACKUP_KEEP_DAILY", 7)), "weekly": int(setting("KEHU_BACKUP_KEEP_WEEKLY", 4)),
            "monthly": int(setting("KEHU_BACKUP_KEEP_MONTHLY", 12))}


def to_keep(times: Iterable[datetime.datetime], *, daily: int = 7, weekly: int = 4,
            monthly: int = 12) -> set[datetime.datetime]:
    newest_first = sorted(set(times), reverse=True)
    keep: set[datetime.datetime] = set(newest_first[:1])
    periods = (
        (daily, lambda t: timezone.localtime(t).date()),
        (weekly, lambda t: timezone.localtime(t).isocalendar()[:2]),
        (monthly, lambda t: (timezone.localtime(t).year, timezone.localtime(t).month)),
    )
    for count, period in periods:
        seen: set = set()
        for t in newest_first:
            if len(seen) >= count:
                break
            key = period(t)
            if key not in seen:
                seen.add(key)
                keep.add(t)
    return keep


def prune(directory: Path, *, keep_policy: dict[str, int] | None = None) -> list[Path]:
    """Remove the archives in `directory` the policy does not keep (and `.part` files of backups that
    died more than a day ago). Returns the removed paths. Only Kehu's own archive names are touched."""
    from .service import archive_time

    directory = Path(directory)
    if not directory.is_dir():
        return []
    archives = {}
    for path in directory.iterdir():
        t = archive_time(path.name)
        if t is not None and path.is_file():
            archives.setdefault(t, []).append(path)
    keep = to_keep(archives, **(keep_policy or policy()))
    removed = []
    for t, paths in archives.items():
        if t not in keep:
            for path in paths:
                path.unlink(missing_ok=True)
                removed.append(path)
    for path in directory.glob("*.part"):
        if path.stat().st_mtime < time.time() - 86400:
            path.unlink(missing_ok=True)
            removed.append(path)
    return sorted(removed)
