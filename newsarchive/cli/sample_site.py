"""`newsarchive sample-site`."""

from __future__ import annotations

import sys

import click


@click.command("sample-site")
@click.option("--host", default="127.0.0.1", show_default=True, metavar="ADDRESS",
              help="Address to bind.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
    help="Port to serve on; 0 picks a free one.",
)
def command(host: str, port: int) -> None:
    """Serve the bundled sample news site (prints its base URL first; Ctrl-C stops)."""
    from newsarchive.sample_site import serve_forever

    def ready(base_url: str) -> None:
        click.echo(base_url)
        sys.stdout.flush()

    serve_forever(host=host, port=port, on_ready=ready)
