"""What an archive holds, for people: articles per site, language and day, and what failed.

Article counts come from the records (so the filters apply); failures and discards come
from the crawls' manifests, whole crawls at a time.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from newsarchive.corpus.filters import Filter, record_date
from newsarchive.corpus.reader import Archive
from newsarchive.progress import Bar


def collect(
    archive: Archive, flt: Filter | None = None, progress: bool = False
) -> dict[str, Any]:
    """The figures; ``progress``: a bar on stderr over the text records read."""
    flt = flt or Filter()
    shards = archive.shards(flt)
    per_site: Counter[str] = Counter()
    per_language: Counter[str] = Counter()
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    with Bar(progress, sum(s.records for s in shards), "stats") as bar:
        for _shard, record in archive.scan(flt, shards):
            bar.update()
            if record is None:  # read, but the filter drops it
                continue
            site = str(record.get("site"))
            per_site[site] += 1
            per_language[record.get("language") or "unknown"] += 1
            when = record_date(record, flt.date_field)
            per_day[site][when.date().isoformat() if when else "unknown"] += 1
    crawl_ids = [c for c in archive.crawl_ids() if not flt.crawls or c in flt.crawls]
    # Fetch figures come from the crawls that fetched; text figures (articles, discards)
    # from the crawls whose text a reader sees, so a re-extraction is not counted twice.
    with_text = set(archive.text_crawls(flt))
    discarded: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for crawl_id in crawl_ids:
        doc = archive.manifests[crawl_id]
        counts = doc.get("counts", {})
        if crawl_id in with_text:
            discarded.update(counts.get("discarded", {}))
            totals["articles"] += int(counts.get("articles", 0))
        if not (doc.get("crawl") or {}).get("reextract_of"):
            statuses.update(
                {code: n for code, n in counts.get("http_status", {}).items() if code >= "400"}
            )
            for name in ("requests", "download_errors", "robots_forbidden"):
                totals[name] += int(counts.get(name, 0))
    return {
        "archive": archive.uri,
        "crawls": crawl_ids,
        "filter": flt.describe(),
        "articles": sum(per_site.values()),
        "per_site": dict(per_site.most_common()),
        "per_language": dict(per_language.most_common()),
        "per_day": {site: dict(sorted(days.items())) for site, days in sorted(per_day.items())},
        "crawl_counts": {
            "requests": totals["requests"],
            "articles": totals["articles"],
            "discarded": dict(sorted(discarded.items())),
            "download_errors": totals["download_errors"],
            "robots_forbidden": totals["robots_forbidden"],
            "http_errors": dict(sorted(statuses.items())),
        },
    }


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [headers, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        padded = (
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells[1:])]


def render(stats: dict[str, Any]) -> str:
    flt = stats["filter"]
    lines = [
        f"{stats['archive']}: {stats['articles']} articles from {len(stats['crawls'])} crawl(s)",
        "",
    ]
    lines += _table(["site", "articles"], [[k, v] for k, v in stats["per_site"].items()])
    lines.append("")
    lines += _table(["language", "articles"], [[k, v] for k, v in stats["per_language"].items()])
    lines.append("")
    sites = list(stats["per_day"])
    days = sorted({d for counts in stats["per_day"].values() for d in counts})
    shown = sites if len(sites) <= 6 else []
    rows = [
        [day, sum(stats["per_day"][s].get(day, 0) for s in sites),
         *(stats["per_day"][s].get(day, 0) for s in shown)]
        for day in days
    ]
    lines += _table([f"day ({flt['date_field']})", "articles", *shown], rows)
    counts = stats["crawl_counts"]
    lines += ["", "failures and discards (whole crawls; filters do not apply):"]
    rows = [[f"discarded: {reason}", n] for reason, n in counts["discarded"].items()]
    rows += [[f"HTTP {code}", n] for code, n in counts["http_errors"].items()]
    rows += [
        ["download errors", counts["download_errors"]],
        ["robots.txt refusals", counts["robots_forbidden"]],
    ]
    lines += _table(["reason", "count"], rows)
    return "\n".join(lines)


def dumps(stats: dict[str, Any]) -> str:
    return json.dumps(stats, indent=2, ensure_ascii=False) + "\n"


def plot(stats: dict[str, Any], path: Path) -> None:
    """Articles per day as bars stacked by site (per week when a day's bar would be too
    thin to read), in the format of the file's extension: png, svg or pdf.

    Bars, not lines: a line drawn through the days without articles zig-zags to 0.
    """
    from datetime import date, timedelta

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(10, 5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    days_seen = {d for days in stats["per_day"].values() for d in days if d[:1].isdigit()}
    known = sorted(date.fromisoformat(d) for d in days_seen)
    unit = "day"
    if known:
        first, last = known[0], known[-1]
        weekly = (last - first).days > 120
        if weekly:
            unit = "week"
            first -= timedelta(days=first.weekday())  # Mondays
        step = timedelta(days=7 if weekly else 1)
        buckets = [first + step * i for i in range((last - first) // step + 1)]
        bottom = [0] * len(buckets)
        for site, days in sorted(stats["per_day"].items()):
            counts = [0] * len(buckets)
            for day, n in days.items():
                if day[:1].isdigit():
                    counts[(date.fromisoformat(day) - first) // step] += n
            axes.bar(buckets, counts, width=step.days * 0.85, bottom=bottom, label=site,
                     align="edge" if weekly else "center")
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
        axes.legend(loc="upper left", fontsize="small")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(bottom=0)
    axes.set_title(f"Articles per {unit} ({stats['filter']['date_field']} date) — "
                   f"{stats['archive']}")
    axes.set_xlabel(f"{unit} (UTC)")
    axes.set_ylabel("articles")
    axes.grid(True, axis="y", alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, format=path.suffix.lower().lstrip(".") or "png")
