"""The run summary: a short Markdown report per crawl, for people and CI pages."""

from __future__ import annotations

from typing import Any


def render(manifest: dict[str, Any], reasons: tuple[str, ...] = ()) -> str:
    crawl, counts = manifest["crawl"], manifest["counts"]
    articles = counts.get("articles_by_kind", {})
    discarded = counts.get("discarded", {})
    statuses = counts.get("http_status", {})
    failed = counts.get("download_errors", 0) + sum(
        n for code, n in statuses.items() if code.startswith("5")
    )
    lines = [
        f"## newsarchive crawl `{manifest['crawl_id']}`",
        "",
        f"Finish reason: {crawl.get('finish_reason')}; outcome: "
        + ("; ".join(reasons) if reasons else "ok"),
        "",
        "| site | new | changed | unchanged | failed | discarded |",
        "|---|---:|---:|---:|---:|---|",
        "| {site} | {new} | {changed} | {unchanged} | {failed} | {disc} |".format(
            site=crawl.get("site") or "?",
            new=articles.get("new", 0),
            changed=articles.get("changed", 0),
            unchanged=articles.get("unchanged", 0),
            failed=failed,
            disc=", ".join(f"{k}: {v}" for k, v in sorted(discarded.items())) or "0",
        ),
        "",
        f"{counts.get('warc_exchanges', 0)} HTTP exchanges archived in "
        f"{sum(1 for f in manifest['files'] if f['kind'] == 'warc')} WARC file(s); "
        f"{counts.get('robots_forbidden', 0)} URL(s) refused by robots.txt.",
        "",
    ]
    return "\n".join(lines)
