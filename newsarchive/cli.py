"""The `newsarchive` command line; each command's logic lives in its own module."""

from __future__ import annotations

import sys

import click

from newsarchive import __version__
from newsarchive.errors import NewsarchiveError


class _Group(click.Group):
    """Show NewsarchiveError as one line and exit 2, never as a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except NewsarchiveError as e:
            click.echo(f"newsarchive: error: {e}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="newsarchive")
def main() -> None:
    """newsarchive: crawl news sites into WARC snapshots and clean article text.

    Crawling itself is `scrapy crawl news -a site=NAME` or `-a url=START_URL`
    (run from the project folder, or with SCRAPY_SETTINGS_MODULE=newsarchive.settings).
    """


@main.command()
@click.option(
    "--archive", default="./archive", show_default=True,
    help="Archive folder (or file:// URI) to write into.",
)
@click.option("--log-level", default="INFO", show_default=True, help="Scrapy log level.")
def demo(archive: str, log_level: str) -> None:
    """Crawl the bundled sample news site into ARCHIVE and show what was archived.

    Starts the sample site on 127.0.0.1 (a free port), runs the real
    `scrapy crawl news` against it, then prints the archived files and counts.
    """
    from newsarchive.demo import run_demo

    sys.exit(run_demo(archive, log_level))


@main.command("sample-site")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
    help="Port to serve on; 0 picks a free one.",
)
def sample_site(host: str, port: int) -> None:
    """Serve the bundled sample news site (prints its base URL first; Ctrl-C stops)."""
    from newsarchive.sample_site import serve_forever

    def ready(base_url: str) -> None:
        click.echo(base_url)
        sys.stdout.flush()

    serve_forever(host=host, port=port, on_ready=ready)


@main.command()
@click.argument("archive", default="./archive")
@click.argument("crawl_id", required=False)
def summary(archive: str, crawl_id: str | None) -> None:
    """Show what a crawl archived (default: the latest complete crawl in ARCHIVE)."""
    from newsarchive.storage import open_store
    from newsarchive.summary import load_manifest, render

    store = open_store(archive)
    click.echo(render(store, load_manifest(store, crawl_id)))


if __name__ == "__main__":
    main()
