"""`newsarchive export`: a filtered, optionally deduplicated corpus as JSONL, Parquet or CSV."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from newsarchive.cli.options import Command, archive_argument, progress_option


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The record filters shared by `export` and `stats`."""
    options = [
        click.option("--site", multiple=True, metavar="NAME",
                     help="Only these sites (repeat, or a,b)."),
        click.option("--lang", multiple=True, metavar="LANG",
                     help="Only these languages (ISO 639-1: en, de…)."),
        click.option("--since", metavar="DATE",
                     help="From this day (YYYY-MM-DD) or ISO date-time, UTC."),
        click.option("--until", metavar="DATE",
                     help="Up to and including this day (or before this date-time)."),
        click.option(
            "--date-field", type=click.Choice(["published", "fetched"]), default="published",
            show_default=True,
            help="Date for --since/--until: published (else fetched), or fetched.",
        ),
        click.option("--crawl", multiple=True, metavar="CRAWL_ID",
                     help="Only these crawl ids (repeat, or a,b)."),
        click.option("--min-words", type=click.IntRange(min=0), metavar="N",
                     help="Only texts with at least N words."),
        click.option("--rights", multiple=True, metavar="FILTER",
                     type=click.Choice(["allow-tdm", "allow-index", "allow-snippet"]),
                     help="Honour what publishers stated: allow-tdm leaves out pages with a "
                          "TDM reservation or noai; allow-index noindex pages; "
                          "allow-snippet nosnippet pages (repeatable)."),
        click.option("--all-extractions", is_flag=True,
                     help="Every extraction of each capture: a re-extracted crawl's old "
                          "records too (default: the latest extraction only)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def build_filter(
    site: tuple[str, ...], lang: tuple[str, ...], since: str | None, until: str | None,
    date_field: str, crawl: tuple[str, ...], min_words: int | None,
    rights: tuple[str, ...] = (),
) -> Any:
    from newsarchive.corpus.filters import Filter

    return Filter.build(
        site=site or None, lang=lang or None, since=since, until=until,
        date_field=date_field, crawl=crawl or None, min_words=min_words, rights=rights or None,
    )


def warn_damaged(archive: Any) -> None:
    """One line per crawl left out because its manifest is damaged."""
    for crawl_id, error in archive.damaged.items():
        click.echo(f"newsarchive: warning: crawl {crawl_id} skipped: {error.reason}", err=True)


@click.command("export", cls=Command)
@archive_argument
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False),
              help="Output folder (created if needed).")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "parquet", "csv"]), default="jsonl",
    show_default=True,
)
@filter_options
@click.option(
    "--dedupe", type=click.Choice(["none", "exact", "near"]), default="none", show_default=True,
    help="Drop copies, keeping the earliest: exact = same text; near = MinHash LSH.",
)
@click.option(
    "--near-threshold", type=float, default=0.5, show_default=True,
    help="Jaccard similarity of 5-word shingles from which texts count as near copies.",
)
@click.option("--fields", metavar="FIELD,…",
              help="Columns to export, comma-separated (default: all).")
@click.option("--partition", is_flag=True, help="Parquet partitioned as site=…/date=…/.")
@click.option("--overwrite", is_flag=True, help="Replace an export with other arguments in OUT.")
@click.option("--workers", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Parallel shard downloads.")
@progress_option
def command(
    archive: str, out: str, fmt: str, site: tuple[str, ...], lang: tuple[str, ...],
    since: str | None, until: str | None, date_field: str, crawl: tuple[str, ...],
    min_words: int | None, rights: tuple[str, ...], all_extractions: bool, dedupe: str,
    near_threshold: float,
    fields: str | None, partition: bool, overwrite: bool, workers: int,
    progress: bool | None,
) -> None:
    """Export the articles of ARCHIVE (default ./archive) into the folder OUT.

    Reads only complete crawls (those with a manifest) and only the shards the filters
    need; writes the data files, a data card (README.md, datacard.json) and the export's
    state. Re-running the same export finds it done, or restarts an interrupted one;
    different arguments into the same OUT are refused unless --overwrite is given.
    """
    from pathlib import Path

    from newsarchive.corpus.dedupe import DedupeOptions
    from newsarchive.corpus.export import ExportOptions, export
    from newsarchive.corpus.reader import Archive
    from newsarchive.corpus.schema import select_fields

    options = ExportOptions(
        format=fmt,
        fields=select_fields(fields),
        filter=build_filter(site, lang, since, until, date_field, crawl, min_words, rights),
        dedupe=DedupeOptions(mode=dedupe, threshold=near_threshold),
        partition=partition,
    )
    from newsarchive.progress import wanted

    progress = wanted(progress)

    from newsarchive.errors import writing

    source = Archive(archive, workers=workers, all_extractions=all_extractions)
    try:
        with writing(Path(out)):
            result = export(source, Path(out), options, overwrite=overwrite, progress=progress)
    finally:
        warn_damaged(source)
    click.echo(result.summary())
