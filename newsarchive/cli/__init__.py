"""The `newsarchive` command line; each command's logic lives in its own module."""

from __future__ import annotations

import signal
import sys
import zlib
from typing import NoReturn

import click

from newsarchive import __version__
from newsarchive.errors import NewsarchiveError


class Stopped(BaseException):
    """SIGTERM or SIGHUP, raised where the command is, like Ctrl-C's KeyboardInterrupt."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, _frame: object) -> None:
    raise Stopped(signum)


class _Group(click.Group):
    """One error boundary for every command: what a person can act on is one line and
    exit 2, never a traceback; Ctrl-C ends quietly with 130, as shells expect.

    SIGTERM (CI's `timeout`) and SIGHUP ended a command where it stood, skipping every
    `finally` and `with`: wacz left its work folder beside the output. They now unwind
    like Ctrl-C, so temporary files go, and end the command with one line and the
    usual 128 + signal status. (`scrapy crawl` has its own stop: newsarchive.crawl.stopping.)
    """

    def invoke(self, ctx: click.Context) -> object:
        for signum in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(signum) is signal.SIG_DFL:
                signal.signal(signum, _stop)
        try:
            return super().invoke(ctx)
        except NewsarchiveError as e:
            _fail(str(e))
        except KeyboardInterrupt:
            click.echo("newsarchive: interrupted", err=True)
            sys.exit(130)
        except Stopped as e:
            click.echo(f"newsarchive: stopped by {signal.Signals(e.signum).name}", err=True)
            sys.exit(128 + e.signum)
        except OSError as e:  # a busy port, an unwritable output, a full disk
            where = f": {e.filename}" if e.filename else ""
            _fail(f"{e.strerror or e}{where}")
        except (EOFError, zlib.error) as e:  # a compressed file cut short or damaged
            _fail(f"a damaged file in the archive ({e}): run `newsarchive verify`")


def _fail(message: str) -> NoReturn:
    click.echo(f"newsarchive: error: {message}", err=True)
    sys.exit(2)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="newsarchive")
def main() -> None:
    """newsarchive: crawl news sites into WARC snapshots and clean article text.

    Crawling itself is `scrapy crawl news -a site=NAME` or `-a url=START_URL`
    (run from the project folder, or with SCRAPY_SETTINGS_MODULE=newsarchive.settings).
    """


def _register() -> None:
    """Each command lives in its own module; this only wires them into the group."""
    from newsarchive.cli import (
        demo,
        export,
        sample_site,
        show,
        sites,
        stats,
        summary,
        upload_pending,
    )

    for module in (demo, sample_site, sites, summary, upload_pending, export, stats, show):
        main.add_command(module.command)

    from newsarchive.cli import replay, takedown, verify, wacz  # for archivists

    for module in (verify, wacz, replay, takedown):
        main.add_command(module.command)

    from newsarchive.cli import reextract  # new text records from stored WARC files

    main.add_command(reextract.command)

    from newsarchive.cli import enqueue, finalize  # several machines, one Redis

    for module in (enqueue, finalize):
        main.add_command(module.command)


_register()
