"""Crawl throughput and memory: newsarchive against bare Scrapy and standalone extraction.

Why: a crawl's own work (WARC capture, metadata records, feeding the extraction pool)
must cost little next to what it cannot avoid — fetching pages and extracting their
text — and its memory must not grow with the number of pages. This measures both on
real news pages, in one run, so the ratios hold on a shared, noisy machine.

The site (``crawl_site.py``): the article-extraction-benchmark's 181 real pages, read in
place from DATA (default ``../shared/data/article-extraction-benchmark`` from the
project root; third-party content, never copied into the project), served under N
distinct article URLs with index pages linking them, by nginx on 127.0.0.1 (aiohttp
when nginx is missing; the table says which).

Cases, each a fresh process (its pool workers included in its CPU time and memory):

(a) bare Scrapy: a minimal spider that follows every link of every page, as the news
    spider does (``crawl_runs.BareSpider``), with newsarchive's settings without
    newsarchive's components: no WARC, no extraction;
(b) the full crawl: ``scrapy crawl news -a url=…`` into a temporary archive;
(c) ``trafilatura.extract(with_metadata=True, output_format="json")`` over the same N
    pages in a spawn process pool of the crawl's size (timed from the pool's start);
(d) the crawl with ``NEWSARCHIVE_EXTRACT=False``: WARC-only archiving;
(e) ``newsarchive.extract.extractor.extract`` alone in the same pool: the crawl's extraction
    without the crawl, so b/e is what the crawl itself costs;
(f) bare Scrapy reading no links from the pages at the depth limit (whose links are
    dropped anyway): about the cost of fetching alone. The real pages carry ~95 links
    each, and handling them is most of what (a) costs;
(g), (r) cases (b) and (d) with ``NEWSARCHIVE_REQUISITES=off``: (b) and (d) fetch what
    the pages embed (the default), from the site's requisite server (``crawl_site.py``),
    so b/g and d/r are what page requisites cost; the table's notes give requisites and
    their KB per article page.

Every crawl runs with ``AUTOTHROTTLE_ENABLED=False CONCURRENT_REQUESTS=32
CONCURRENT_REQUESTS_PER_DOMAIN=32 DEPTH_LIMIT=2`` and obeys robots.txt. pages/s is N
articles over Scrapy's ``elapsed_time_seconds`` (spider open to close, pool start and
drain included; interpreter start-up excluded); "wall" is the whole command. CPU/pg
is user+system time of the process and its reaped children (the pool workers) from
wait4, over N; "main thr" that of the crawler's main thread (the reactor) alone.
Memory is sampled every 0.1 s: ``main`` and ``worker`` are peak RSS (VmHWM) of the
crawler process and of its largest child, ``sum`` the peak of crawler + children RSS
at one moment. With ``--repeat R`` the cases run R times interleaved;
the table keeps the best speed and CPU and the highest memory of the R runs.

On a shared machine other processes take CPU from each case unevenly, so each ratio is
also estimated from CPU time, which load disturbs far less: b/c from CPU per page (both
keep every core busy), d/a from main-thread CPU per page (both wait on the reactor).

Targets (issue 7; printed, not enforced): b/c >= 0.8 (0.9 stretch), d/a >= 0.8, and
each case's memory at the largest N within 1.2x of the smallest; issue 17: b/g and d/r
>= 0.8.

    python benchmarks/crawl.py [--data DIR] [--pages 1000 10000] [--repeat R]
                               [--cases fabcdegr] [--workers W] [--json OUT] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import psutil
from crawl_site import (
    LINKS_PER_INDEX,
    Server,
    load_pages,
    start_server,
    write_requisites,
    write_site,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's newsarchive
from newsarchive.crawl.addon import SPIDER_MIDDLEWARES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "article-extraction-benchmark"
MB = 1024 * 1024

CASES = {
    "f": "(f) bare Scrapy, fetch only",
    "a": "(a) bare Scrapy",
    "b": "(b) newsarchive crawl",
    "c": "(c) trafilatura json, pool",
    "d": "(d) newsarchive WARC-only",
    "e": "(e) newsarchive.extract.extractor, pool",
    "g": "(g) newsarchive crawl, no requisites",
    "r": "(r) WARC-only, no requisites",
}
CRAWL_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS": "32",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
    "DEPTH_LIMIT": "2",
    "STATS_CLASS": "crawl_runs.JsonStatsCollector",
}


@dataclass
class Usage:
    """What one measured process used."""

    status: int
    wall: float
    cpu: float
    rss_main: int
    rss_worker: int
    rss_sum: int
    cpu_main_thread: float


@dataclass
class Result(Usage):
    """One case at one N: what its process used, and how many pages in how long."""

    case: str = ""
    pages: int = 0
    seconds: float = 0.0
    load: float = 0.0
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def _hwm(pid: int) -> int | None:
    """Peak RSS of a process so far (Linux VmHWM), in bytes."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def run_measured(command: list[str], env: dict[str, str], log: Path) -> Usage:
    """Run command; its CPU time from wait4, its memory sampled with its children."""
    started = time.monotonic()
    with open(log, "ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    peaks: dict[int, int] = {}
    peak_sum = 0
    main_thread_cpu = 0.0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_sum, main_thread_cpu
        try:
            parent = psutil.Process(process.pid)
        except psutil.NoSuchProcess:
            return
        while not stop.is_set():
            try:
                tree = [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = 0
            for proc in tree:
                try:
                    rss = proc.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                peaks[proc.pid] = max(peaks.get(proc.pid, 0), _hwm(proc.pid) or rss)
            peak_sum = max(peak_sum, total)
            try:  # the crawler's main thread runs the reactor
                main_thread = next(t for t in parent.threads() if t.id == parent.pid)
                main_thread_cpu = main_thread.user_time + main_thread.system_time
            except (psutil.Error, StopIteration):
                pass
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    stop.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    main = peaks.pop(process.pid, 0)
    return Usage(
        status=process.returncode,
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        rss_main=main,
        rss_worker=max(peaks.values(), default=0),
        rss_sum=peak_sum,
        cpu_main_thread=main_thread_cpu,
    )


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path, server: Server) -> None:
        self.args = args
        self.work = work
        self.server = server
        self.env = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}
        self.env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(HERE), str(ROOT), os.environ.get("PYTHONPATH", "")) if p)

    def _scrapy(self, base: list[str], pages: int, name: str, extra: dict[str, str]
                ) -> tuple[Usage, dict]:
        stats_file = self.work / f"{name}.stats.json"
        stats_file.unlink(missing_ok=True)
        settings = {**CRAWL_SETTINGS, "BENCH_STATS_FILE": str(stats_file),
                    "LOG_FILE": str(self.work / f"{name}.log"), **extra}
        command = [sys.executable, "-m", "scrapy", *base, "-a", f"url={self.server.base}/"]
        for key, value in settings.items():
            command += ["-s", f"{key}={value}"]
        usage = run_measured(command, self.env, self.work / f"{name}.out")
        stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
        expected = pages + -(-pages // LINKS_PER_INDEX) + 1  # articles, indexes, root
        got = stats.get("downloader/response_status_count/200", 0) - stats.get(
            "robotstxt/response_status_count/200", 0)
        if usage.status != 0 or got < expected:
            raise SystemExit(
                f"{name}: exit status {usage.status}, {got} of {expected} pages fetched; "
                f"see {self.work / (name + '.log')} (kept with --keep)")
        return usage, stats

    def run_case(self, case: str, pages: int) -> Result:
        load = os.getloadavg()[0]
        name = f"{case}-{pages}"
        workers = str(self.args.workers)
        notes: dict[str, object] = {}
        if case in "ce":
            out = self.work / f"{name}.json"
            engine = "trafilatura" if case == "c" else "newsarchive"
            command = [sys.executable, str(HERE / "crawl_runs.py"), "extract",
                       "--site", str(self.work / "site"), "--pages", str(pages),
                       "--workers", workers, "--engine", engine, "--out", str(out)]
            usage = run_measured(command, self.env, self.work / f"{name}.out")
            if usage.status != 0:
                raise SystemExit(f"{name}: exit status {usage.status}; see {name}.out")
            seconds = json.loads(out.read_text())["seconds"]
            notes["extracted"] = json.loads(out.read_text())["extracted"]
        else:
            if case in "af":
                base, extra = ["runspider", str(HERE / "crawl_runs.py")], {}
                if case == "f":
                    base += ["-a", "follow=below-limit"]
            else:
                archive = self.work / f"archive-{name}"
                base = ["crawl", "news"]
                extra = {"NEWSARCHIVE_ARCHIVE": str(archive),
                         "NEWSARCHIVE_EXTRACT_WORKERS": workers}
                if case in "dr":
                    extra["NEWSARCHIVE_EXTRACT"] = "False"
                if case in "gr" or not self.server.cdn:
                    extra["NEWSARCHIVE_REQUISITES"] = "off"
                else:  # what the pages embed, from the local requisite server
                    extra["BENCH_CDN"] = self.server.cdn
                    extra["SPIDER_MIDDLEWARES"] = json.dumps(
                        {**SPIDER_MIDDLEWARES, "crawl_runs.LocalRequisites": 10})
            usage, stats = self._scrapy(base, pages, name, extra)
            seconds = float(stats["elapsed_time_seconds"])
            if case in "bdgr":
                notes["articles"] = stats.get("newsarchive/articles", 0)
                notes["requisites_per_page"] = round(
                    stats.get("newsarchive/requisites/responses", 0) / pages, 2)
                notes["requisite_kb_per_page"] = round(
                    stats.get("newsarchive/requisites/bytes", 0) / pages / 1024, 1)
                notes["discarded"] = sum(v for k, v in stats.items()
                                         if k.startswith("newsarchive/discarded/"))
                notes["warc_kb_per_page"] = round(
                    stats.get("newsarchive/warc/writer/bytes", 0) / pages / 1024, 1)
                if not self.args.keep:
                    shutil.rmtree(archive, ignore_errors=True)
        return Result(**asdict(usage), case=CASES[case], pages=pages, seconds=seconds,
                      load=load, notes=notes)


def best_of(runs: list[Result]) -> Result:
    """Best speed and CPU, highest memory, of the repeats of one case."""
    best = max(runs, key=lambda r: r.rate)
    return replace(
        best, wall=min(r.wall for r in runs), cpu=min(r.cpu for r in runs),
        rss_main=max(r.rss_main for r in runs), rss_worker=max(r.rss_worker for r in runs),
        rss_sum=max(r.rss_sum for r in runs),
        cpu_main_thread=min(r.cpu_main_thread for r in runs),
    )


def print_table(pages: int, results: dict[str, Result], header: str) -> None:
    print(f"\nN = {pages:,} article pages  ({header})")
    print(f"{'case':<32}{'pages/s':>9}{'s':>8}{'wall s':>8}{'CPU/pg':>9}{'main thr':>9}"
          f"{'RSS main':>10}{'worker':>8}{'sum':>8}{'load':>6}  notes")
    for r in results.values():
        notes = " ".join(f"{k}={v}" for k, v in r.notes.items())
        print(f"{r.case:<32}{r.rate:>9.1f}{r.seconds:>8.1f}{r.wall:>8.1f}"
              f"{r.cpu / r.pages * 1000:>7.1f}ms{r.cpu_main_thread / r.pages * 1000:>7.1f}ms"
              f"{r.rss_main / MB:>8.0f}MB"
              f"{r.rss_worker / MB:>6.0f}MB{r.rss_sum / MB:>6.0f}MB{r.load:>6.2f}  {notes}")

    def ratio(x: str, y: str, target: float, by_cpu: str) -> None:
        if x in results and y in results:
            value = results[x].rate / results[y].rate
            verdict = "ok" if value >= target else "MISSED"
            rx, ry = results[x], results[y]
            if by_cpu == "all":  # both use every core: pages/s ~ 1 / CPU per page
                estimate = (ry.cpu / ry.pages) / (rx.cpu / rx.pages)
            else:  # both wait on one thread, the reactor
                estimate = ry.cpu_main_thread / rx.cpu_main_thread * rx.pages / ry.pages
            print(f"  {x}/{y} = {value:.2f}  (target >= {target}: {verdict}; from CPU time "
                  f"({by_cpu}): {estimate:.2f})")

    ratio("b", "c", 0.8, "all")
    ratio("d", "a", 0.8, "main thread")
    # page requisites on (b, d) against off (g, r): issue 17 asks >= 0.8
    ratio("b", "g", 0.8, "all")
    ratio("d", "r", 0.8, "main thread")
    if "d" in results and "f" in results:
        print(f"  d/f = {results['d'].rate / results['f'].rate:.2f}  (WARC-only crawl next to "
              "fetching alone)")
    if "b" in results and "e" in results:
        print(f"  b/e = {results['b'].rate / results['e'].rate:.2f}  (the crawl's own cost "
              "next to its extraction alone)")


def print_memory(by_pages: dict[int, dict[str, Result]]) -> None:
    small, large = min(by_pages), max(by_pages)
    if small == large:
        return
    print(f"\nPeak RSS at N = {large:,} / at N = {small:,} (target <= 1.2)")
    for case, r in by_pages[large].items():
        if case in by_pages[small]:
            s = by_pages[small][case]
            print(f"  {r.case:<32} main {r.rss_main / s.rss_main:.2f}   "
                  f"sum {r.rss_sum / s.rss_sum:.2f}   "
                  f"({s.rss_sum / MB:.0f} -> {r.rss_sum / MB:.0f} MB)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="the article-extraction-benchmark folder (html/*.html.gz)")
    parser.add_argument("--pages", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cases", default="fabcdegr",
                        help="any of f a b c d e g r (default all)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="pool size for (b), (c), (e); default: one per core, "
                             "as NEWSARCHIVE_EXTRACT_WORKERS")
    parser.add_argument("--server", choices=["auto", "nginx", "aiohttp"], default="auto")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 200 pages, once (overrides --pages, --repeat)")
    args = parser.parse_args(argv)
    if args.quick:
        args.pages, args.repeat = [200], 1
    cases = [c for c in CASES if c in args.cases]
    pages = load_pages(args.data)
    # A terminated run still stops its server and removes its work folder.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="newsarchive-crawlbench-"))
    work.chmod(0o755)
    server: Server | None = None
    by_pages: dict[int, dict[str, Result]] = {}
    try:
        write_site(work / "site", pages, max(args.pages))
        requisites = write_requisites(work / "cdn", pages)
        server = start_server(work / "site", work, args.server)
        bench = Bench(args, work, server)
        header = (f"{args.workers} workers, {os.cpu_count()} cores, {server.kind} server, "
                  f"best of {args.repeat}")
        print(f"page requisites: {requisites} distinct URLs, served from "
              f"{server.cdn or 'nowhere (aiohttp server: requisites off in every case)'}")
        print(f"newsarchive crawl benchmark: {len(pages)} pages from {args.data}, {header}; "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        for count in args.pages:
            write_site(work / "site", pages, count)
            runs: dict[str, list[Result]] = {c: [] for c in cases}
            for _ in range(args.repeat):
                for case in cases:
                    runs[case].append(bench.run_case(case, count))
                    print(f"  N={count} {CASES[case]}: {runs[case][-1].rate:.1f} pages/s",
                          file=sys.stderr, flush=True)
            by_pages[count] = {c: best_of(r) for c, r in runs.items()}
            print_table(count, by_pages[count], header)
        print_memory(by_pages)
        print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if args.json:
            args.json.write_text(json.dumps(
                {n: {c: {**asdict(r), "pages_per_s": r.rate} for c, r in res.items()}
                 for n, res in by_pages.items()}, indent=2))
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
