"""`newsarchive wacz`."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("wacz")
@click.option(
    "--archive", default="./archive", show_default=True,
    help="The archive: a folder, file:// or s3:// URI.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
    help="The package to write (default: <CRAWL_ID>.wacz here).",
)
@click.argument("crawl_id")
def command(archive: str, output: Path | None, crawl_id: str) -> None:
    """Package one crawl as a WACZ file (opens in ReplayWeb.page).

    Holds the crawl's WARC files, a CDXJ index, pages/pages.jsonl listing its
    articles (url, title, fetch time) and datapackage.json with every file's sha256.
    """
    from newsarchive.errors import writing
    from newsarchive.storage import open_store
    from newsarchive.tools.wacz import build_wacz

    output = output or Path(f"{crawl_id}.wacz")
    with writing(output):
        result = build_wacz(open_store(archive), crawl_id, output)
    click.echo(
        f"{result.path}: crawl {result.crawl_id}, {result.warcs} WARC file(s), "
        f"{result.pages} page(s), {result.size} bytes"
    )
