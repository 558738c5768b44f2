"""`newsarchive stats`: articles per site, language and day; failures and discards."""

from __future__ import annotations

import click

from newsarchive.cli.export import build_filter, filter_options, warn_damaged
from newsarchive.cli.options import Command, archive_argument, progress_option

PLOT_FORMATS = (".png", ".svg", ".pdf")


def _plot_format(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The format follows the file's extension: a .jpg must not hold PNG bytes."""
    if value is not None and not value.lower().endswith(PLOT_FORMATS):
        raise click.BadParameter(f"{value!r}: name a {', '.join(PLOT_FORMATS)} file")
    return value


@click.command("stats", cls=Command)
@archive_argument
@filter_options
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--plot", type=click.Path(dir_okay=False, writable=True), callback=_plot_format,
              help="Also draw articles per day, stacked by site, into this file "
                   "(.png, .svg or .pdf).")
@click.option("--workers", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Parallel shard downloads.")
@progress_option
def command(
    archive: str, site: tuple[str, ...], lang: tuple[str, ...], since: str | None,
    until: str | None, date_field: str, crawl: tuple[str, ...], min_words: int | None,
    rights: tuple[str, ...], all_extractions: bool, as_json: bool, plot: str | None,
    workers: int, progress: bool | None,
) -> None:
    """Show what ARCHIVE (folder or s3://bucket/prefix) holds, from its complete crawls."""
    from pathlib import Path

    from newsarchive.corpus import stats
    from newsarchive.corpus.reader import Archive
    from newsarchive.progress import wanted

    flt = build_filter(site, lang, since, until, date_field, crawl, min_words, rights)
    source = Archive(archive, workers=workers, all_extractions=all_extractions)
    try:
        figures = stats.collect(source, flt, progress=wanted(progress))
    finally:
        warn_damaged(source)
    if plot:
        stats.plot(figures, Path(plot))
    click.echo(stats.dumps(figures) if as_json else stats.render(figures), nl=not as_json)
    if plot and not as_json:
        click.echo(f"\nplot: {plot}")
