"""Finishing crawls whose files are still in the spool (storage failed at the time).

A crawl always writes its manifest into the spool first and stores it last. If
storing anything failed, the manifest stays in the spool with the files it lists;
this module stores them (same bytes only) and then the manifest, so the crawl becomes
visible exactly once and complete. The next crawl does this before it starts, and
`newsarchive upload-pending` does it on demand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from newsarchive.archive import layout
from newsarchive.archive.manifest import DamagedManifest, parse
from newsarchive.storage import Store, sha256_file

logger = logging.getLogger(__name__)


@dataclass
class PendingReport:
    completed: list[str] = field(default_factory=list)  # crawl ids now visible
    uploaded: int = 0  # files stored from the spool
    leftovers: list[str] = field(default_factory=list)  # spool files no manifest lists
    damaged: list[str] = field(default_factory=list)  # pending manifests set aside
    incomplete: list[str] = field(default_factory=list)  # crawls whose files were lost


def pending_manifests(spool: Path) -> list[Path]:
    """Files named ``<crawl-id>.json``: another name (a folder, a copy made by hand) is
    no crawl's and is left alone, so it cannot stop every later crawl."""
    if not (spool / "crawls").is_dir():
        return []
    found = []
    for path in sorted((spool / "crawls").glob("*.json")):
        if path.is_file() and layout.is_crawl_id(path.stem):
            found.append(path)
        else:
            logger.warning("spool: %s is not a crawl's manifest; left alone", path)
    return found


def _set_aside(spool: Path, manifest: Path, crawl_id: str, why: str) -> None:
    """A pending crawl that can never be completed (a file it lists was deleted from the
    archive): its manifest and journal are renamed, so later crawls go on, and its
    remaining files stay in the spool, untouched, for a person to look at."""
    manifest.replace(manifest.with_name(f"{manifest.name}.incomplete"))
    journal = spool / "journal" / f"{crawl_id}.jsonl"
    if journal.exists():
        journal.replace(journal.with_name(f"{journal.name}.incomplete"))
    logger.error(
        "crawl %s cannot be completed: %s; its manifest is set aside as %s.incomplete and "
        "its other files stay in %s", crawl_id, why, manifest, spool,
    )


def complete_pending(store: Store, spool: Path) -> PendingReport:
    """Store every pending crawl's remaining files, then its manifest; raise on failure."""
    report = PendingReport()
    listed: set[str] = set()
    for path in pending_manifests(spool):
        crawl_id = path.stem
        try:
            doc = parse(path.read_bytes(), crawl_id)
        except DamagedManifest as e:
            # Set aside, so the crawl's journal (if any) recovers it from its files.
            aside = path.with_name(f"{path.name}.damaged")
            path.replace(aside)
            logger.warning("%s; set aside as %s", e, aside)
            report.damaged.append(crawl_id)
            continue
        entries = [(e, spool.joinpath(*e["key"].split("/"))) for e in doc["files"]]
        listed.update(e["key"] for e, _ in entries)
        # Check every file before storing any: a crawl that can never be whole stores
        # nothing (no orphans) and is set aside instead of stopping every later crawl.
        problem = None
        for entry, local in entries:
            if local.exists():
                if sha256_file(local) != entry["sha256"]:
                    problem = f"spool file {local} does not match its manifest"
            elif not store.exists(entry["key"]):
                problem = f"{entry['key']} is neither in the spool nor in {store.uri}"
            if problem:
                break
        if problem:
            _set_aside(spool, path, crawl_id, problem)
            report.incomplete.append(crawl_id)
            continue
        for entry, local in entries:
            if local.exists():
                store.put_file(local, entry["key"], entry["sha256"])
                report.uploaded += 1
        store.put_file(path, layout.manifest_key(crawl_id), sha256_file(path))
        (spool / "journal" / f"{crawl_id}.jsonl").unlink(missing_ok=True)
        report.completed.append(crawl_id)
        logger.info("completed crawl %s in %s from the spool", crawl_id, store.uri)
    for local in sorted(p for p in spool.rglob("*") if p.is_file()):
        key = local.relative_to(spool).as_posix()
        if key not in listed and not key.startswith(("crawls/", "summaries/", "journal/")):
            report.leftovers.append(key)
    return report
