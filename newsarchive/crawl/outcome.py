"""What a crawl's exit status means, for scheduled runs that must fail loudly.

0 all good; 2 configuration (before crawling); 3 storage failed (files wait in the
spool); 4 too many errors; 5 no article page archived at all (new, changed or
unchanged), whatever the feeds did: a scheduled crawl that archived nothing has failed;
6 stopped before the end (Ctrl-C, SIGTERM from a CI timeout): what was fetched is
archived and listed, but the crawl is incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OK, STORAGE_FAILED, TOO_MANY_ERRORS, NO_ARTICLES, INTERRUPTED = 0, 3, 4, 5, 6


@dataclass(frozen=True)
class Outcome:
    status: int
    reasons: tuple[str, ...]


def error_rate(stats: dict[str, Any]) -> float:
    """Failed fetches (no response, or 5xx) over all fetches."""
    requests = stats.get("downloader/request_count", 0)
    if not requests:
        return 0.0
    failed = stats.get("downloader/exception_count", 0) - stats.get(
        "downloader/exception_type_count/scrapy.exceptions.IgnoreRequest", 0
    )
    failed += sum(
        v for k, v in stats.items()
        if k.startswith("downloader/response_status_count/5")
    )
    return max(failed, 0) / requests


def judge(
    stats: dict[str, Any], max_error_rate: float, finish_reason: str = "finished",
    crawl_complete: bool = True,
) -> Outcome:
    """``crawl_complete`` False: a worker of a shared crawl that others still run, whose
    articles it cannot know yet; "no article" is judged by the worker that closes it."""
    reasons: list[tuple[int, str]] = []
    if finish_reason != "finished":
        reasons.append((INTERRUPTED, f"the crawl was stopped before the end ({finish_reason})"))
    if stats.get("newsarchive/storage_errors"):
        # A crawl the spool stopped (spool_full, spool_error) keeps the status of a stop,
        # as promised for a full spool; the reason is still said.
        code = INTERRUPTED if finish_reason.startswith("spool_") else STORAGE_FAILED
        reasons.append((code, "storage failed: files wait in the spool"))
    rate = error_rate(stats)
    if rate > max_error_rate:
        reasons.append(
            (TOO_MANY_ERRORS, f"error rate {rate:.0%} above NEWSARCHIVE_MAX_ERROR_RATE "
                              f"{max_error_rate:.0%}")
        )
    # Article pages the spider saw (with or without extraction) and known articles
    # that answered 304 (those never reach the spider).
    found = stats.get("newsarchive/article_pages", 0) + sum(
        stats.get(f"newsarchive/articles/{kind}", 0) for kind in ("new", "changed", "unchanged")
    )
    if not found and finish_reason == "finished" and crawl_complete:
        fed = " although the site's feeds answered" if stats.get("newsarchive/feeds_ok") else ""
        reasons.append((NO_ARTICLES, f"no article found{fed}"))
    if not reasons:
        return Outcome(OK, ())
    return Outcome(min(code for code, _ in reasons), tuple(text for _, text in reasons))
