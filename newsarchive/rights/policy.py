"""Which records a rights filter keeps, and why it leaves the others out.

Signals are recorded at crawl time and enforced only here, when a researcher asks: the
same archive can feed a corpus for text and data mining (``allow-tdm``) and a search
index (``allow-index``), each honouring what the publisher said about that use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from newsarchive.errors import ConfigError


def _tdm(rights: dict[str, Any]) -> str | None:
    if rights.get("tdm_reservation") == 1:
        return "tdm-reservation"
    if rights.get("noai"):
        return "noai"
    return None


def _index(rights: dict[str, Any]) -> str | None:
    return "noindex" if rights.get("noindex") else None


def _snippet(rights: dict[str, Any]) -> str | None:
    return "nosnippet" if rights.get("nosnippet") else None


POLICIES: dict[str, tuple[Callable[[dict[str, Any]], str | None], str]] = {
    "allow-tdm": (_tdm, "leave out pages with a TDMRep reservation (tdm-reservation: 1) or noai"),
    "allow-index": (_index, "leave out pages marked noindex"),
    "allow-snippet": (_snippet, "leave out pages marked nosnippet"),
}


def check(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The policies asked for, or a one-line error naming the ones that exist."""
    unknown = [n for n in names if n not in POLICIES]
    if unknown:
        raise ConfigError(
            f"unknown rights filter {unknown[0]!r}: use one of {', '.join(POLICIES)}"
        )
    return tuple(dict.fromkeys(names))


def excluded(record: dict[str, Any], policies: tuple[str, ...]) -> str | None:
    """Why the record is left out under policies (None: kept). A record from before
    rights were recorded has no ``rights``: it states nothing, so it is kept."""
    rights = record.get("rights")
    if not policies or not isinstance(rights, dict):
        return None
    for name in policies:
        reason = POLICIES[name][0](rights)
        if reason:
            return reason
    return None
