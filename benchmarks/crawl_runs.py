"""What the crawl benchmark runs in its measured subprocesses.

Why a module of its own: each case runs in a fresh process so that its CPU time and
peak memory (with its pool workers) are its own, and these are the pieces those
processes import:

- :class:`JsonStatsCollector` (``-s STATS_CLASS=crawl_runs.JsonStatsCollector``): Scrapy's
  stats written to ``BENCH_STATS_FILE`` as JSON when the crawl ends;
- :class:`BareSpider`: case (a), a minimal spider with newsarchive's settings minus its
  components (``scrapy runspider benchmarks/crawl_runs.py -a url=…``);
- ``python benchmarks/crawl_runs.py extract …``: cases (c) and (e), an extractor over
  the benchmark's pages in a spawn process pool of the crawl's size.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from crawl_site import ARTICLE_PATH, requisite_key
from scrapy.statscollectors import MemoryStatsCollector


class JsonStatsCollector(MemoryStatsCollector):
    def _persist_stats(self, stats: dict[str, Any]) -> None:
        super()._persist_stats(stats)
        path = self._crawler.settings.get("BENCH_STATS_FILE")
        if path:
            Path(path).write_text(json.dumps(
                stats, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v)))


class LocalRequisites:
    """Spider middleware (benchmark only): every page requisite is fetched from the
    benchmark's requisite server (``BENCH_CDN``) instead of the real host the page
    names, each URL from a file of its own (``crawl_site.requisite_key``).

    Rewritten as the spider yields it, before it is scheduled: it goes through the
    scheduler and the downloader middlewares once, as a real requisite does. (It was a
    downloader middleware, whose rewritten request was scheduled a second time: each
    requisite paid twice for scheduling, fingerprinting and the middlewares below it,
    a cost no real crawl pays.)"""

    def __init__(self, cdn: str) -> None:
        self.cdn = cdn.rstrip("/")

    @classmethod
    def from_crawler(cls, crawler: Any) -> LocalRequisites:
        return cls(crawler.settings.get("BENCH_CDN"))

    def _local(self, output: Any) -> Any:
        from newsarchive.crawl.requisites import requisite_of

        if (not isinstance(output, scrapy.Request) or requisite_of(output) is None
                or output.url.startswith(self.cdn)):
            return output
        return output.replace(url=f"{self.cdn}/r/{requisite_key(output.url)}")

    def process_spider_output(self, response: Any, result: Iterable[Any]) -> Iterator[Any]:
        for output in result:
            yield self._local(output)

    async def process_spider_output_async(self, response: Any, result: Any) -> Any:
        async for output in result:
            yield self._local(output)


class BareSpider(scrapy.Spider):
    """Fetch and follow every link, nothing else: what any Scrapy crawl pays.

    ``-a follow=below-limit`` reads no links from pages at ``DEPTH_LIMIT`` (whose links
    Scrapy would drop anyway): close to fetching alone.
    """

    name = "bare"
    custom_settings = {  # newsarchive's settings module without newsarchive's components
        "DOWNLOADER_MIDDLEWARES": {},
        "ITEM_PIPELINES": {},
        "EXTENSIONS": {},
        "USER_AGENT": "newsarchive-benchmark (bare Scrapy)",
    }

    def __init__(self, url: str, follow: str = "all", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = [url]
        self.allowed_domains = [urlsplit(url).hostname or ""]
        self.follow = follow

    def parse(self, response: scrapy.http.Response) -> Iterator[scrapy.Request]:
        limit = self.settings.getint("DEPTH_LIMIT")
        if self.follow == "below-limit" and response.meta.get("depth", 0) >= limit:
            return
        for href in response.xpath("//a/@href").getall():
            url = response.urljoin(href.strip())
            if url.startswith(("http://", "https://")):
                yield scrapy.Request(url)


# -- standalone extraction (cases c and e) ------------------------------------------------

def _warm(engine: str) -> None:
    if engine == "newsarchive":
        import newsarchive.extract.extractor  # noqa: F401
    else:
        import trafilatura  # noqa: F401


def trafilatura_json(body: bytes, url: str) -> bool:
    import trafilatura

    return trafilatura.extract(body, url=url, with_metadata=True, output_format="json") is not None


def newsarchive_extract(body: bytes, url: str) -> bool:
    from newsarchive.extract.extractor import Extracted, ExtractOptions, extract

    return isinstance(extract(body, url, None, ExtractOptions()), Extracted)


def run_extraction(site: Path, pages: int, workers: int, engine: str, in_flight: int) -> dict:
    """Extract ``pages`` pages (the site's page files in URL order) in a spawn pool.

    Timed from the pool's creation (workers start and import, as in a crawl) to the
    last result; at most ``in_flight`` pages are queued, as a crawl's pipeline would.
    """
    files = sorted((site / "p").glob("*.html"))
    bodies = [(f.stem, f.read_bytes()) for f in files]
    func = newsarchive_extract if engine == "newsarchive" else trafilatura_json
    started = time.monotonic()
    executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    for _ in range(workers):
        executor.submit(_warm, engine)
    pending: set[Future[bool]] = set()
    ok = 0
    for i in range(pages):
        page_id, body = bodies[i % len(bodies)]
        url = "http://127.0.0.1" + ARTICLE_PATH.format(i=i, id=page_id)
        if len(pending) >= in_flight:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            ok += sum(f.result() for f in done)
        pending.add(executor.submit(func, body, url))
    ok += sum(f.result() for f in pending)
    seconds = time.monotonic() - started
    executor.shutdown()
    return {"seconds": seconds, "pages": pages, "extracted": ok}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("command", choices=["extract"])
    parser.add_argument("--site", type=Path, required=True)
    parser.add_argument("--pages", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--engine", choices=["trafilatura", "newsarchive"], required=True)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    result = run_extraction(args.site, args.pages, args.workers, args.engine, args.in_flight)
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
