"""What every command shares: the archive argument, --progress, and help that shows both.

One convention for the archive: the first argument, default ``./archive``, as `summary`
and `stats` always had. demo, show and wacz took ``--archive`` instead; that still
works (hidden, with a one-line deprecation note) so existing scripts do not break.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

DEFAULT_ARCHIVE = "./archive"
ARCHIVE_HELP = "The archive: a folder, file:// or s3://bucket/prefix URI."


class Argument(click.Argument):
    """A positional argument with a help line (click shows none for arguments)."""

    def __init__(self, *args: Any, help: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = help

    def help_record(self, ctx: click.Context) -> tuple[str, str]:
        # (click 8.2+ marks "no default" with a sentinel object, not None)
        extra = f"  [default: {self.default}]" if isinstance(self.default, str) else ""
        return self.make_metavar(ctx).strip("[]."), f"{self.help}{extra}"


class Command(click.Command):
    """A command whose --help lists its arguments (with defaults) before its options."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [p.help_record(ctx) for p in self.get_params(ctx) if isinstance(p, Argument)]
        if rows:
            with formatter.section("Arguments"):
                formatter.write_dl(rows)
        super().format_options(ctx, formatter)


def archive_argument(command: Callable[..., Any]) -> Callable[..., Any]:
    """ARCHIVE as the first argument, default ./archive."""
    return click.argument(
        "archive", cls=Argument, default=DEFAULT_ARCHIVE, metavar="[ARCHIVE]",
        help=ARCHIVE_HELP,
    )(command)


def archive_then(name: str, metavar: str, help: str) -> Callable[..., Any]:
    """``[ARCHIVE] NAME``: an optional archive before a required argument (show ID,
    wacz CRAWL_ID), and the hidden, deprecated ``--archive`` these commands took before.

    Click gives positionals left to right, so one value alone lands in ``archive``:
    the command calls :func:`settle` to give it to NAME instead.
    """

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.argument(
            name, cls=Argument, required=False, metavar=metavar, help=help
        )(command)
        return optional_archive(command)

    return decorate


def optional_archive(command: Callable[..., Any]) -> Callable[..., Any]:
    """[ARCHIVE] (default ./archive) plus the hidden, deprecated ``--archive``; the command
    calls :func:`settle` with both."""
    command = click.argument(
        "archive", cls=Argument, required=False, default=None, metavar="[ARCHIVE]",
        help=f"{ARCHIVE_HELP}  [default: {DEFAULT_ARCHIVE}]",
    )(command)
    return click.option(
        "--archive", "archive_option", hidden=True, metavar="ARCHIVE",
        help="Deprecated: give the archive as the first argument.",
    )(command)


def settle(
    archive: str | None, archive_option: str | None, then: str | None = None,
    then_name: str | None = None,
) -> tuple[str, str | None]:
    """(archive, NAME) from what was typed: ``cmd NAME``, ``cmd ARCHIVE NAME`` or the
    deprecated ``cmd --archive ARCHIVE NAME``; UsageError when NAME is missing."""
    ctx = click.get_current_context()
    if then_name is not None and then is None:
        if archive is None:
            raise click.UsageError(f"Missing argument '{then_name}'.", ctx=ctx)
        archive, then = None, archive  # one positional: it is NAME
    if archive_option is not None:
        click.echo(
            "newsarchive: warning: --archive is deprecated; give the archive as the first "
            f"argument: newsarchive {ctx.info_name} {archive_option}"
            + (f" {then}" if then_name else ""),
            err=True,
        )
        if archive is not None and archive != archive_option:
            raise click.UsageError("give the archive once, as the first argument", ctx=ctx)
        archive = archive_option
    return archive or DEFAULT_ARCHIVE, then


def progress_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """The same switch on every long command (newsarchive.progress draws the bar)."""
    return click.option(
        "--progress/--no-progress", default=None,
        help="Progress bar on stderr (default: when stderr is a terminal).",
    )(command)
