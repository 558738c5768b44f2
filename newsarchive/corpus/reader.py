"""Reading an archive's clean-text records through its manifests, never bare listings.

Only crawls with a manifest exist for a reader, and only the text shards those
manifests list are read: a crawl that crashed half-way is invisible. Shards are
pruned by their ``site=``/``date=`` key before any download, then fetched by a small
thread pool ahead of the consumer (parallel downloads from a bucket), at most
``prefetch`` shards and ``prefetch_bytes`` of compressed data ahead (always at least
one shard), checked against the manifest's size and sha256, and streamed record by
record.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import re
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from newsarchive.archive.manifest import DamagedManifest
from newsarchive.archive.summary import read_manifest
from newsarchive.corpus.filters import Filter, partition_site
from newsarchive.errors import ConfigError, StorageError
from newsarchive.rights.takedowns import Withdrawn
from newsarchive.storage import Store, open_store

logger = logging.getLogger(__name__)

_TEXT_KEY = re.compile(r"^text/site=(?P<site>[^/]+)/date=(?P<day>[^/]+)/[^/]+$")


@dataclass(frozen=True)
class Shard:
    """One text shard as its manifest lists it."""

    key: str
    crawl_id: str
    site: str  # the partition name (layout.safe_name of the site)
    day: str  # the fetch date partition, YYYY-MM-DD
    records: int
    size: int
    sha256: str


class Archive:
    """An archive opened for reading: its complete crawls and their text shards."""

    def __init__(
        self,
        archive: str | Store,
        workers: int = 4,
        prefetch: int | None = None,
        prefetch_bytes: int = 32 << 20,
        all_extractions: bool = False,
        honour_takedowns: bool = True,
    ) -> None:
        self.store = open_store(archive) if isinstance(archive, str) else archive
        self.uri = self.store.uri
        if workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {workers}")
        self.workers = workers
        self.prefetch = max(prefetch or workers + 2, 1)
        self.prefetch_bytes = prefetch_bytes
        # A re-extraction supersedes the text of the crawl it re-extracted: each capture
        # counts once, with its latest extraction, unless every extraction is asked for.
        self.all_extractions = all_extractions
        self._manifests: dict[str, dict[str, Any]] | None = None
        # False only for the takedown command itself, which must find what it withdraws
        self.honour_takedowns = honour_takedowns
        self._withdrawn: Withdrawn | None = None
        # crawls whose manifest cannot be trusted: skipped, and named by the commands
        self.damaged: dict[str, DamagedManifest] = {}

    # -- manifests -------------------------------------------------------------------
    @property
    def manifests(self) -> dict[str, dict[str, Any]]:
        """Every complete crawl's manifest by crawl id, oldest first."""
        if self._manifests is None:
            ids = sorted(
                key.removeprefix("crawls/").removesuffix(".json")
                for key in self.store.list("crawls/")
                if key.endswith(".json") and key.count("/") == 1
            )
            if not ids:
                root = getattr(self.store, "root", None)
                if root is not None and not root.exists():
                    raise StorageError(f"archive {self.uri} does not exist")
                raise StorageError(
                    f"no complete crawl in {self.uri}: no manifest under crawls/ "
                    "(not a newsarchive archive, or no crawl has finished yet)"
                )
            with ThreadPoolExecutor(self.workers, thread_name_prefix="newsarchive-read") as pool:
                docs = list(pool.map(self._load_manifest, ids))
            self._manifests = {}
            for crawl_id, doc in zip(ids, docs, strict=True):
                if isinstance(doc, DamagedManifest):
                    self.damaged[crawl_id] = doc
                else:
                    self._manifests[crawl_id] = doc
            if not self._manifests:
                raise StorageError(
                    f"no readable crawl in {self.uri}: every manifest is damaged "
                    f"({self.damaged[ids[-1]]})"
                )
        return self._manifests

    def _load_manifest(self, crawl_id: str) -> dict[str, Any] | DamagedManifest:
        """A crawl's checked manifest, or why it cannot be read (it costs only that crawl)."""
        try:
            return read_manifest(self.store, crawl_id)
        except DamagedManifest as e:
            logger.info("%s; crawl skipped", e)  # the commands name it (warn_damaged)
            return e

    @property
    def withdrawn(self) -> Withdrawn:
        """The archive's takedown list: its articles are left out of every reading."""
        if self._withdrawn is None:
            self._withdrawn = Withdrawn.load(self.store) if self.honour_takedowns else (
                Withdrawn({}))
        return self._withdrawn

    def crawl_ids(self) -> list[str]:
        return list(self.manifests)

    def superseded(self) -> dict[str, str]:
        """Crawl id → the later re-extraction whose text replaces it.

        Crawls whose text comes from the same WARC files (a crawl and its re-extractions,
        ``crawl.warc_crawl``) form a group; the newest of a group holds its text.
        """
        newest = {_warc_crawl(doc, crawl_id): crawl_id  # oldest first: the last one stays
                  for crawl_id, doc in self.manifests.items()}
        return {
            crawl_id: newest[root]
            for crawl_id, doc in self.manifests.items()
            if newest[root := _warc_crawl(doc, crawl_id)] != crawl_id
        }

    def text_crawls(self, flt: Filter | None = None) -> list[str]:
        """The crawls whose text records a reader sees: those named by the filter, else
        every crawl not superseded by a re-extraction (or all, with all_extractions)."""
        flt = flt or Filter()
        if flt.crawls:
            return [c for c in self.manifests if c in flt.crawls]
        gone = {} if self.all_extractions else self.superseded()
        return [c for c in self.manifests if c not in gone]

    def shards(self, flt: Filter | None = None) -> list[Shard]:
        """The text shards a filter needs, in crawl then key order (a stable order)."""
        flt = flt or Filter()
        self.check(flt)
        chosen: list[Shard] = []
        wanted = set(self.text_crawls(flt))
        for crawl_id, doc in self.manifests.items():
            if crawl_id not in wanted:
                continue
            for entry in doc.get("files", []):
                if entry.get("kind") != "text":
                    continue
                match = _TEXT_KEY.match(entry["key"])
                if match is None:
                    logger.warning("skipping text file with an unexpected key: %s", entry["key"])
                    continue
                if not flt.wants_partition(match["site"], match["day"]):
                    continue
                chosen.append(
                    Shard(
                        key=entry["key"], crawl_id=crawl_id, site=match["site"],
                        day=match["day"], records=int(entry.get("records", 0)),
                        size=int(entry["size"]), sha256=entry["sha256"],
                    )
                )
        return sorted(chosen, key=lambda s: (s.crawl_id, s.key))

    def sites(self) -> list[str]:
        """Site partition names found in the manifests."""
        return sorted(
            {
                m["site"]
                for doc in self.manifests.values()
                for entry in doc.get("files", [])
                if entry.get("kind") == "text" and (m := _TEXT_KEY.match(entry["key"]))
            }
        )

    def check(self, flt: Filter) -> None:
        """Refuse filter values that name a crawl or site the archive does not hold."""
        held = set(self.manifests)  # loads them, and with them self.damaged
        damaged = sorted(flt.crawls & set(self.damaged))
        if damaged:
            raise StorageError(f"--crawl {damaged[0]!r}: {self.damaged[damaged[0]]}")
        unknown = sorted(flt.crawls - held)
        if unknown:
            raise ConfigError(
                f"--crawl {unknown[0]!r}: no complete crawl with that id in {self.uri} "
                f"(crawls: {', '.join(self.manifests)})"
            )
        sites = set(self.sites())
        missing = sorted(s for s in flt.sites if partition_site(s) not in sites)
        if missing:
            raise ConfigError(
                f"--site {missing[0]!r}: no such site in {self.uri} "
                f"(sites: {', '.join(sorted(sites)) or 'none'})"
            )

    # -- records ---------------------------------------------------------------------
    def _fetch(self, shard: Shard) -> bytes:
        try:
            data = self.store.read_bytes(shard.key)
        except OSError as e:
            raise StorageError(f"cannot read {self.uri}/{shard.key}: {e.strerror or e}") from None
        if len(data) != shard.size or hashlib.sha256(data).hexdigest() != shard.sha256:
            raise StorageError(
                f"{self.uri}/{shard.key} does not match its manifest (size or sha256 differ)"
            )
        return data

    def fetched(self, shards: Iterable[Shard]) -> Iterator[tuple[Shard, bytes]]:
        """Shards' bytes in order, downloaded a bounded number of shards and bytes ahead."""
        pending: deque[tuple[Shard, Future[bytes]]] = deque()
        todo = deque(shards)
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="newsarchive-read")

        def fill() -> None:
            ahead = sum(s.size for s, _ in pending)
            while todo and (
                not pending
                or (len(pending) < self.prefetch and ahead + todo[0].size <= self.prefetch_bytes)
            ):
                shard = todo.popleft()
                ahead += shard.size
                pending.append((shard, pool.submit(self._fetch, shard)))

        try:
            fill()
            while pending:
                shard, future = pending.popleft()
                data = future.result()
                fill()
                yield shard, data
                del data
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def records(
        self, flt: Filter | None = None, shards: list[Shard] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Records that match the filter, shard by shard, in a stable order."""
        flt = flt or Filter()
        for _shard, record in self.scan(flt, shards):
            if record is not None:
                yield record

    def scan(
        self, flt: Filter, shards: list[Shard] | None = None,
        left_out: Counter[str] | None = None,
    ) -> Iterator[tuple[Shard, dict[str, Any] | None]]:
        """Every record read with its shard; None stands for one that the filter drops.

        Callers that count what they read (progress, data cards) use this one;
        ``left_out`` counts the records withheld by a takedown or a rights filter, by
        reason, for the data card.
        """
        shards = self.shards(flt) if shards is None else shards
        withdrawn = self.withdrawn
        for shard, data in self.fetched(shards):
            with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as lines:
                for number, line in enumerate(lines, 1):
                    try:
                        record = json.loads(line)
                    except ValueError:
                        raise StorageError(
                            f"{self.uri}/{shard.key} line {number} is not a JSON record"
                        ) from None
                    if not flt.matches_selection(record):
                        yield shard, None
                        continue
                    why = "takedown" if withdrawn.record(record) else (
                        flt.excluded_by_rights(record))
                    if why is not None and left_out is not None:
                        left_out[why] += 1
                    yield shard, (record if why is None else None)


def _warc_crawl(manifest: dict[str, Any], crawl_id: str) -> str:
    """The crawl that fetched the WARC files a crawl's text was extracted from."""
    crawl = manifest.get("crawl")
    source = crawl.get("warc_crawl") if isinstance(crawl, dict) else None
    return str(source or crawl_id)
