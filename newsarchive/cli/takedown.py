"""`newsarchive takedown`."""

from __future__ import annotations

import click


@click.command("takedown")
@click.argument("archive")
@click.argument("targets", nargs=-1, metavar="URL-OR-ID...")
@click.option("--reason", help="Why (required to take down or undo): kept with the entry.")
@click.option("--by", "who", help="Who asked or decided [default: user@host].")
@click.option("--undo", is_flag=True, help="Restore the articles instead of withdrawing them.")
@click.option("--list", "list_", is_flag=True, help="List what is withdrawn now, and exit.")
def command(
    archive: str, targets: tuple[str, ...], reason: str | None, who: str | None, undo: bool,
    list_: bool,
) -> None:
    """Withdraw articles of ARCHIVE from every output, without rewriting its files.

    Each URL-OR-ID (an article URL, or a record id of 8+ characters) is added to the
    archive's takedown list: export, stats, show, the Corpus API, wacz and replay leave
    every capture of the article out from then on, while its WARC records and text
    shards stay as they were, so `newsarchive verify` still checks every byte. Each
    entry records who, when and why; --undo restores an article, --list shows them.

    \b
      newsarchive takedown ./archive https://news.example/2026/05/story.html \\
          --reason "publisher request, ticket 4521"
      newsarchive takedown ./archive --list
    """
    from newsarchive.corpus.provenance import find
    from newsarchive.corpus.reader import Archive
    from newsarchive.errors import ConfigError
    from newsarchive.rights import takedowns

    source = Archive(archive, honour_takedowns=False)
    if list_:
        if targets or undo:
            raise ConfigError("--list takes no URL-OR-ID and no --undo")
        source.manifests  # noqa: B018 - an archive, not any folder
        current = takedowns.withdrawn(source.store)
        for entry in sorted(set(current.values()), key=lambda e: (e.when, e.url)):
            click.echo(f"{entry.when}  {entry.url}  by {entry.who}: {entry.reason}")
        click.echo(f"{len(set(current.values()))} article(s) withdrawn in {source.uri}",
                   err=True)
        return
    if not targets:
        raise ConfigError("name at least one article URL or id (or use --list)")
    if not reason or not reason.strip():
        raise ConfigError("--reason is required: say why, it is kept with the entry")
    who = who or takedowns.default_who()
    entries = []
    for target in targets:
        records = find(source, target)
        urls: set[str] = set()
        if records:
            url = records[0].get("canonical_url") or records[0]["url"]
            if "://" not in target:  # an id: every capture of its article goes with it
                records = find(source, url)
            for record in records:
                urls.update(u for u in (record.get("url"), record.get("canonical_url")) if u)
        elif "://" in target:
            url = target  # not archived (yet): later captures are withheld as well
            click.echo(f"newsarchive: note: {target} is not in {source.uri}; "
                       "withheld if it is ever archived", err=True)
        else:
            raise ConfigError(f"no article with id {target!r} in {source.uri}")
        entries.append(takedowns.entry(
            "undo" if undo else "takedown", url, target, reason.strip(), who, urls))
    key = takedowns.append(source.store, entries)
    verb = "restored" if undo else "withdrawn"
    for e in entries:
        click.echo(f"{verb}: {e.url}")
    click.echo(f"{len(entries)} article(s) {verb}; entry {source.uri}/{key}", err=True)
