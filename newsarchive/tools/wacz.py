"""WACZ packages: one crawl's WARC files, an index and its page list in a single zip.

The package is built by webrecorder's py-wacz, the reference implementation of WACZ
1.1.1 (``archive/`` WARCs stored uncompressed in the zip, a compressed CDXJ index under
``indexes/``, ``pages/pages.jsonl``, ``datapackage.json`` with the sha256 of every file
and ``datapackage-digest.json``), so it opens in ReplayWeb.page. What this module adds:
the files come from the crawl's manifest through the Store (a folder or a bucket) and
are checked against their manifest hashes on the way, and the page list holds the
crawl's articles (url, title, fetch time) from its clean-text records.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsarchive.archive.summary import load_manifest, text_records
from newsarchive.errors import NewsarchiveError, StorageError
from newsarchive.progress import Bar
from newsarchive.rights.takedowns import Withdrawn
from newsarchive.storage import Store
from newsarchive.warc import cdxj
from newsarchive.warc.filtering import copy_without

logger = logging.getLogger(__name__)

PAGES_FORMAT = "json-pages-1.0"


@dataclass(frozen=True)
class WaczResult:
    path: Path
    crawl_id: str
    warcs: int
    pages: int
    size: int


def page_list(store: Store, manifest: dict[str, Any]) -> list[dict[str, str]]:
    """The pages to list: the crawl's articles, or (WARC-only crawls) its HTML pages."""
    pages = [
        {"url": r["url"], "title": r.get("title") or r["url"], "ts": r["fetched_at"],
         "id": r["id"]}
        for r in text_records(store, manifest)
    ]
    if pages:
        return pages
    for entry in manifest["files"]:
        if entry["kind"] != "cdxj":
            continue
        try:
            index = cdxj.parse_index(store.read_bytes(entry["key"]).decode("utf-8"))
        except (OSError, ValueError) as e:  # listed but deleted, cut short or garbled
            reason = getattr(e, "strerror", None) or str(e)[:200]
            raise StorageError(
                f"cannot read {entry['key']}: {reason} (run `newsarchive verify`)"
            ) from None
        for line in index:
            if line.fields.get("mime") == "text/html" and line.fields.get("status") == "200":
                ts = line.timestamp
                iso = f"{ts[:4]}-{ts[4:6]}-{ts[6:8]}T{ts[8:10]}:{ts[10:12]}:{ts[12:14]}Z"
                pages.append({"url": line.url, "title": line.url, "ts": iso})
    return pages


def build_wacz(
    store: Store, crawl_id: str, output: Path, *, progress: bool = False
) -> WaczResult:
    """Package a complete crawl as a WACZ file at output; raises NewsarchiveError.

    ``progress``: a bar on stderr in bytes: the WARC files copied out of the store and
    checked, then the package growing to their size (py-wacz stores them as they are).
    """
    manifest = load_manifest(store, crawl_id)
    warcs = [e for e in manifest["files"] if e["kind"] == "warc"]
    if not warcs:
        raise StorageError(f"crawl {crawl_id} has no WARC files to package")
    output = output.expanduser()
    if not output.parent.is_dir():
        raise NewsarchiveError(f"cannot write {output}: no such folder {output.parent}")
    warc_bytes = sum(int(e["size"]) for e in warcs)
    with (
        tempfile.TemporaryDirectory(prefix="newsarchive-wacz-", dir=output.parent) as tmp,
        Bar(progress, 2 * warc_bytes, "wacz", "B") as bar,
    ):
        work = Path(tmp)
        withdrawn = Withdrawn.load(store)
        paths = [_fetch(store, entry, work, bar) for entry in warcs]
        if withdrawn:  # the takedown list: a package leaves those captures out
            paths = [_without(path, withdrawn) for path in paths]
        pages = [p for p in page_list(store, manifest) if not withdrawn.url(p["url"])]
        pages_path = work / "pages.jsonl"
        with open(pages_path, "w", encoding="utf-8") as f:
            header = {"format": PAGES_FORMAT, "id": "pages", "title": f"Crawl {crawl_id}"}
            for page in [header, *pages]:
                f.write(json.dumps(page, ensure_ascii=False) + "\n")
        partial = work / "package.wacz"
        with _growing(partial, bar, bar.count, warc_bytes):
            _run_py_wacz(
                [
                    "create", "-o", str(partial), "-p", str(pages_path),
                    "--title", f"newsarchive crawl {crawl_id}",
                    "--desc", _description(manifest),
                    *map(str, paths),
                ]
            )
        bar.advance_to(2 * warc_bytes)
        partial.replace(output)
    listed = _count_pages(output)
    if listed < len(pages):
        missing = len(pages) - listed
        logger.warning("%d of %d pages were not found in the WARCs", missing, len(pages))
    return WaczResult(output, crawl_id, len(paths), listed, output.stat().st_size)


@contextlib.contextmanager
def _growing(path: Path, bar: Bar, start: int, most: int) -> Iterator[None]:
    """While py-wacz writes ``path``, move the bar with its size (polled twice a second)."""
    if not bar.enabled:
        yield
        return
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(0.5):
            try:
                bar.advance_to(start + min(path.stat().st_size, most))
            except OSError:  # not created yet
                continue

    watcher = threading.Thread(target=poll, name="wacz-progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()


def _fetch(store: Store, entry: dict[str, Any], work: Path, bar: Bar) -> Path:
    """Copy a WARC out of the store, checking it against the manifest's sha256."""
    path = work / entry["key"].rsplit("/", 1)[-1]
    digest = hashlib.sha256()
    with store.open(entry["key"]) as src, open(path, "wb") as dst:
        while block := src.read(1 << 20):
            digest.update(block)
            dst.write(block)
            bar.update(len(block))
    if digest.hexdigest() != entry["sha256"]:
        raise StorageError(
            f"{entry['key']} does not match its manifest sha256 "
            "(run `newsarchive verify` on the archive)"
        )
    return path


def _without(path: Path, withdrawn: Withdrawn) -> Path:
    kept = path.with_name("kept-" + path.name)
    dropped = copy_without(path, kept, withdrawn.url)
    path.unlink()
    if dropped:
        logger.info("%s: %d record(s) of withdrawn articles left out", path.name, dropped)
    return kept.rename(path)


def _description(manifest: dict[str, Any]) -> str:
    crawl = manifest.get("crawl", {})
    start = ", ".join(crawl.get("start_urls", [])) or "?"
    return (
        f"newsarchive crawl {manifest['crawl_id']} of {crawl.get('site') or start}, "
        f"{crawl.get('started_at', '?')} to {crawl.get('finished_at', '?')}"
    )


def _run_py_wacz(args: list[str]) -> None:
    from wacz.main import main as py_wacz

    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            status = py_wacz(args)
    except Exception as e:  # py-wacz raises plain exceptions for bad input
        raise StorageError(f"building the WACZ package failed: {e}") from e
    finally:
        for line in out.getvalue().splitlines():
            logger.debug("py-wacz: %s", line)
    if status:
        last = out.getvalue().strip().splitlines()[-1:] or ["no message"]
        raise StorageError(f"building the WACZ package failed: {last[0]}")


def _count_pages(path: Path) -> int:
    import zipfile

    with zipfile.ZipFile(path) as z, z.open("pages/pages.jsonl") as f:
        return sum(1 for line in f if line.strip()) - 1  # minus the header line
