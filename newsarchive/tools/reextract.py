"""Rebuild a crawl's clean-text records from its archived WARC files, without refetching.

The WARC keeps every response as received, so a better extractor can improve an old
crawl: this reads the crawl's manifest, walks the response records of its WARC files,
runs the current :func:`newsarchive.extract.extractor.extract` on the article pages (in a process
pool) and writes new text shards and a new manifest under a new crawl id that records
``reextract_of``. Nothing of the old crawl is touched. The new records' ``warc``
provenance points at the original response records.

Which responses are articles: those that had a text record in the source crawl, plus
every other 200 ``text/html`` response that :mod:`newsarchive.discovery.classify` calls an article
(so pages the old extractor discarded get another chance).
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

from newsarchive.archive import layout
from newsarchive.archive.records import Capture, build_record
from newsarchive.archive.session import CrawlSession
from newsarchive.archive.summary import load_manifest, text_records
from newsarchive.discovery.classify import is_article
from newsarchive.discovery.sites import Site, load_registry
from newsarchive.errors import NewsarchiveError, StorageError
from newsarchive.extract.extractor import Discarded, ExtractOptions, decode_body, extract
from newsarchive.extract.pool import executor
from newsarchive.progress import Bar, CountingReader
from newsarchive.storage import open_store
from newsarchive.warc.encodings import DecodingError
from newsarchive.warc.encodings import decode_body as decode_content
from newsarchive.warc.writer import RecordLocation

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Response:
    """One archived HTTP response, its body decoded from its Content-Encoding."""

    location: RecordLocation
    url: str
    status: int
    content_type: str
    charset: str | None
    body: bytes


@dataclass
class Outcome:
    """What one re-extraction did."""

    crawl_id: str
    source_crawl_id: str
    manifest_key: str
    responses: int = 0
    candidates: int = 0
    articles: int = 0
    previous_articles: int = 0
    discarded: Counter[str] = field(default_factory=Counter)


# --- reading WARC files ---------------------------------------------------------------------


def _media_type(content_type: str | None) -> tuple[str, str | None]:
    parts = [p.strip() for p in (content_type or "").split(";")]
    charset = next(
        (p.split("=", 1)[1].strip("\"' ") for p in parts[1:] if p.lower().startswith("charset=")),
        None,
    )
    return parts[0].lower(), charset or None


def _fastwarc_responses(stream: BinaryIO, key: str, size: int) -> Iterator[Response]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    pending: tuple[int, Any, bytes] | None = None  # a response waiting for its length
    for record in ArchiveIterator(stream, parse_http=False):
        if pending is not None:
            yield _response(key, *pending, end=record.stream_pos)
            pending = None
        if record.record_type != WarcRecordType.response:
            continue
        record.parse_http()
        pending = (record.stream_pos, record, record.reader.read())
    if pending is not None:
        yield _response(key, *pending, end=size)


def _response(key: str, offset: int, record: Any, raw: bytes, end: int) -> Response:
    headers = record.http_headers
    media_type, charset = _media_type(headers.get("Content-Type"))
    return Response(
        location=RecordLocation(
            file=key,
            offset=offset,
            length=end - offset,
            record_id=record.record_id,
            payload_digest=record.headers.get("WARC-Payload-Digest"),
            date=record.headers.get("WARC-Date") or "",
        ),
        url=record.headers.get("WARC-Target-URI") or "",
        status=headers.status_code or 0,
        content_type=media_type,
        charset=charset,
        body=_safe_decode(raw, headers.get("Content-Encoding"), key, offset),
    )


def _warcio_responses(stream: BinaryIO, key: str) -> Iterator[Response]:
    from warcio.archiveiterator import ArchiveIterator

    iterator = ArchiveIterator(stream)
    for record in iterator:
        if record.rec_type != "response" or record.http_headers is None:
            continue
        raw = record.raw_stream.read()  # still content-encoded: decoded below
        iterator.read_to_end(record)
        offset, length = iterator.get_record_offset(), iterator.get_record_length()
        headers = record.http_headers
        media_type, charset = _media_type(headers.get_header("Content-Type"))
        yield Response(
            location=RecordLocation(
                file=key,
                offset=offset,
                length=length,
                record_id=record.rec_headers.get_header("WARC-Record-ID"),
                payload_digest=record.rec_headers.get_header("WARC-Payload-Digest"),
                date=record.rec_headers.get_header("WARC-Date") or "",
            ),
            url=record.rec_headers.get_header("WARC-Target-URI") or "",
            status=int(headers.get_statuscode() or 0),
            content_type=media_type,
            charset=charset,
            body=_safe_decode(raw, headers.get_header("Content-Encoding"), key, offset),
        )


# What a crawl decodes at most (DOWNLOAD_MAXSIZE's default): a bomb stays a bomb.
_MAX_DECODED = 32 * 1024 * 1024


def _safe_decode(raw: bytes, encoding: str | None, key: str, offset: int) -> bytes:
    try:
        return decode_content(raw, encoding, _MAX_DECODED)
    except DecodingError as e:  # a broken body: the extractor reports it as not-html
        logger.warning("%s@%d: cannot undo Content-Encoding %r: %s", key, offset, encoding, e)
        return raw


def iter_responses(stream: BinaryIO, key: str, size: int) -> Iterator[Response]:
    """The response records of one WARC file, with their location in it.

    Uses FastWARC when it is installed (several times faster), else warcio.
    """
    try:
        import fastwarc  # noqa: F401
    except ImportError:
        yield from _warcio_responses(stream, key)
    else:
        yield from _fastwarc_responses(stream, key, size)


# --- choosing and extracting ----------------------------------------------------------------


def _source_manifests(store: Any, crawl_id: str | None) -> tuple[dict, dict]:
    """The crawl to re-extract and the crawl that holds its WARC files (itself, unless it
    is a re-extraction, whose WARC files are its source's)."""
    manifest = load_manifest(store, crawl_id)
    origin = manifest
    seen = {origin["crawl_id"]}
    while not any(f["kind"] == "warc" for f in origin["files"]):
        source = origin.get("crawl", {}).get("reextract_of")
        if not source or source in seen:
            raise StorageError(f"crawl {manifest['crawl_id']} lists no WARC files to re-extract")
        seen.add(source)
        origin = load_manifest(store, source)
    return manifest, origin


_HTML_TYPES = ("text/html", "application/xhtml+xml")


def _check_sources(store: Any, origin: dict[str, Any], progress: bool = False) -> None:
    """Every WARC file to read matches its manifest, before anything is written.

    A damaged file would otherwise end the run half-way (a flipped byte) or, cut short,
    silently give fewer texts; either way leaving a partial re-extraction behind.
    """
    warcs = [entry for entry in origin["files"] if entry["kind"] == "warc"]
    with Bar(progress, sum(int(e["size"]) for e in warcs), "check WARC", "B") as bar:
        for entry in warcs:
            _check_source(store, entry, bar)


def _check_source(store: Any, entry: dict[str, Any], bar: Bar) -> None:
    digest = hashlib.sha256()
    try:
        with store.open(entry["key"]) as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
                bar.update(len(chunk))
    except OSError as e:
        raise StorageError(f"cannot read {entry['key']}: {e}") from e
    if digest.hexdigest() != entry["sha256"]:
        raise StorageError(
            f"{entry['key']} does not match its manifest sha256 (run `newsarchive "
            "verify` on the archive); nothing re-extracted"
        )


def _is_candidate(response: Response, known: dict[str, dict], site: Site | None) -> bool:
    if response.location.record_id in known:
        return True
    if response.status != 200 or response.content_type not in _HTML_TYPES:
        return False
    from parsel import Selector

    from newsarchive.discovery.links import page_head

    try:
        text, _ = decode_body(response.body, response.charset)
        signals = page_head(Selector(text=text)).signals
    except Exception:  # unparseable: the URL alone decides
        from newsarchive.discovery.classify import PageSignals

        signals = PageSignals()
    if site is None:
        return is_article(response.url, signals)
    return is_article(response.url, signals, site.article_patterns, site.deny_patterns)


def _bounded(
    pool: ProcessPoolExecutor,
    items: Iterable[Response],
    options: ExtractOptions,
    limit: int,
) -> Iterator[tuple[Response, Future]]:
    """Submit extractions, at most ``limit`` in flight, and yield them in order."""
    window: list[tuple[Response, Future]] = []
    for response in items:
        body = response.body
        slim = replace(response, body=b"")  # the parent does not need the body any more
        window.append((slim, pool.submit(extract, body, response.url, response.charset, options)))
        if len(window) >= limit:
            yield window.pop(0)
    yield from window


def reextract(
    archive: str,
    crawl_id: str | None = None,
    *,
    workers: int = 0,
    extractor: str | None = None,
    options: ExtractOptions | None = None,
    progress: Callable[[Response], None] | None = None,
    progress_bar: bool = False,
) -> Outcome:
    """Re-extract crawl ``crawl_id`` (default: the latest complete one) of ``archive``.

    ``progress`` is called with each article page extracted; ``progress_bar`` shows bars
    on stderr in bytes of WARC read (checking the files, then extracting from them).
    """
    from scrapy.settings import Settings

    from newsarchive.config import Config

    settings = Settings()
    settings.setmodule("newsarchive.settings")
    settings.set("NEWSARCHIVE_ARCHIVE", archive)
    settings.set("NEWSARCHIVE_EXTRACT_WORKERS", workers)
    if extractor is not None:
        settings.set("NEWSARCHIVE_EXTRACTOR", extractor)
    config = Config.from_settings(settings)
    manifest, origin = _source_manifests(open_store(archive), crawl_id)
    # Everything read before the session opens: a damaged file then leaves nothing behind.
    known = {r["warc"]["record_id"]: r for r in text_records(open_store(archive), manifest)}
    _check_sources(open_store(archive), origin, progress_bar)
    session = CrawlSession.open(config)  # checks the archive is writable, new crawl id
    store = session.store
    source_id = manifest["crawl_id"]
    site = manifest.get("crawl", {}).get("site") or origin.get("crawl", {}).get("site")
    entry = _site_entry(config.sites_file, site)
    options = options or ExtractOptions(min_words=config.min_words, mode=config.extractor)
    if entry is not None:  # the site's own selectors and language, as in the crawl
        options = replace(
            options,
            extra_drop_selectors=options.extra_drop_selectors or entry.drop_selectors,
            language_hint=options.language_hint or entry.language,
        )
    outcome = Outcome(session.crawl_id, source_id, layout.manifest_key(session.crawl_id))
    outcome.previous_articles = len(known)
    logger.info("re-extracting crawl %s into %s", source_id, session.crawl_id)

    from newsarchive.archive.shards import ShardWriter

    writer = ShardWriter(
        session.crawl_id,
        session.spool,
        config.shard_max_records,
        lambda path, key, records: session.publish(path, key, "text", records),
    )
    session.add_closer(writer.close)
    warc_keys = sorted(f["key"] for f in origin["files"] if f["kind"] == "warc")
    sizes = {f["key"]: int(f["size"]) for f in origin["files"] if f["kind"] == "warc"}
    bar = Bar(progress_bar, sum(sizes.values()), "reextract", "B")

    def candidates() -> Iterator[Response]:
        for key in warc_keys:
            with store.open(key) as raw:
                stream = CountingReader(raw, bar) if bar.enabled else raw
                for response in iter_responses(stream, key, sizes[key]):
                    outcome.responses += 1
                    if _is_candidate(response, known, entry):
                        outcome.candidates += 1
                        yield response

    # The crawl's workers: a re-extraction killed or stopped takes them with it.
    with executor(config.extract_workers) as pool, bar:
        for response, future in _bounded(pool, candidates(), options, 4 * config.extract_workers):
            try:
                result = future.result()
            except Exception as e:  # a worker crash on one page must not stop the run
                result = Discarded("extractor-error", repr(e)[:200])
            if progress:
                progress(response)
            if isinstance(result, Discarded):
                outcome.discarded[result.reason] += 1
                continue
            old = known.get(response.location.record_id, {})
            capture = _capture(response, known, site, session.crawl_id)
            writer.write(
                build_record(
                    capture, result, old.get("version", 1), old.get("previous_id")
                )
            )
            outcome.articles += 1

    errors = session.close_writers()
    if errors:
        session.shutdown()
        raise StorageError(f"re-extraction {session.crawl_id}: storing shards failed: {errors[0]}")
    crawl = {
        "spider": None,
        "site": site,
        "reextract_of": source_id,
        "warc_crawl": origin["crawl_id"],
        "warc_files": warc_keys,
        "finish_reason": "finished",
    }
    counts = {
        "requests": 0,
        "responses": outcome.responses,
        "warc_exchanges": 0,
        "articles": outcome.articles,
        "discarded": dict(sorted(outcome.discarded.items())),
        "robots_forbidden": 0,
        "download_errors": 0,
        "http_status": {},
        "reextract_candidates": outcome.candidates,
        "previous_articles": outcome.previous_articles,
    }
    session.write_manifest(crawl, counts)
    session.shutdown()
    logger.info("re-extraction %s: %d articles", session.crawl_id, outcome.articles)
    return outcome


def _site_entry(sites_file: str, name: str | None) -> Site | None:
    """The crawl's site entry from the registry, if it is there (``-a url=`` crawls and
    sites since removed have none)."""
    if not name:
        return None
    try:
        return load_registry(sites_file).get(name)
    except NewsarchiveError as e:
        logger.warning("site registry not used: %s", e)
        return None


def _capture(
    response: Response, known: dict[str, dict], site: str | None, crawl_id: str
) -> Capture:
    old = known.get(response.location.record_id, {})
    location = response.location
    if old.get("warc"):  # the old record's location is the authority for its bytes
        warc = old["warc"]
        location = RecordLocation(
            file=warc["file"],
            offset=warc["offset"],
            length=warc["length"],
            record_id=warc["record_id"],
            payload_digest=warc.get("payload_digest"),
            date=location.date,
        )
    return Capture(
        url=old.get("url") or response.url,
        canonical_url=old.get("canonical_url"),
        site=old.get("site") or site or layout.safe_name(response.url.split("/")[2]),
        fetched_at=old.get("fetched_at") or location.date,
        status=response.status,
        crawl_id=crawl_id,
        discovery=old.get("discovery") or "link",
        warc=location,
    )
