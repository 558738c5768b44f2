"""Exceptions that carry a message meant for the user, not a traceback."""

from __future__ import annotations


class NewsarchiveError(Exception):
    """Base class: the message is complete and shown to the user as it is."""


class ConfigError(NewsarchiveError):
    """A setting, argument or site entry is wrong; raised before any request."""


class StorageError(NewsarchiveError):
    """The archive cannot be read or written."""
