"""What a publisher says a page may be used for, as read from the page and its headers.

Publishers state it several ways and none is universal, so each signal is recorded with
where it was read (``sources``) and none is interpreted beyond its specification:

- robots directives (``noindex``, ``noarchive``, ``nosnippet``, and the newer ``noai`` /
  ``noimageai``) from ``<meta name="robots">``, the crawler's own ``<meta name=BOT>`` and
  ``X-Robots-Tag`` headers (generic, or ``BOT: …`` for this crawler; other bots' lines
  are not ours to obey);
- W3C TDMRep: ``tdm-reservation`` / ``tdm-policy`` headers and ``<meta>``;
- the declared licence: ``<link rel=license>`` / ``<a rel=license>``, and JSON-LD
  ``license``, ``copyrightHolder``, ``isAccessibleForFree``.

A page's rights are read from a string of HTML and plain header pairs, never raising:
a malformed page gives fewer signals, not a failed crawl.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from parsel import Selector

ROBOTS_DIRECTIVES = ("noindex", "noarchive", "nosnippet", "noai", "noimageai")
# `none` is robots shorthand for noindex + nofollow (Google's and Bing's documentation).
_ALIASES = {"none": ("noindex",)}
MAX_JSONLD = 64  # JSON-LD blocks read per page: a page of thousands is not a licence


def empty() -> dict[str, Any]:
    """The rights of a page that states nothing."""
    return {
        **dict.fromkeys(ROBOTS_DIRECTIVES, False),
        "tdm_reservation": None,
        "tdm_policy": None,
        "license": None,
        "copyright_holder": None,
        "accessible_for_free": None,
        "sources": {},
    }


def read_rights(
    headers: Iterable[tuple[str, str]], html: str | Selector | None, bot: str = "newsarchive"
) -> dict[str, Any]:
    """The page's rights signals; ``sources`` maps each signal found to where it was read
    (e.g. ``"header X-Robots-Tag"``, ``"meta robots"``, ``"json-ld"``)."""
    rights = empty()
    bot = bot.lower()
    for name, value in headers:
        name = name.strip().lower()
        if name == "x-robots-tag":
            _robots(rights, _for_us(value, bot), "header X-Robots-Tag")
        elif name in ("tdm-reservation", "tdm-policy"):
            _tdm(rights, name, value, f"header {name}")
    if html is None:
        return rights
    try:
        page = html if isinstance(html, Selector) else Selector(text=html)
        _from_page(rights, page, bot)
    except Exception:  # noqa: BLE001 - an unreadable page states nothing more
        pass
    return rights


HEAD_BYTES = 256 * 1024  # where a page's <meta> tags are looked for before archiving


def says_noarchive(
    headers: Iterable[tuple[str, str]], body: bytes, html: bool, bot: str = "newsarchive"
) -> bool:
    """Whether a response asks not to be archived, decided before it is written
    (``body``: the start of the decoded body, newsarchive.warc.encodings.head).

    Cheap for the pages that do not: the page is parsed only when its first bytes
    mention noarchive at all."""
    rights = read_rights(headers, None, bot)
    if rights["noarchive"]:
        return True
    head = body[:HEAD_BYTES]
    if not html or b"noarchive" not in head.lower():
        return False
    return bool(read_rights((), head.decode("utf-8", "replace"), bot)["noarchive"])


def _from_page(rights: dict[str, Any], page: Selector, bot: str) -> None:
    for meta in page.xpath("//meta[@name][@content]"):
        name = (meta.attrib.get("name") or "").strip().lower()
        content = meta.attrib.get("content") or ""
        if name in ("robots", bot):
            _robots(rights, content, f"meta {name}")
        elif name in ("tdm-reservation", "tdm-policy"):
            _tdm(rights, name, content, f"meta {name}")
    for link in page.xpath("//link[@rel][@href] | //a[@rel][@href]"):
        rels = (link.attrib.get("rel") or "").lower().split()
        href = (link.attrib.get("href") or "").strip()
        if "license" in rels and href and rights["license"] is None:
            rights["license"] = href
            rights["sources"]["license"] = f"{link.root.tag} rel=license"
    scripts = page.xpath('//script[contains(@type, "ld+json")]/text()').getall()
    for script in scripts[:MAX_JSONLD]:
        try:
            data = json.loads(script)
        except (ValueError, RecursionError):
            continue
        _from_jsonld(rights, data)


_VALUED = ("max-snippet", "max-image-preview", "max-video-preview", "unavailable_after")


def _for_us(value: str, bot: str) -> str:
    """An X-Robots-Tag value's directives for this crawler: ``googlebot: noindex`` is
    another bot's; ``newsarchive: noarchive`` and a bare ``noarchive`` are ours. One value
    may hold several bots' lines (repeated headers folded into one, as HTTP allows):
    ``googlebot: noindex, nofollow, newsarchive: noarchive``: each ``NAME:`` starts the
    lines of that bot, up to the next one."""
    ours: list[str] = []
    owner: str | None = None  # None: for every crawler
    for token in value.split(","):
        head, sep, rest = token.partition(":")
        name = head.strip().lower()
        if sep and name and " " not in name and name not in ROBOTS_DIRECTIVES \
                and name not in _VALUED:
            owner, token = name, rest  # a bot's name starts its own directives
        if owner is None or owner == bot:
            ours.append(token)
    return ",".join(ours)


def _robots(rights: dict[str, Any], content: str, source: str) -> None:
    for word in content.replace(";", ",").split(","):
        word = word.strip().lower()
        for directive in _ALIASES.get(word, (word,)):
            if directive in ROBOTS_DIRECTIVES and not rights[directive]:
                rights[directive] = True
                rights["sources"][directive] = source


def _tdm(rights: dict[str, Any], name: str, value: str, source: str) -> None:
    value = value.strip()
    field = name.replace("-", "_")
    if rights[field] is not None or not value:
        return
    if field == "tdm_reservation":
        if value not in ("0", "1"):
            return  # the protocol's only values
        rights[field] = int(value)
    else:
        rights[field] = value
    rights["sources"][field] = source


def _objects(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every JSON object in a JSON-LD document, outermost first (@graph included)."""
    if depth > 8:
        return
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from _objects(value, depth + 1)
    elif isinstance(data, list):
        for value in data[:256]:
            yield from _objects(value, depth + 1)


def _name(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url") or value.get("@id") or value.get("name")
    return (value.strip() or None) if isinstance(value, str) else None


def _from_jsonld(rights: dict[str, Any], data: Any) -> None:
    for obj in _objects(data):
        if rights["license"] is None and (licence := _name(obj.get("license"))):
            rights["license"] = licence
            rights["sources"]["license"] = "json-ld"
        if rights["copyright_holder"] is None:
            holder = obj.get("copyrightHolder")
            if isinstance(holder, dict | list):
                holder = (holder[0] if isinstance(holder, list) and holder else holder)
                holder = holder.get("name") if isinstance(holder, dict) else holder
            if isinstance(holder, str) and holder.strip():
                rights["copyright_holder"] = holder.strip()
                rights["sources"]["copyright_holder"] = "json-ld"
        free = obj.get("isAccessibleForFree")
        if rights["accessible_for_free"] is None and free is not None:
            if isinstance(free, str):
                free = {"true": True, "false": False}.get(free.strip().lower())
            if isinstance(free, bool):
                rights["accessible_for_free"] = free
                rights["sources"]["accessible_for_free"] = "json-ld"
