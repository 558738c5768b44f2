"""Downloader middleware that writes every HTTP exchange of the crawl into WARC files.

It sits next to the downloader (priority 950), so it sees each response before
Scrapy decompresses it or follows a redirect: the WARC keeps the bytes as received.
Serialising and gzip-compressing records happens on one writer thread, never on the
reactor thread; the response waits for its record so callbacks know its location.
Metadata records (what the spider learnt from a page; for a page requisite, the page
that needed it, written with its response) go through the same thread, and each
finished WARC file gets its CDXJ index there before both are stored.
"""

from __future__ import annotations

import logging
import threading
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse, Response
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet import threads
from twisted.internet.defer import Deferred
from twisted.python.threadpool import ThreadPool

from newsarchive import __version__
from newsarchive.archive import layout
from newsarchive.archive.records import Capture
from newsarchive.archive.session import CrawlSession
from newsarchive.archive.state import ArticleState
from newsarchive.crawl import errorcount
from newsarchive.crawl.incremental import prior_of
from newsarchive.crawl.items import PageMetadata
from newsarchive.crawl.politeness import user_agent
from newsarchive.crawl.requisites import requisite_of
from newsarchive.crawl.truncation import truncation
from newsarchive.discovery.requisites import kind_of
from newsarchive.discovery.urls import article_key
from newsarchive.rights.signals import HEAD_BYTES, says_noarchive
from newsarchive.warc import cdxj, encodings
from newsarchive.warc.writer import (
    Exchange,
    RecordLocation,
    RevisitOf,
    RollingWarcWriter,
    SpoolError,
    WarcOptions,
    payload_digest,
    payload_matches,
)

logger = logging.getLogger(__name__)

META_KEY = "newsarchive_warc"
UNCHANGED_KEY = "newsarchive_unchanged"  # set on a known article stored as a revisit
WITHHELD_KEY = "newsarchive_withheld"  # why a response was kept out of the WARC


def is_unchanged(response: Response) -> bool:
    """True for a known article whose fetch was stored as a revisit (no new text)."""
    return bool(response.meta.get(UNCHANGED_KEY))


def withheld(response: Response) -> str | None:
    """Why the response was kept out of the WARC (``noarchive``), None if it was not."""
    return response.meta.get(WITHHELD_KEY)


def warc_location(response: Response) -> RecordLocation | None:
    """Where the response's record was written (None if it was never captured)."""
    return response.meta.get(META_KEY)


def capture_middleware(crawler: Any) -> WarcCaptureMiddleware | None:
    """The crawler's capture middleware (None if it is not enabled); once the engine is
    built (Scrapy builds downloader middlewares with it)."""
    return crawler.get_downloader_middleware(WarcCaptureMiddleware)


def page_metadata(
    response: Response, crawl_id: str, outlinks: list[str],
    rights: dict[str, Any] | None = None,
) -> PageMetadata | None:
    """A metadata item for a captured page (None if the response was never captured)."""
    location = warc_location(response)
    if location is None:
        return None
    return PageMetadata(
        url=response.url,
        record_id=location.record_id,
        date=location.date,
        crawl_id=crawl_id,
        discovery=response.meta.get("discovery", "link"),
        outlinks=outlinks,
        redirected_from=list(response.meta.get("redirect_urls", ())),
        rights=rights,
    )


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def capture_of(
    response: Response, location: RecordLocation, *, site: str, canonical: str | None,
    crawl_id: str, discovery: str, rights: dict[str, Any] | None,
) -> Capture:
    """What the crawl knows of an archived article page, for its text record: the
    news spider and the hand-over of foreign spiders' pages describe it alike."""
    header = response.headers.get
    return Capture(
        url=response.url,
        canonical_url=canonical,
        site=site,
        fetched_at=location.date,
        status=response.status,
        crawl_id=crawl_id,
        discovery=response.meta.get("discovery", discovery),
        warc=location,
        etag=(header(b"ETag") or b"").decode("latin-1") or None,
        last_modified=(header(b"Last-Modified") or b"").decode("latin-1") or None,
        rights=rights,
    )


def header_pairs(headers: Any) -> list[tuple[str, str]]:
    """Scrapy headers as (name, value) strings, every value of a repeated header kept."""
    pairs = []
    for name, values in headers.items():
        key = name.decode("latin-1")
        for value in values:
            pairs.append((key, value.decode("latin-1")))
    return pairs


def to_exchange(request: Request, response: Response) -> Exchange:
    request_headers = header_pairs(request.headers)
    if not any(k.lower() == "host" for k, _ in request_headers):
        request_headers.insert(0, ("Host", urlsplit(request.url).netloc))
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    return Exchange(
        url=request.url,
        method=request.method,
        request_headers=request_headers,
        request_body=request.body or b"",
        protocol=response.protocol or "HTTP/1.1",
        status=response.status,
        reason=reason,
        response_headers=header_pairs(response.headers),
        body=response.body,
        ip_address=str(response.ip_address) if response.ip_address else None,
        truncated=truncation(request, response),
    )


class WarcCaptureMiddleware:
    def __init__(
        self, session: CrawlSession, writer: RollingWarcWriter, stats: Any, crawler: Any = None
    ) -> None:
        self.session = session
        self.writer = writer
        self.stats = stats
        self.crawler = crawler
        self.withhold_noarchive = session.config.noarchive == "withhold"
        self.pool = ThreadPool(1, 1, name="newsarchive-warc")
        # Requisites stored whole in this crawl, by payload digest (one per distinct
        # payload: a news site has a few hundred stylesheets, fonts and logos).
        self._payloads: dict[str, RevisitOf] = {}
        self._writing: dict[str, list[Deferred[RevisitOf | None]]] = {}  # being written
        # A daemon: after a forced stop nothing closes the pool, and a live thread
        # waiting on its queue kept the process from ever exiting. Every record is
        # written whole or cut back by the next crawl's recovery.
        self.pool.threadFactory = _daemon_thread  # type: ignore[method-assign]

    @classmethod
    def from_crawler(cls, crawler: Any) -> WarcCaptureMiddleware:
        session = CrawlSession.from_crawler(crawler)
        config = session.config
        settings = crawler.settings
        info = {
            "software": f"newsarchive/{__version__} (Scrapy, warcio)",
            "operator": config.operator,
            "http-header-user-agent": user_agent(settings),
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            "isPartOf": session.crawl_id,
        }
        options = WarcOptions(
            crawl_id=session.crawl_id,
            spool=session.spool,
            prefix=config.warc_prefix,
            version=config.warc_version,
            max_size=config.warc_max_size,
            gzip_level=config.warc_gzip_level,
            warcinfo={k: v for k, v in info.items() if v},
            host=config.worker_id or layout.hostname(),  # a worker's name, several machines
        )

        writer = RollingWarcWriter(options, on_close=lambda *args: publish_warc(session, *args))
        middleware = cls(session, writer, crawler.stats, crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        session.add_closer(middleware.close)
        return middleware

    def spider_opened(self) -> None:
        self.pool.start()

    def close(self) -> None:
        """Called by the session once no download is in flight: finish the open file."""
        self.pool.stop()
        self.writer.close()

    async def process_response(self, request: Request, response: Response) -> Response:
        exchange = to_exchange(request, response)
        html = isinstance(response, HtmlResponse)
        # Only a page has a <head> to read: the body as received, still in its
        # Content-Encoding at this priority, decoded as far as HEAD_BYTES.
        head = encodings.head(
            response.body, _header(response, b"Content-Encoding"), HEAD_BYTES
        ) if html and self.withhold_noarchive else b""
        if self.withhold_noarchive and says_noarchive(exchange.response_headers, head, html):
            # The publisher asked for no archived copy: none is kept, so no output can
            # show one. The page is still read for links (noarchive is not nofollow).
            request.meta[WITHHELD_KEY] = "noarchive"
            self.stats.inc_value("newsarchive/withheld/noarchive")
            return response
        from twisted.internet import reactor

        write: Any = self.writer.write_exchange
        args: tuple[Any, ...] = (exchange,)
        found = prior_of(request)
        requisite = requisite_of(request)
        unchanged = found is not None and found[1].payload_digest is not None and (
            response.status == 304
            or (response.status == 200 and payload_matches(response.body, found[1].payload_digest))
        )
        original: RevisitOf | None = None
        digest: str | None = None
        if unchanged:
            # A known article or requisite, not modified: a revisit record, not a copy.
            prior = found[1]
            original = RevisitOf(prior.url, prior.fetched_at, prior.payload_digest, prior.record_id)
        elif requisite is not None and response.status == 200 and not exchange.truncated:
            # The same logo or font under another URL (a cache-busting query, a second
            # CDN): stored once per crawl, then as identical-payload-digest revisits.
            digest = payload_digest(response.body)
            original = self._payloads.get(digest)
            if original is None and digest in self._writing:
                # The same bytes are being written for another URL right now: wait
                # for that record and refer to it (None if it could not be written).
                waiter: Deferred[RevisitOf | None] = Deferred()
                self._writing[digest].append(waiter)
                original = await maybe_deferred_to_future(waiter)
            elif original is None:
                self._writing[digest] = []
        if original is not None:
            write, args = self.writer.write_revisit, (exchange, original)
        first = digest is not None and original is None
        kind, about = "", None
        if requisite is not None:
            kind = kind_of(_header(response, b"Content-Type"), requisite.hint)
            about = PageMetadata(
                url=response.url, record_id="", date="", crawl_id=self.session.crawl_id,
                discovery="requisite", redirected_from=list(request.meta.get("redirect_urls", ())),
                via=requisite.page, embedded_in=requisite.parent, requisite=kind,
            )
        try:
            if about is None:
                location = await maybe_deferred_to_future(
                    threads.deferToThreadPool(reactor, self.pool, write, *args)
                )
            else:
                location, described = await maybe_deferred_to_future(
                    threads.deferToThreadPool(
                        reactor, self.pool, self._write_described, write, args, about)
                )
                self._described(described, response.url)
        except SpoolError as e:
            if first:
                self._written(digest, None)
            self._stop(e)
            raise  # not archived: the request fails (newsarchive/failed/storage)
        if first:
            self._written(digest, RevisitOf(request.url, location.date, digest,  # type: ignore[arg-type]
                                            location.record_id))
        request.meta[META_KEY] = location
        self.stats.inc_value("newsarchive/warc/writer/exchanges")
        self.stats.inc_value("newsarchive/warc/writer/bytes", location.length)
        if original is not None:
            self.stats.inc_value("newsarchive/warc/writer/revisits")
        if unchanged:
            request.meta[UNCHANGED_KEY] = True
            if requisite is None:
                self.stats.inc_value("newsarchive/articles/unchanged")
            state = self.session.state
            if state is not None:
                state.touch(found[0], checked_at=location.date)
        if requisite is not None:
            self._requisite_captured(request, response, kind, location, unchanged,
                                     digest, original)
        return response

    def _write_described(
        self, write: Any, args: tuple[Any, ...], about: PageMetadata
    ) -> tuple[RecordLocation, RecordLocation | Exception]:
        """On the writer thread: a requisite's record, then the metadata record naming
        the page that needed it. Why here and not from the spider: that record needs
        nothing the spider learns (a page's outlinks do), and written with the
        response it costs the reactor no second hand-off to this thread and no item
        through the pipelines, for every requisite; and a requisite that never
        reaches the spider (a redirect, a 404, a truncated one) is described too."""
        location = write(*args)
        about.record_id, about.date = location.record_id, location.date
        try:
            return location, self.writer.write_metadata(
                about.url, about.warc_fields(), location.record_id, location.date)
        except Exception as e:  # noqa: BLE001  # the response is archived whatever befalls this
            return location, e

    def _described(self, described: RecordLocation | Exception, url: str) -> None:
        if isinstance(described, SpoolError):
            self._stop(described)  # the spool is full or failing: the crawl stops
            return
        if isinstance(described, Exception):
            logger.error("metadata record of requisite %s not written (its response is "
                         "archived)", url, exc_info=described)
            errorcount.count(self.stats, "downloader/WarcCaptureMiddleware", described)
            return
        self.stats.inc_value("newsarchive/warc/writer/metadata")
        self.stats.inc_value("newsarchive/warc/writer/bytes", described.length)

    def _written(self, digest: str, original: RevisitOf | None) -> None:
        """A requisite's payload was stored whole (or not, None): later copies, and
        those waiting for it, become revisits of it."""
        if original is not None:
            self._payloads[digest] = original
        for waiter in self._writing.pop(digest, []):
            waiter.callback(original)

    def _requisite_captured(
        self, request: Request, response: Response, kind: str,
        location: RecordLocation, unchanged: bool, digest: str | None,
        original: RevisitOf | None,
    ) -> None:
        """Count a captured requisite by kind and bytes; remember its payload for
        identical-payload revisits in this crawl and, when stored whole, for the next
        crawl's conditional request."""
        prefix = "newsarchive/requisites/"
        self.stats.inc_value(f"{prefix}responses")
        self.stats.inc_value(f"{prefix}bytes", len(response.body))
        self.stats.inc_value(f"{prefix}by_type/{kind}/count")
        self.stats.inc_value(f"{prefix}by_type/{kind}/bytes", len(response.body))
        if unchanged:
            self.stats.inc_value(f"{prefix}unchanged")
            prior = prior_of(request)
            if prior is not None and prior[1].payload_digest:
                self._payloads.setdefault(prior[1].payload_digest, original)  # type: ignore[arg-type]
            return
        if original is not None:
            self.stats.inc_value(f"{prefix}duplicate_payloads")
            return
        if response.status != 200 or digest is None:
            return
        state = self.session.state
        if state is not None:
            header = response.headers.get
            state.put(article_key(request.url), ArticleState(
                url=request.url,
                fetched_at=location.date,
                record_id=location.record_id,
                payload_digest=digest,
                etag=(header(b"ETag") or b"").decode("latin-1") or None,
                last_modified=(header(b"Last-Modified") or b"").decode("latin-1") or None,
                checked_at=location.date,
                kind="requisite",
            ))

    async def write_metadata(self, item: PageMetadata) -> RecordLocation:
        """Write a metadata record for a captured page, on the writer thread."""
        from twisted.internet import reactor

        try:
            location = await maybe_deferred_to_future(
                threads.deferToThreadPool(
                    reactor, self.pool, self.writer.write_metadata,
                    item.url, item.warc_fields(), item.record_id, item.date,
                )
            )
        except SpoolError as e:
            self._stop(e)
            raise DropItem(
                f"metadata of {item.url} not archived: {e}", log_level="DEBUG"
            ) from None
        self.stats.inc_value("newsarchive/warc/writer/metadata")
        self.stats.inc_value("newsarchive/warc/writer/bytes", location.length)
        return location


    def _stop(self, error: SpoolError) -> None:
        """The spool refused a record: stop the crawl (once); what is written stays valid."""
        if self.stats.get_value("newsarchive/spool_errors"):
            return
        self.stats.set_value("newsarchive/spool_errors", 1)
        logger.error("%s: stopping the crawl; the WARC file ends at its last whole record",
                     error)
        if self.crawler is not None and self.crawler.engine is not None:
            reason = "spool_full" if error.full else "spool_error"
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))


def _daemon_thread(*args: Any, **kwargs: Any) -> threading.Thread:
    return threading.Thread(*args, daemon=True, **kwargs)


def publish_warc(session: CrawlSession, path: Path, key: str, records: int) -> None:
    """Index a closed WARC file (CDXJ beside it), then hand both to the session to store.

    Runs on the writer thread. An index that cannot be built is logged and left out
    (`newsarchive verify` reports it); the WARC is stored regardless.
    """
    try:
        index_path, lines = cdxj.write_index(path)
    except OSError as e:  # a full or read-only spool: one line, not a traceback
        logger.error("could not index %s (%s); storing it without a CDXJ index",
                     key, e.strerror or e)
        index_path = None
    except Exception:
        logger.exception("could not index %s; storing it without a CDXJ index", key)
        index_path = None
    session.publish(path, key, "warc", records)
    if index_path is not None:
        session.publish(index_path, cdxj.index_key(key), "cdxj", lines)
