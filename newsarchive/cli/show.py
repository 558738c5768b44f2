"""`newsarchive show`: one article's record and the archived response it came from."""

from __future__ import annotations

import json
import sys

import click

from newsarchive.cli.options import Command, archive_then, settle


@click.command("show", cls=Command)
@archive_then("ident", "ID|URL", "An article id (8+ leading characters) or its URL.")
@click.option("--raw", is_flag=True,
              help="Print the archived HTTP response (status, headers, body as received).")
@click.option("--decode", is_flag=True,
              help="With --raw: undo the body's Content-Encoding (gzip, deflate, br, zstd, "
                   "stacked); the headers stay as archived.")
@click.option("--json", "as_json", is_flag=True, help="Print the record alone, as JSON.")
def command(
    archive: str | None, ident: str | None, archive_option: str | None, raw: bool,
    decode: bool, as_json: bool,
) -> None:
    """Show an article of ARCHIVE (default ./archive) by its id or by URL.

    A URL captured by several crawls shows the latest capture and lists the others.
    """
    archive, ident = settle(archive, archive_option, ident, "ID|URL")
    assert ident is not None
    from newsarchive.corpus.provenance import find, read_warc
    from newsarchive.corpus.reader import Archive
    from newsarchive.errors import ConfigError
    from newsarchive.warc.encodings import DecodingError

    source = Archive(archive)
    damaged: list[str] = []
    matches = find(source, ident, damaged)
    if not matches:
        if "://" in ident and source.withdrawn.url(ident):
            from newsarchive.discovery.urls import article_key

            entry = source.withdrawn.keys[article_key(ident)]
            raise ConfigError(f"{ident} was taken down on {entry.when} by {entry.who}: "
                              f"{entry.reason} (newsarchive takedown --list)")
        hint = ""
        if "://" not in ident and ("/" in ident or "." in ident):
            hint = f" (a URL needs its scheme: https://{ident})"
        unread = f" (unreadable, so not searched: {'; '.join(damaged)})" if damaged else ""
        raise ConfigError(f"no article {ident!r} in {source.uri}{hint}{unread}")
    for problem in damaged:
        click.echo(f"newsarchive: warning: not searched: {problem}", err=True)
    ids = {m["id"] for m in matches}
    if "://" not in ident and len(ids) > 1:
        raise ConfigError(
            f"{ident!r} matches {len(ids)} articles ({', '.join(sorted(ids)[:5])}…); "
            "give more of the id"
        )
    record = matches[-1]
    try:
        warc = read_warc(source, record, decode=raw and decode)
    except DecodingError as e:
        raise DecodingError(
            f"cannot decode the archived body of {record.get('url')}: {e} "
            "(without --decode, --raw prints it as archived)"
        ) from None
    if raw:
        if sys.stdout.isatty() and _binary(warc.body, warc.http_header_bytes, decoded=decode):
            # As curl does: compressed or binary bytes would garble the terminal.
            raise ConfigError(
                "the archived body is binary (compressed or not text): add --decode, "
                "or send it to a file (> body.bin)"
            )
        out = sys.stdout.buffer
        out.write(warc.http_header_bytes)
        out.write(warc.body)
        out.flush()
        return
    if as_json:
        click.echo(json.dumps(record, indent=2, ensure_ascii=False))
        return
    text = record.pop("text", "")
    click.echo(json.dumps(record, indent=2, ensure_ascii=False))
    click.echo("\n--- text ---")
    click.echo(text)
    loc = record["warc"]
    click.echo("\n--- WARC provenance ---")
    click.echo(f"{source.uri}/{loc['file']}  offset {loc['offset']}  length {loc['length']}")
    for name, value in warc.warc_headers:
        click.echo(f"{name}: {value}")
    verdict = {True: "matches", False: "DOES NOT MATCH", None: "not checked"}[warc.digest_ok]
    click.echo(f"payload digest {verdict} the archived body ({len(warc.body)} bytes)")
    click.echo(f"\n{warc.status_line}")
    for name, value in warc.http_headers:
        click.echo(f"{name}: {value}")
    if len(matches) > 1:
        click.echo(f"\nother captures of this URL: {', '.join(m['id'] for m in matches[:-1])}")


def _binary(body: bytes, header: bytes, decoded: bool) -> bool:
    encoded = not decoded and b"\ncontent-encoding:" in header.lower()
    return encoded or b"\x00" in body[:8192]
