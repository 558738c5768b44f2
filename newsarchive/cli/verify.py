"""`newsarchive verify`."""

from __future__ import annotations

import sys

import click

from newsarchive.cli.options import Argument, Command, archive_argument, progress_option


@click.command("verify", cls=Command)
@archive_argument
@click.argument("crawl_id", cls=Argument, required=False, metavar="[CRAWL_ID]",
                help="Only this crawl (default: every complete crawl).")
@progress_option
def command(archive: str, crawl_id: str | None, progress: bool | None) -> None:
    """Check ARCHIVE (default ./archive) against its manifests (one crawl, or all).

    Every listed file's size and sha256, every WARC record's block and payload
    digest, every CDXJ index against its WARC, text shard record counts; files under
    warc/ and text/ that no manifest lists are reported as orphans. Exit status 0 when
    all is well, 1 on any problem (the report says which file and what).
    """
    from newsarchive.errors import StorageError
    from newsarchive.progress import wanted
    from newsarchive.storage import open_store
    from newsarchive.tools.verify import verify_archive

    store = open_store(archive)
    # "0 files: all good" of a mistyped path would pass a scheduled check.
    if not any(next(iter(store.list(prefix)), None) for prefix in ("crawls/", "warc/", "text/")):
        root = getattr(store, "root", None)
        if root is not None and not root.exists():
            raise StorageError(f"archive {archive} does not exist")
        raise StorageError(
            f"{archive} is not a newsarchive archive: nothing under crawls/, warc/ or text/"
        )
    report = verify_archive(store, crawl_id, progress=wanted(progress))
    click.echo(report.render())
    sys.exit(0 if report.ok else 1)
