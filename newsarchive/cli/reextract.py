"""`newsarchive reextract`: new clean-text records for an old crawl, from its WARC files."""

from __future__ import annotations

import click

from newsarchive.cli.options import Command, archive_argument, progress_option


@click.command("reextract", cls=Command)
@archive_argument
@click.option("--crawl", "crawl_id", metavar="CRAWL_ID",
              help="crawl to re-extract (default: the latest complete one)")
@click.option(
    "--workers", type=click.IntRange(0, 256), default=0, show_default=True,
    help="extraction processes; 0 = one per CPU core",
)
@click.option(
    "--extractor", type=click.Choice(["fast", "accurate"]), default=None,
    help="extraction mode (default: NEWSARCHIVE_EXTRACTOR's default, accurate)",
)
@progress_option
def command(
    archive: str, crawl_id: str | None, workers: int, extractor: str | None,
    progress: bool | None,
) -> None:
    """Rebuild a crawl's clean-text records with the current extractor.

    Reads the WARC files already in ARCHIVE (default ./archive), extracts every article
    page again and stores new text shards and a new manifest under a new crawl id that
    records `reextract_of`; the old crawl stays as it is. Nothing is refetched.
    """
    from newsarchive.progress import wanted
    from newsarchive.tools.reextract import reextract

    outcome = reextract(
        archive, crawl_id, workers=workers, extractor=extractor, progress_bar=wanted(progress)
    )
    discarded = ", ".join(f"{k} {v}" for k, v in sorted(outcome.discarded.items())) or "none"
    click.echo(
        f"re-extracted crawl {outcome.source_crawl_id} as crawl {outcome.crawl_id}: "
        f"{outcome.articles} articles (before: {outcome.previous_articles}) from "
        f"{outcome.candidates} article pages of {outcome.responses} archived responses; "
        f"pages without text: {discarded}"
    )
    click.echo(f"manifest: {archive.rstrip('/')}/{outcome.manifest_key}")
