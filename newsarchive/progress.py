"""Progress bars for long commands: on a terminal a bar, elsewhere nothing at all.

verify, reextract, wacz, stats and export read whole WARC files or every text record,
which on 1 GiB files is minutes; a bar (count, rate, ETA) tells a person it is moving.
Logs, pipes and cron mails get nothing: a bar's carriage returns would only garble them.

The library functions take ``progress: bool`` and make their bars here, so the CLI
decides once (``--progress/--no-progress``, default: stderr is a terminal) and every
command looks the same: records (``rec``) for text, bytes (``B``) for WARC files.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

# How many updates are gathered before tqdm is called: a call per record would cost
# more than reading the record.
_BATCH = 500


def wanted(flag: bool | None) -> bool:
    """The --progress/--no-progress choice, or (not given) whether stderr is a terminal."""
    if flag is not None:
        return flag
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


class Bar:
    """A tqdm bar on stderr when enabled, else a no-op with the same methods.

    ``unit="B"`` shows bytes (KB/MB, rate in MB/s); anything else counts items.
    """

    def __init__(self, enabled: bool, total: int | None, desc: str, unit: str = "rec") -> None:
        self._bar: Any = None
        self._pending = 0
        self.count = 0  # everything added so far
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, desc=desc, unit=unit, unit_scale=True,
                unit_divisor=1024 if unit == "B" else 1000, file=sys.stderr,
                dynamic_ncols=True, mininterval=0.5,
            )

    @property
    def enabled(self) -> bool:
        return self._bar is not None

    def update(self, n: int = 1) -> None:
        """Add ``n`` (records or bytes); tqdm is called every few hundred updates only."""
        if self._bar is None:
            return
        self.count += n
        self._pending += n
        if self._pending >= _BATCH:
            self._bar.update(self._pending)
            self._pending = 0

    def advance_to(self, count: int) -> None:
        """Move forward to ``count`` (for work measured from outside, e.g. a file's size)."""
        if count > self.count:
            self.update(count - self.count)

    def postfix(self, values: dict[str, Any]) -> None:
        """Extra figures shown after the rate (kept, dropped…), drawn with the next update."""
        if self._bar is not None:
            self._bar.set_postfix(values, refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.update(self._pending)
            self._pending = 0
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Bar:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class CountingReader:
    """A binary stream that reports the bytes read through it to a :class:`Bar`."""

    def __init__(self, raw: Any, bar: Bar) -> None:
        self.raw = raw
        self.bar = bar

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.bar.update(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        count = self.raw.readinto(buffer)
        self.bar.update(count or 0)
        return count

    def __getattr__(self, name: str) -> Any:  # tell, seek, close… of the real stream
        return getattr(self.raw, name)
