"""Exceptions that carry a message meant for the user, not a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class NewsarchiveError(Exception):
    """Base class: the message is complete and shown to the user as it is."""


class ConfigError(NewsarchiveError):
    """A setting, argument or site entry is wrong; raised before any request."""


class StorageError(NewsarchiveError):
    """The archive cannot be read or written."""


class EndpointError(StorageError):
    """The storage endpoint as a whole fails (unreachable, credentials or bucket refused):
    every other file would fail the same way, so there is no point trying them now."""


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn the system refusing a write under ``path`` (a full disk, a read-only or
    vanished folder) into one line naming it: a command's output is not a bug."""
    try:
        yield
    except (BrokenPipeError, NewsarchiveError):
        raise
    except OSError as e:
        detail = e.strerror or str(e)
        if e.filename:
            detail = f"{e.filename}: {detail}"
        raise StorageError(f"cannot write {path}: {detail}") from None
