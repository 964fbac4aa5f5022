"""Plan verdicts a process remembers for a while: a search term found common, a user's scope found
wide, a table's row count. Learning the first two costs a query that reads thousands of ids; the
verdict then holds for minutes. Only a plan may depend on a remembered verdict, never the rows: the condition it stands
for is still tested on every row a page reads, so a verdict gone stale costs time, not results."""

from __future__ import annotations

import time
from collections.abc import Hashable

_memories: list[TimedMemory] = []


class TimedMemory:
    """Keys remembered for `kept` seconds (monotonic clock). At `limit` keys the memory is emptied
    rather than searched for the oldest: a verdict is cheap to learn again, and a process that
    meets that many distinct keys within `kept` seconds gains little from any one of them."""

    def __init__(self, kept: float, limit: int = 2000):
        self.kept, self.limit = kept, limit
        self._seen: dict[Hashable, tuple[float, object]] = {}
        _memories.append(self)

    def __contains__(self, key: Hashable) -> bool:
        return self.get(key) is not None

    def get(self, key: Hashable):
        """The value remembered for `key` (True for a plain verdict), or None once forgotten."""
        seen = self._seen.get(key)
        return seen[1] if seen is not None and time.monotonic() - seen[0] < self.kept else None

    def remember(self, key: Hashable, value=True) -> None:
        if len(self._seen) >= self.limit:
            self._seen.clear()
        self._seen[key] = (time.monotonic(), value)

    def __len__(self) -> int:
        return len(self._seen)

    def clear(self) -> None:
        self._seen.clear()


def forget_all() -> None:
    """Empty every memory (between tests: a term one test's rows made common is not common in the next's)."""
    for memory in _memories:
        memory.clear()
