"""`newsarchive finalize`."""

from __future__ import annotations

import click


@click.command("finalize")
@click.argument("crawl_id")
@click.option("--redis", "redis_url", required=True, envvar="NEWSARCHIVE_REDIS_URL",
              metavar="URL",
              help="The crawl's Redis (NEWSARCHIVE_REDIS_URL).")
@click.option("--archive", metavar="ARCHIVE",
              help="Archive to write the manifest to; default: the crawl's own.")
def command(crawl_id: str, redis_url: str, archive: str | None) -> None:
    """Write the manifest of a crawl shared by several workers, without its lost workers.

    The last worker to finish does this itself; run it when a worker died and will not
    be started again on its machine. Refused while any worker of the crawl is running.
    """
    from newsarchive.cluster.finalize import finalize_crawl
    from newsarchive.cluster.frontier import FrontierConfig, connect

    server = connect(FrontierConfig(redis_url))
    key = finalize_crawl(server, crawl_id, archive)
    click.echo(f"crawl {crawl_id} finalised: {key}")
