"""`newsarchive enqueue`."""

from __future__ import annotations

import click


@click.command("enqueue")
@click.option("--redis", "redis_url", required=True, envvar="NEWSARCHIVE_REDIS_URL",
              metavar="URL",
              help="The shared frontier (NEWSARCHIVE_REDIS_URL).")
@click.option("--site", metavar="NAME",
              help="A site of the registry: its start pages, feeds and sitemaps.")
@click.option("--url", "start_url", metavar="URL",
              help="Any site, from this start page (as -a url=).")
@click.option("--crawl-id", metavar="CRAWL_ID",
              help="The crawl to add to; default: the site's running crawl, "
                   "or a new one that workers started for the site join.")
@click.option("--sites", "sites_file", type=click.Path(dir_okay=False),
              help="Site registry file (NEWSARCHIVE_SITES).")
@click.option("--from-file", type=click.File("r"),
              help="More URLs to fetch, one per line (a backfill's article list).")
@click.argument("urls", nargs=-1)
def command(
    redis_url: str, site: str | None, start_url: str | None, crawl_id: str | None,
    sites_file: str | None, from_file: click.utils.LazyFile | None, urls: tuple[str, ...],
) -> None:
    """Put a site's seeds, and any URLs given, into a shared crawl's frontier.

    Workers (`scrapy crawl news -a site=NAME -s NEWSARCHIVE_REDIS_URL=…`) take them from
    there; URLs already seen in the crawl are not queued again. Prints the crawl id.
    """
    from newsarchive.cluster.frontier import (
        CrawlKeys,
        FrontierConfig,
        Membership,
        connect,
        push_requests,
    )
    from newsarchive.cluster.workers import running_crawl
    from newsarchive.discovery.sites import Site, load_registry, lookup
    from newsarchive.discovery.urls import strip_tracking
    from newsarchive.errors import ConfigError

    if bool(site) == bool(start_url):
        raise ConfigError("give exactly one of --site NAME or --url START_URL")
    target = Site.from_url(start_url) if start_url else lookup(load_registry(sites_file), site)
    config = FrontierConfig(redis_url)
    server = connect(config)
    crawl = crawl_id or running_crawl(server, target.name)
    keys = CrawlKeys(crawl)
    server.hsetnx(keys.meta, "site", target.name)
    known = server.hget(keys.meta, "site").decode()
    if known != target.name:
        raise ConfigError(f"crawl {crawl} is a crawl of {known!r}, not {target.name!r}")
    extra = [line.strip() for line in (from_file or []) if line.strip()] + list(urls)
    for url in extra:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"not an http(s) URL: {url!r}")
    seeds = (
        [(u, "start") for u in target.start_urls]
        + [(u, "feed") for u in target.feeds]
        + [(u, "sitemap") for u in target.sitemaps]
        + [(strip_tracking(u), "link") for u in extra]
    )
    added = push_requests(Membership(config, server, keys, "enqueue"), seeds)
    click.echo(crawl)
    click.echo(
        f"{added} request(s) queued, {len(seeds) - added} already seen in crawl {crawl}",
        err=True,
    )
