"""Exceptions in callbacks, middlewares and pipelines: counted by component and type.

Scrapy logs such an exception and moves on, so a bug that fires on every page can
leave a crawl that exits 0 with nothing in its manifest to show for it. Every one is
counted under ``newsarchive/errors/<component>/<ExceptionType>`` (the manifest's
``counts.errors``): ``spider``, ``spidermw/<Class>``, ``pipeline/<Class>``,
``downloader/<Class>`` (a downloader middleware), named from the traceback.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from scrapy import signals
from scrapy.utils.misc import load_object

logger = logging.getLogger(__name__)

STATS_PREFIX = "newsarchive/errors/"
_KINDS = {
    "spidermw": "SPIDER_MIDDLEWARES",
    "pipeline": "ITEM_PIPELINES",
    "downloader": "DOWNLOADER_MIDDLEWARES",
}


def count(stats: Any, component: str, error: BaseException) -> None:
    stats.inc_value(f"{STATS_PREFIX}{component}/{type(error).__name__}")


class Components:
    """Which configured component a traceback frame belongs to, by source file and lines."""

    def __init__(self, settings: Any) -> None:
        self._spans: dict[str, list[tuple[str, int, int]]] = {}
        for kind, name in _KINDS.items():
            for path, order in settings.getwithbase(name).items():
                if order is None:
                    continue
                try:
                    cls = load_object(path) if isinstance(path, str) else path
                    lines, start = inspect.getsourcelines(cls)
                    source = inspect.getsourcefile(cls)
                except (TypeError, OSError, ImportError, NameError, AttributeError, ValueError):
                    continue
                if source:
                    self._spans.setdefault(source, []).append(
                        (f"{kind}/{cls.__name__}", start, start + len(lines))
                    )

    def of(self, failure: Any, default: str) -> str:
        """The innermost configured component in the failure's traceback, else default."""
        found = default
        for frame in getattr(failure, "frames", None) or ():
            _, filename, line = frame[:3]
            for name, start, end in self._spans.get(filename, ()):
                if start <= line < end:
                    found = name
        return found


class ErrorCountExtension:
    """Counts what Scrapy reports through ``spider_error`` and ``item_error``; Scrapy
    has already logged each one (with the page's URL or the item, which names it)."""

    def __init__(self, crawler: Any) -> None:
        self.stats = crawler.stats
        self.components = Components(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ErrorCountExtension:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_error, signal=signals.spider_error)
        crawler.signals.connect(extension.item_error, signal=signals.item_error)
        return extension

    def spider_error(self, failure: Any, response: Any, spider: Any) -> None:
        count(self.stats, self.components.of(failure, "spider"), failure.value)

    def item_error(self, item: Any, response: Any, spider: Any, failure: Any) -> None:
        count(self.stats, self.components.of(failure, "pipeline"), failure.value)

    def download_error(self, failure: Any) -> None:
        """An errback's failure that is no network or HTTP outcome: a downloader (or
        spider, in process_spider_input) middleware raised."""
        count(self.stats, self.components.of(failure, "downloader"), failure.value)


# Where the exceptions of the network, TLS, HTTP and storage layers come from: those are
# what the web does to a request (counted under ``failed``), not a component's bug.
_OUTCOME_MODULES = ("twisted", "scrapy", "OpenSSL", "h2", "ssl", "newsarchive", "botocore")


def is_bug(error: BaseException) -> bool:
    """True for an exception a component raised (ValueError, KeyError…), False for a
    network, HTTP, robots or storage outcome."""
    if isinstance(error, OSError):
        return False
    return type(error).__module__.split(".", 1)[0] not in _OUTCOME_MODULES
