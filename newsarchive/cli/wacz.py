"""`newsarchive wacz`."""

from __future__ import annotations

from pathlib import Path

import click

from newsarchive.cli.options import Command, archive_then, progress_option, settle


@click.command("wacz", cls=Command)
@archive_then("crawl_id", "CRAWL_ID", "The crawl to package.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
    help="The package to write (default: <CRAWL_ID>.wacz here).",
)
@progress_option
def command(
    archive: str | None, crawl_id: str | None, archive_option: str | None,
    output: Path | None, progress: bool | None,
) -> None:
    """Package one crawl of ARCHIVE (default ./archive) as a WACZ file (opens in
    ReplayWeb.page).

    Holds the crawl's WARC files, a CDXJ index, pages/pages.jsonl listing its
    articles (url, title, fetch time) and datapackage.json with every file's sha256.
    """
    from newsarchive.errors import writing
    from newsarchive.progress import wanted
    from newsarchive.storage import open_store
    from newsarchive.tools.wacz import build_wacz

    archive, crawl_id = settle(archive, archive_option, crawl_id, "CRAWL_ID")
    assert crawl_id is not None
    output = output or Path(f"{crawl_id}.wacz")
    with writing(output):
        result = build_wacz(open_store(archive), crawl_id, output, progress=wanted(progress))
    click.echo(
        f"{result.path}: crawl {result.crawl_id}, {result.warcs} WARC file(s), "
        f"{result.pages} page(s), {result.size} bytes"
    )
