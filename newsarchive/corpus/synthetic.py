"""A synthetic archive of any size, for benchmarks and tests of the corpus readers.

Writes text shards in the crawler's layout (gzip JSONL, fast compression level) and a
real manifest, with records
that follow the record contract and carry 2–4 KB of text assembled from a pool of
generated paragraphs, spread over sites and fetch days. A share of records are exact
copies and a share near copies (one sentence changed) of earlier ones, so dedupe has
work to do. No WARC files are written: provenance points at a key that is not there.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from newsarchive.archive import layout, manifest
from newsarchive.archive.jsonl import GzipJsonLines
from newsarchive.archive.manifest import FileEntry
from newsarchive.archive.records import content_hash
from newsarchive.storage import sha256_file

LANGUAGES = ("en", "de", "fr", "es", "ru")


@dataclass(frozen=True)
class Synthetic:
    records: int
    crawl_id: str
    exact_copies: int
    near_copies: int


def _pool(rng: random.Random, size: int) -> list[str]:
    syllables = ["ka", "lo", "mi", "ner", "ta", "so", "vel", "ri", "dan", "po", "ex", "ul",
                 "gra", "ten", "bo", "sil", "mar", "que", "zi", "ha"]
    vocabulary = [
        "".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) for _ in range(6000)
    ]
    paragraphs = []
    for _ in range(size):
        sentences = []
        for _ in range(rng.randint(3, 6)):
            words = rng.choices(vocabulary, k=rng.randint(8, 22))
            sentences.append(" ".join(words).capitalize() + ".")
        paragraphs.append(" ".join(sentences))
    return paragraphs


def build(
    root: Path,
    records: int,
    *,
    sites: int = 4,
    days: int = 10,
    shard_records: int = 10_000,
    copy_share: float = 0.01,
    seed: int = 7,
    start: datetime = datetime(2026, 3, 1, tzinfo=UTC),
) -> Synthetic:
    """Write one complete crawl of ``records`` records into the archive folder ``root``."""
    rng = random.Random(seed)
    crawl_id = layout.new_crawl_id(start)
    paragraphs = _pool(rng, 4000)
    writer = _Shards(root, crawl_id, shard_records)
    recent: list[str] = []
    exact = near = 0
    for n in range(records):
        roll = rng.random()
        if recent and roll < copy_share:
            text = rng.choice(recent)
            exact += 1
        elif recent and roll < 2 * copy_share:
            base = rng.choice(recent).split("\n\n")
            base[0] = f"Updated lede number {n}: " + base[0][:200]
            text = "\n\n".join(base)
            near += 1
        else:
            chosen = rng.sample(paragraphs, rng.randint(4, 7))
            text = "\n\n".join([f"Story {n}.", *chosen])
        if len(recent) < 500:
            recent.append(text)
        elif rng.random() < 0.01:
            recent[rng.randrange(500)] = text
        writer.write(_record(rng, n, text, crawl_id, sites, days, start))
    files = writer.close()
    doc = manifest.build_manifest(
        crawl_id=crawl_id,
        crawl={"spider": "synthetic", "site": None, "finish_reason": "finished",
               "started_at": start.isoformat(), "finished_at": start.isoformat()},
        files=files,
        counts={"requests": records, "responses": records, "warc_exchanges": records,
                "articles": records, "discarded": {"too-short": records // 100},
                "robots_forbidden": 0, "download_errors": 0, "http_status": {"200": records}},
        settings={"synthetic": True, "seed": seed},
    )
    (root / "crawls").mkdir(parents=True, exist_ok=True)
    (root / layout.manifest_key(crawl_id)).write_bytes(manifest.dumps(doc))
    return Synthetic(records, crawl_id, exact, near)


class _Shards:
    """Shards per (site, fetch day) under the archive's keys, rolled at max_records."""

    def __init__(self, root: Path, crawl_id: str, max_records: int) -> None:
        self.root, self.crawl_id, self.max_records = root, crawl_id, max_records
        self.open: dict[tuple[str, str], tuple[str, Any, int]] = {}
        self.files: list[FileEntry] = []
        self.serial = 0

    def write(self, record: dict[str, Any]) -> None:
        partition = (record["site"], record["fetched_at"][:10])
        if partition not in self.open:
            self.serial += 1
            key = layout.text_key(*partition, self.crawl_id, self.serial)
            path = self.root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            self.open[partition] = (key, GzipJsonLines(path, level=1), 0)
        key, stream, count = self.open[partition]
        stream.write(record)
        self.open[partition] = (key, stream, count + 1)
        if count + 1 >= self.max_records:
            self._finish(partition)

    def _finish(self, partition: tuple[str, str]) -> None:
        key, stream, count = self.open.pop(partition)
        stream.close()
        path = self.root / key
        self.files.append(FileEntry(key, "text", path.stat().st_size, sha256_file(path), count))

    def close(self) -> list[FileEntry]:
        for partition in list(self.open):
            self._finish(partition)
        return self.files


def _record(
    rng: random.Random, n: int, text: str, crawl_id: str, sites: int, days: int, start: datetime
) -> dict[str, Any]:
    site = f"site{n % sites}"
    fetched = start + timedelta(days=rng.randrange(days), seconds=rng.randrange(86_400))
    published = fetched - timedelta(hours=rng.randint(1, 72))
    record_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    url = f"https://{site}.example/news/{published:%Y/%m/%d}/story-{n}.html"
    return {
        "id": record_id,
        "schema": 1,
        "url": url,
        "canonical_url": url,
        "site": site,
        "fetched_at": fetched.isoformat(timespec="seconds"),
        "published": published.isoformat(timespec="seconds"),
        "modified": None,
        "title": f"Story {n}",
        "authors": [f"Reporter {n % 97}"],
        "description": text[:160],
        "sitename": site.title(),
        "tags": ["synthetic", f"topic-{n % 13}"],
        "language": LANGUAGES[n % len(LANGUAGES)],
        "language_probability": 0.99,
        "text": text,
        "content_hash": content_hash(text),
        "word_count": len(text.split()),
        "crawl_id": crawl_id,
        "discovery": "sitemap",
        "http_status": 200,
        "warc": {"file": f"warc/{crawl_id}/synthetic.warc.gz", "offset": 0, "length": 0,
                 "record_id": f"<urn:uuid:{record_id}>", "payload_digest": None},
        "extractor": {"name": "synthetic", "version": "0", "options": {},
                      "boilerplate_removed": 0},
    }


def main() -> None:  # python -m newsarchive.corpus.synthetic ROOT RECORDS
    import sys

    result = build(Path(sys.argv[1]), int(sys.argv[2]))
    print(json.dumps(result.__dict__))


if __name__ == "__main__":
    main()
