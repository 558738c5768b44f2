"""`newsarchive sites list|check`."""

from __future__ import annotations

import click


@click.group("sites")
def command() -> None:
    """Inspect and validate site registries (TOML files of [[site]] entries)."""


@command.command("list")
@click.argument("registry", required=False, type=click.Path(dir_okay=False))
def list_sites(registry: str | None) -> None:
    """List the sites of REGISTRY (default: the built-in registry)."""
    from newsarchive.discovery.sites import load_registry

    sites = load_registry(registry)
    width = max(len(name) for name in sites) if sites else 4
    click.echo(f"{'name':<{width}}  lang  feeds  sitemaps  domains")
    for site in sorted(sites.values(), key=lambda s: s.name):
        click.echo(
            f"{site.name:<{width}}  {site.language or '-':<4}  {len(site.feeds):>5}  "
            f"{len(site.sitemaps):>8}  {', '.join(site.domains)}"
        )
    click.echo(f"{len(sites)} site(s)")


@command.command("check")
@click.argument("registry", required=False, type=click.Path(dir_okay=False))
def check_sites(registry: str | None) -> None:
    """Validate REGISTRY offline (default: the built-in one); exit 2 on the first error.

    Checks TOML syntax, required and known fields, URL forms, regexes, duplicate names,
    and that every start URL, feed and sitemap is inside the entry's domains.
    """
    from newsarchive.discovery.sites import check_registry, load_registry

    sites = load_registry(registry)
    check_registry(sites)
    click.echo(f"ok: {len(sites)} site(s) valid")
