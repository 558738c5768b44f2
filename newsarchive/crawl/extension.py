"""Scrapy extension that opens the archive at start-up and closes it with a manifest.

Creating it opens the crawl session, so a wrong archive setting or an unwritable
folder stops the crawl before the first request.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

from newsarchive.archive import manifest
from newsarchive.archive.session import CrawlSession
from newsarchive.cluster import workers
from newsarchive.crawl import runsummary
from newsarchive.crawl.outcome import judge
from newsarchive.errors import StorageError

logger = logging.getLogger(__name__)

STATS_PREFIX = "newsarchive/"


def _by_reason(stats: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k.removeprefix(prefix): v for k, v in sorted(stats.items()) if k.startswith(prefix)}


def requisite_counts(stats: dict[str, Any]) -> dict[str, Any]:
    """Page requisites (newsarchive.crawl.requisites): archived responses and bytes (as
    received) by kind, revisits, refusals by limit, failures by reason, and per article
    page (requests made for requisites, bytes they brought)."""
    prefix = "newsarchive/requisites/"
    by_type: dict[str, dict[str, int]] = {}
    for key, value in _by_reason(stats, f"{prefix}by_type/").items():
        kind, _, what = key.rpartition("/")
        by_type.setdefault(kind, {"count": 0, "bytes": 0})[what] = value
    responses = stats.get(f"{prefix}responses", 0)
    size = stats.get(f"{prefix}bytes", 0)
    pages = stats.get("newsarchive/article_pages", 0)
    return {
        "responses": responses,
        "bytes": size,
        "by_type": by_type,
        "unchanged": stats.get(f"{prefix}unchanged", 0),
        "duplicate_payloads": stats.get(f"{prefix}duplicate_payloads", 0),
        "skipped": _by_reason(stats, f"{prefix}skipped/"),
        "failed": _by_reason(stats, f"{prefix}failed/"),
        "per_article": manifest.per_article(responses, size, pages),
    }


def counts_from_stats(stats: dict[str, Any]) -> dict[str, Any]:
    """The manifest's counts: what was fetched, archived and dropped (with reasons)."""
    discarded = {
        k.removeprefix("newsarchive/discarded/"): v
        for k, v in sorted(stats.items())
        if k.startswith("newsarchive/discarded/")
    }
    return {
        "requests": stats.get("downloader/request_count", 0),
        "responses": stats.get("downloader/response_count", 0),
        "warc_exchanges": stats.get("newsarchive/warc/writer/exchanges", 0),
        "revisits": stats.get("newsarchive/warc/writer/revisits", 0),
        "articles": stats.get("newsarchive/articles", 0),
        # article pages seen, extracted or not (a WARC-only crawl has no text records)
        "article_pages": stats.get("newsarchive/article_pages", 0),
        "articles_by_kind": {
            kind: stats.get(f"newsarchive/articles/{kind}", 0)
            for kind in ("new", "changed", "unchanged")
        },
        "discarded": discarded,
        # captures kept although an earlier one had another text under the same canonical
        "canonical_conflicts": stats.get("newsarchive/canonical_conflicts", 0),
        "robots_forbidden": stats.get("robotstxt/forbidden", 0),
        # responses kept out of the WARC at the publisher's request (newsarchive.rights)
        "withheld": _by_reason(stats, "newsarchive/withheld/"),
        # robots.txt fetches by outcome (RFC 9309): fetched, unavailable (4xx: allow),
        # unreachable (5xx/none: disallow), retried, redirects… (newsarchive.crawl.robots)
        "robots": _by_reason(stats, "newsarchive/crawl/robots/"),
        "download_errors": stats.get("downloader/exception_count", 0),
        # per attempt, by exception class: DownloadTimeoutError, IgnoreRequest (robots)…
        "download_errors_by_type": {
            k.rsplit(".", 1)[-1]: v
            for k, v in _by_reason(stats, "downloader/exception_type_count/").items()
        },
        "retries": stats.get("retry/count", 0),
        # URLs that gave nothing to parse, once each: timeout, too-many-redirects…
        "failed": _by_reason(stats, "newsarchive/failed/"),
        # responses archived with WARC-Truncated: length (DOWNLOAD_MAXSIZE), disconnect
        "truncated": _by_reason(stats, "newsarchive/truncated/"),
        # links not followed: denied (deny_patterns), too-old; and past DEPTH_LIMIT
        # and links to other sites (Scrapy's offsite filter)
        "skipped": _by_reason(stats, "newsarchive/skipped/") | (
            {"offsite": stats["offsite/filtered"]} if stats.get("offsite/filtered") else {}),
        # links of pages at DEPTH_LIMIT (the spider does not request them) and any
        # request Scrapy's depth middleware dropped
        "depth_limited": stats.get("newsarchive/depth_limited", 0)
        + stats.get("depth/request_ignored_count", 0),
        # requests for URLs this crawl had already requested (links, redirect and
        # refresh targets), dropped by the duplicate filter, and requisites known to
        # be requested already, not asked for again (newsarchive.crawl.requisites.
        # Requested): nothing lost, counted
        "duplicate_requests": stats.get("dupefilter/filtered", 0)
        + stats.get("newsarchive/requisites/requested_before", 0),
        # exceptions in callbacks, middlewares, pipelines: "<component>/<ExceptionType>"
        "errors": _by_reason(stats, "newsarchive/errors/"),
        # what archived pages embed: stylesheets, images, fonts, scripts… (by kind)
        "requisites": requisite_counts(stats),
        "http_status": {
            k.rsplit("/", 1)[-1]: v
            for k, v in sorted(stats.items())
            if k.startswith("downloader/response_status_count/")
        },
    }


class ArchiveExtension:
    def __init__(self, session: CrawlSession, crawler: Any) -> None:
        self.session = session
        self.crawler = crawler
        self.end_summary: list[str] = []  # logged last, after Scrapy's stats dump

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchiveExtension:
        extension = cls(CrawlSession.from_crawler(crawler), crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_stopped(self) -> None:
        """The end summary, as the log's last lines: Scrapy's stats dump comes before."""
        for line in self.end_summary:
            logger.info("%s", line)

    def spider_opened(self, spider: Any) -> None:
        logger.info(
            "archiving crawl %s into %s (spool %s)",
            self.session.crawl_id, self.session.store.uri, self.session.spool,
        )

    async def spider_closed(self, spider: Any, reason: str) -> None:
        from twisted.internet import reactor

        session = self.session
        pool = reactor.getThreadPool()
        stats = self.crawler.stats
        worker = workers.coordinator(self.crawler)  # None on one machine
        # Several machines: each worker records its part, the last writes the manifest.
        write_manifest = session.write_manifest if worker is None else worker.write_manifest

        def close_all() -> list[BaseException]:
            errors = session.close_writers()
            if errors and worker is None:
                # A file that could not be closed whole: leave the crawl to the next run's
                # recovery (its journal), which cuts files back to whole records and
                # rebuilds the state from the text that survived.
                return errors
            try:
                if worker is None:
                    session.publish_state()
                else:  # the last worker merges every worker's state updates
                    worker.record_state()
            except StorageError as e:  # the manifest still gets written (or kept)
                errors.append(e)
            return errors + session.wait_published()

        errors = await maybe_deferred_to_future(
            threads.deferToThreadPool(reactor, pool, close_all)
        )
        for error in errors:
            logger.error("closing archive files failed: %s", error)
        site = getattr(spider, "site", None)
        crawl = {
            "spider": spider.name,
            "site": getattr(site, "name", None),
            "start_urls": list(getattr(site, "entry_urls", ())),
            "finish_reason": reason,
            "rights": session.rights,
        }
        counts = counts_from_stats(stats.get_stats())
        try:
            if errors and worker is None:
                raise StorageError(
                    f"{len(errors)} file(s) could not be closed whole; the next crawl with "
                    f"the spool {session.spool} recovers the crawl from its journal"
                )
            key = await maybe_deferred_to_future(
                threads.deferToThreadPool(reactor, pool, write_manifest, crawl, counts)
            )
        except StorageError as e:
            stats.set_value("newsarchive/storage_errors", len(session.failed) or 1)
            logger.error("crawl %s is not complete in the archive: %s", session.crawl_id, e)
            key = None
        finally:
            session.shutdown()
        if errors:
            stats.set_value("newsarchive/storage_errors", len(errors))
        judged = stats.get_stats() if worker is None else worker.crawl_stats(stats.get_stats())
        # A worker that did not close the shared crawl cannot judge "no article" yet.
        complete = worker is None or key is not None
        outcome = judge(judged, session.config.max_error_rate, reason, complete)
        stats.set_value("newsarchive/exit_status", outcome.status)
        for reason in outcome.reasons:
            logger.error("crawl %s: %s", session.crawl_id, reason)
        summary_file = self._write_summary(crawl, counts, outcome.reasons)
        where = (
            f"{session.store.uri} (manifest {key})" if key is not None
            else f"{session.store.uri}, not complete (see the errors above)"
        )
        self.end_summary = runsummary.render_text(
            {"crawl_id": session.crawl_id, "counts": counts,
             "files": [{"kind": f.kind, "size": f.size} for f in session.files]},
            outcome.reasons, where, summary_file,
            fetched_bytes=int(stats.get_value("downloader/response_bytes", 0)),
        )
        if key is None:
            return
        stats.set_value("newsarchive/manifest", key)
        warcs = sum(1 for f in session.files if f.kind == "warc")
        shards = sum(1 for f in session.files if f.kind == "text")
        logger.info(
            "crawl %s archived: %d articles, %d exchanges in %d WARC file(s), "
            "%d text shard(s); manifest %s/%s",
            session.crawl_id, counts["articles"], counts["warc_exchanges"], warcs, shards,
            session.store.uri, key,
        )

    def _write_summary(
        self, crawl: dict[str, Any], counts: dict[str, Any], reasons: tuple[str, ...]
    ) -> str:
        """The Markdown run summary: to its file, and to GitHub's job page when there.

        Returns where it went (or why not), for the end summary."""
        session = self.session
        doc = {
            "crawl_id": session.crawl_id,
            "crawl": crawl,
            "counts": counts,
            "files": [{"kind": f.kind} for f in session.files],
        }
        text = runsummary.render(doc, reasons)
        path = Path(
            session.config.summary_file
            or session.spool / "summaries" / f"{session.crawl_id}.md"
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            logger.info("run summary written to %s", path)
            step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
            if step_summary:
                with open(step_summary, "a", encoding="utf-8") as f:
                    f.write(text + "\n")
        except OSError as e:
            logger.error("could not write the run summary to %s: %s", path, e)
            return f"not written ({e.strerror or e})"
        return str(path)
