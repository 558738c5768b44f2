"""The run summary: a short Markdown report per crawl, for people and CI pages."""

from __future__ import annotations

from typing import Any

from newsarchive.archive.summary import _size


def failed_fetches(counts: dict[str, Any]) -> int:
    """Fetches that failed: download errors and 5xx answers (the run summary's "failed")."""
    statuses = counts.get("http_status", {})
    return int(counts.get("download_errors", 0)) + sum(
        n for code, n in statuses.items() if str(code).startswith("5")
    )


def render(manifest: dict[str, Any], reasons: tuple[str, ...] = ()) -> str:
    crawl, counts = manifest["crawl"], manifest["counts"]
    articles = counts.get("articles_by_kind", {})
    discarded = counts.get("discarded", {})
    failed = failed_fetches(counts)
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
    requisites = counts.get("requisites") or {}
    if requisites.get("responses"):
        per = requisites.get("per_article", {})
        kinds = ", ".join(
            f"{kind}: {n.get('count', 0)} ({_size(n.get('bytes', 0))})"
            for kind, n in sorted(requisites.get("by_type", {}).items())
        )
        lines += [
            f"Page requisites: {requisites['responses']} archived "
            f"({_size(requisites.get('bytes', 0))}"
            f"; {requisites.get('unchanged', 0)} unchanged, "
            f"{requisites.get('duplicate_payloads', 0)} duplicate payloads); "
            f"per article: {per.get('requests', 0)} requests, {_size(per.get('bytes', 0))}. "
            f"By type: {kinds}.",
            "",
        ]
    return "\n".join(lines)


def render_text(
    manifest: dict[str, Any], reasons: tuple[str, ...], where: str, summary_file: str,
    fetched_bytes: int = 0,
) -> list[str]:
    """The few lines a crawl ends with in its log: what it found and where it is.

    ``where`` is the manifest's place, or why there is none (the crawl is incomplete).
    """
    counts = manifest["counts"]
    kinds = {"new": 0, "changed": 0, "unchanged": 0, **counts.get("articles_by_kind", {})}
    files = manifest.get("files", [])
    stored = sum(int(f.get("size", 0)) for f in files)
    warcs = sum(1 for f in files if f["kind"] == "warc")
    return [
        f"crawl {manifest['crawl_id']} done: "
        + ("; ".join(reasons) if reasons else "ok"),
        f"  articles: {kinds['new']} new, {kinds['changed']} changed, "
        f"{kinds['unchanged']} unchanged (revisits); {counts.get('articles', 0)} with text",
        f"  pages: {counts.get('responses', 0)} fetched, {failed_fetches(counts)} failed, "
        f"{counts.get('robots_forbidden', 0)} refused by robots.txt",
        f"  stored: {_size(stored)} in {warcs} WARC file(s) and {len(files) - warcs} other "
        f"file(s); {_size(fetched_bytes)} downloaded",
        f"  archive: {where}",
        f"  run summary: {summary_file}",
    ]

