"""The data card written next to every export: where the data came from and what it holds.

``datacard.json`` is for programs, ``README.md`` for people; both say which archive
and crawls the records came from, the filters and dedupe settings, counts per site,
language and month, the software versions, and that the sites' terms are the user's
to respect.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from newsarchive.archive.manifest import software_versions

FORMAT = "newsarchive-datacard/1"
_SOFTWARE = ("newsarchive", "pyarrow", "numpy", "warcio")

TERMS_NOTE = (
    "The texts in this export were published by the sites listed above and remain "
    "theirs. newsarchive records where each text came from; it grants no rights to it. "
    "Checking each site's terms of use, copyright and licensing, and the rules that apply "
    "to your use (research exceptions, data protection), is the responsibility of whoever "
    "uses or shares this export."
)


def build(
    *,
    archive: str,
    manifests: dict[str, dict[str, Any]],
    crawls_read: list[str],
    export: dict[str, Any],
    counts: dict[str, Any],
    per_site: Counter[str],
    per_language: Counter[str],
    per_month: Counter[str],
    dedupe: dict[str, Any],
    files: list[dict[str, Any]],
    rights: dict[str, Any] | None = None,
) -> dict[str, Any]:
    crawls = []
    for crawl_id in crawls_read:
        doc = manifests[crawl_id]
        crawl = doc.get("crawl", {})
        crawls.append(
            {
                "crawl_id": crawl_id,
                "site": crawl.get("site"),
                "started_at": crawl.get("started_at"),
                "finished_at": crawl.get("finished_at"),
                "finish_reason": crawl.get("finish_reason"),
                "articles": doc.get("counts", {}).get("articles"),
                "software": doc.get("software", {}),
            }
        )
    return {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "archive": archive,
        "crawls": crawls,
        "export": export,
        "counts": {
            **counts,
            "per_site": dict(sorted(per_site.items())),
            "per_language": dict(sorted(per_language.items())),
            "per_month": dict(sorted(per_month.items())),
        },
        "dedupe": dedupe,
        # what publishers stated, of what was exported and of what was left out and why
        # (a takedown, or a rights filter's reason), and each site's stance to AI crawlers
        "rights": {**(rights or {}), "robots_ai": _robots_ai(manifests, crawls_read)},
        "files": files,
        "software": software_versions(_SOFTWARE),
        "terms": TERMS_NOTE,
    }


def rights_signals(record: dict[str, Any]) -> list[str]:
    """The rights signals a record carries, as data-card counters."""
    rights = record.get("rights")
    if not isinstance(rights, dict):
        return ["not recorded"]
    found = [d for d in ("noindex", "noarchive", "nosnippet", "noai", "noimageai")
             if rights.get(d)]
    if rights.get("tdm_reservation") == 1:
        found.append("tdm-reservation")
    if rights.get("license"):
        found.append("licence stated")
    if rights.get("accessible_for_free") is False:
        found.append("paywalled (isAccessibleForFree: false)")
    return found or ["none stated"]


def _rights_section(rights: dict[str, Any]) -> list[str]:
    lines = [
        "## Rights",
        "",
        "What publishers stated, as recorded at crawl time (robots meta and X-Robots-Tag, "
        "TDMRep, the declared licence). Rights filters and the archive's takedown list "
        "decide what was left out; everything else is recorded, not enforced: check the "
        "terms that apply to your use.",
        "",
        *_table("signal (exported records)", rights.get("exported", {})),
        "",
    ]
    if rights.get("left_out"):
        lines += [*_table("left out because", rights["left_out"]), ""]
    stance = rights.get("robots_ai") or {}
    if stance:
        lines += ["robots.txt towards AI crawlers (disallowed at the site root):", ""]
        for host, agents in stance.items():
            refused = sorted(a for a, v in agents.items() if v == "disallowed")
            lines.append(f"- {host}: {', '.join(refused) or 'none disallowed'}")
        lines.append("")
    return lines


def _robots_ai(manifests: dict[str, dict[str, Any]], crawls: list[str]) -> dict[str, Any]:
    """Each host's robots.txt stance to AI crawlers, from the latest crawl that read it."""
    stance: dict[str, Any] = {}
    for crawl_id in crawls:
        crawl = manifests[crawl_id].get("crawl", {})
        rights = crawl.get("rights") if isinstance(crawl, dict) else None
        if isinstance(rights, dict) and isinstance(rights.get("robots_ai"), dict):
            stance.update(rights["robots_ai"])
    return dict(sorted(stance.items()))


def _table(title: str, counts: dict[str, int]) -> list[str]:
    if not counts:
        return [f"{title}: none"]
    lines = [f"| {title} | records |", "|---|---:|"]
    lines.extend(f"| {key} | {value} |" for key, value in counts.items())
    return lines


def render(card: dict[str, Any]) -> str:
    """The card as Markdown, for the export folder's README.md."""
    export = card["export"]
    counts = card["counts"]
    flt = export["filter"]
    dedupe = card["dedupe"]
    chosen = {
        "sites": ", ".join(flt["sites"]) or "all",
        "languages": ", ".join(flt["languages"]) or "all",
        f"{flt['date_field']} date from": flt["since"] or "any",
        f"{flt['date_field']} date before": flt["until"] or "any",
        "crawls": ", ".join(flt["crawls"]) or "all complete crawls",
        "minimum words": str(flt["min_words"]),
        "rights filters": ", ".join(flt.get("rights", [])) or "none",
    }
    lines = [
        "# newsarchive corpus export",
        "",
        f"Exported {card['created_at']} from `{card['archive']}` as **{export['format']}**"
        + (" partitioned by site and date" if export["partition"] else "")
        + f": {counts['exported']} records.",
        "",
        "## Where the records come from",
        "",
        "| crawl | site | started | finished | finish reason | articles |",
        "|---|---|---|---|---|---:|",
    ]
    lines.extend(
        f"| {c['crawl_id']} | {c['site'] or ''} | {c['started_at'] or ''} "
        f"| {c['finished_at'] or ''} | {c['finish_reason'] or ''} | {c['articles'] or 0} |"
        for c in card["crawls"]
    )
    lines += [
        "",
        "Every record carries `crawl_id` and a `warc` location: the archived HTTP "
        "response it was extracted from (file, offset, length, record id, payload digest).",
        "",
        "## Selection",
        "",
        *(f"- {key}: {value}" for key, value in chosen.items()),
        f"- fields: {', '.join(export['fields'])}",
        "",
        "## Counts",
        "",
        f"- records read: {counts['read']}",
        f"- removed by the filters: {counts['filtered']}",
        f"- removed as duplicates: {counts['duplicates']}",
        f"- exported: {counts['exported']}",
        "",
        *_table("site", counts["per_site"]),
        "",
        *_table("language", counts["per_language"]),
        "",
        *_table(f"month ({flt['date_field']})", counts["per_month"]),
        "",
        "## Deduplication",
        "",
    ]
    if dedupe.get("mode", "none") == "none":
        lines.append("None: every matching record is exported.")
    else:
        lines.extend(f"- {key}: {value}" for key, value in dedupe.items())
    lines += [
        "",
        *_rights_section(card.get("rights", {})),
        "## Files",
        "",
        "| file | records | bytes |",
        "|---|---:|---:|",
        *(f"| {f['path']} | {f['records']} | {f['bytes']} |" for f in card["files"]),
        "",
        "## Software",
        "",
        *(f"- {name} {version}" for name, version in card["software"].items()),
        "",
        "## Terms and licensing",
        "",
        card["terms"],
        "",
    ]
    return "\n".join(lines)


def dumps(card: dict[str, Any]) -> str:
    return json.dumps(card, indent=2, ensure_ascii=False) + "\n"
