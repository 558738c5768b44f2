"""`newsarchive replay`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from newsarchive.cli.options import Argument, Command, archive_argument


@click.command("replay", cls=Command)
@archive_argument
@click.argument("crawl_ids", cls=Argument, nargs=-1, metavar="[CRAWL_ID]...",
                help="Only these crawls (default: every complete crawl).")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True,
              help="Port to serve on.")
@click.option(
    "--bind", default="127.0.0.1", show_default=True, metavar="ADDRESS",
    help="Address to listen on (0.0.0.0 exposes the archive to your network).",
)
@click.option(
    "--venv", "env", type=click.Path(file_okay=False, path_type=Path),
    help="pywb's virtual environment (default: ~/.cache/newsarchive/pywb-venv; "
    "created on first use).",
)
@click.option(
    "--workdir", type=click.Path(file_okay=False, path_type=Path),
    help="Where the pywb collection is laid out (default: under ~/.cache/newsarchive).",
)
def command(
    archive: str, crawl_ids: tuple[str, ...], port: int, bind: str,
    env: Path | None, workdir: Path | None,
) -> None:
    """Browse ARCHIVE's crawls (default: all complete ones) with pywb.

    Lays out a pywb collection from the WARC files and CDXJ indexes, then serves it
    until interrupted: open http://127.0.0.1:PORT/newsarchive/ in a browser.
    """
    from newsarchive.storage import open_store
    from newsarchive.tools import replay

    replay.check_port(bind, port)  # before anything slow: a busy port is one line at once
    store = open_store(archive)
    collection = replay.prepare_collection(
        store, workdir or replay.default_root(store), list(crawl_ids) or None
    )
    for line in collection.skipped:
        click.echo(f"newsarchive: warning: {line}; left out", err=True)
    click.echo("preparing pywb (the first run installs it, which takes a while)…", err=True)
    venv = replay.ensure_pywb(env)
    replay.check_port(bind, port)  # again: the install can take minutes
    base = f"http://{bind}:{port}"
    click.echo(
        f"replaying {collection.warcs} WARC file(s) of {len(collection.crawl_ids)} crawl(s) "
        f"at {base}/{collection.name}/  (Ctrl-C stops)"
    )
    articles = replay.article_urls(store, collection.crawl_ids)
    if articles:
        click.echo("open an archived article:")
        for stamp, url in articles:
            click.echo(f"  {replay.replay_url(base, stamp, url, mode='')}")
    sys.exit(replay.run_wayback(venv, collection.root, port, bind))
