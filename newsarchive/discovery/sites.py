"""The site registry: news sites as data (a TOML file), validated on load.

A generic spider is driven by one entry; adding a site means adding an entry, not
code. Errors name the entry and the field, so a typo fails at start-up, not mid-run.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsarchive.errors import ConfigError

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_LIST_FIELDS = (
    "domains", "start_urls", "feeds", "sitemaps", "article_patterns", "deny_patterns",
    "drop_selectors",
)
_KNOWN = {"name", "language", "crawl_delay", *_LIST_FIELDS}


@dataclass(frozen=True)
class Site:
    name: str
    domains: tuple[str, ...]
    start_urls: tuple[str, ...]
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    article_patterns: tuple[str, ...] = ()
    deny_patterns: tuple[str, ...] = ()
    drop_selectors: tuple[str, ...] = ()
    language: str | None = None
    crawl_delay: float | None = None

    @classmethod
    def from_url(cls, url: str) -> Site:
        """An ad-hoc entry for `-a url=…`: that host, started from that page."""
        check_url(url, "url")
        host = urlsplit(url).hostname or ""
        port = urlsplit(url).port
        bare = host.removeprefix("www.")
        name = re.sub(r"[^a-z0-9_-]+", "-", f"{bare}-{port}" if port else bare).strip("-")
        domains = (host,) if host == bare else (host, bare)
        return cls(name=name[:63] or "site", domains=domains, start_urls=(url,))

    @property
    def entry_urls(self) -> tuple[str, ...]:
        return self.start_urls + self.feeds + self.sitemaps

    @property
    def allowed_hosts(self) -> tuple[str, ...]:
        """The crawl's domains plus the hosts its feeds and sitemaps are served from."""
        hosts = dict.fromkeys(self.domains)
        for url in self.entry_urls:
            hosts.setdefault(urlsplit(url).hostname or "", None)
        return tuple(h for h in hosts if h)


def check_url(url: str, where: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: {url!r} is not an absolute http(s) URL")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ConfigError(f"{where}: {url!r} has a malformed port") from None
    return url


def _site_from_entry(entry: Any, index: int) -> Site:
    if not isinstance(entry, dict):
        raise ConfigError(f"site #{index}: each [[site]] must be a table")
    name = _entry_name(entry, index)
    where = f"site {name!r}"
    unknown = sorted(set(entry) - _KNOWN)
    if unknown:
        raise ConfigError(f"{where}: unknown field {unknown[0]!r}")
    values = _list_fields(entry, where)
    if not values["domains"]:
        values["domains"] = tuple(
            sorted({urlsplit(u).hostname or "" for u in values["start_urls"] + values["feeds"]})
        )
    return Site(name=name, language=_language(entry, where),
                crawl_delay=_crawl_delay(entry, where), **values)


def _entry_name(entry: dict[str, Any], index: int) -> str:
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"site #{index}: field 'name' must be lowercase letters, digits, '-' or '_' "
            f"(got {name!r})"
        )
    return name


def _list_fields(entry: dict[str, Any], where: str) -> dict[str, tuple[str, ...]]:
    """The list fields, checked: strings, at least one way in, absolute URLs, regexes."""
    values: dict[str, tuple[str, ...]] = {}
    for key in _LIST_FIELDS:
        raw = entry.get(key, [])
        if not isinstance(raw, list) or not all(isinstance(v, str) and v for v in raw):
            raise ConfigError(f"{where}: field {key!r} must be a list of non-empty strings")
        values[key] = tuple(raw)
    if not values["start_urls"] and not values["feeds"] and not values["sitemaps"]:
        raise ConfigError(f"{where}: needs at least one of 'start_urls', 'feeds', 'sitemaps'")
    for key in ("start_urls", "feeds", "sitemaps"):
        for url in values[key]:
            check_url(url, f"{where}, field {key!r}")
    for key in ("article_patterns", "deny_patterns"):
        for pattern in values[key]:
            _check_regex(pattern, f"{where}, field {key!r}")
    return values


def _check_regex(pattern: str, where: str) -> None:
    try:
        re.compile(pattern)
    except re.error as e:
        raise ConfigError(f"{where}: bad regex {pattern!r}: {e}") from None


def _language(entry: dict[str, Any], where: str) -> str | None:
    language = entry.get("language")
    if language is not None and (not isinstance(language, str) or not language.isalpha()):
        raise ConfigError(f"{where}: field 'language' must be a language code like 'de'")
    return language


def _crawl_delay(entry: dict[str, Any], where: str) -> float | None:
    delay = entry.get("crawl_delay")
    if delay is not None and (not isinstance(delay, (int, float)) or delay < 0):
        raise ConfigError(f"{where}: field 'crawl_delay' must be a number of seconds >= 0")
    return delay


def parse_registry(text: str, source: str) -> dict[str, Site]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from None
    entries = data.get("site", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: expected [[site]] tables")
    sites: dict[str, Site] = {}
    for index, entry in enumerate(entries, 1):
        try:
            site = _site_from_entry(entry, index)
        except ConfigError as e:
            raise ConfigError(f"{source}: {e}") from None
        if site.name in sites:
            raise ConfigError(f"{source}: duplicate site name {site.name!r}")
        sites[site.name] = site
    return sites


def load_registry(path: str | Path | None = None) -> dict[str, Site]:
    """Load a registry file, or the one shipped with the package when path is empty."""
    if path:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"site registry {path}: {e.strerror or e}") from None
        return parse_registry(text, str(path))
    text = resources.files("newsarchive").joinpath("data/sites.toml").read_text("utf-8")
    return parse_registry(text, "built-in site registry")


def _in_domains(url: str, domains: tuple[str, ...]) -> bool:
    host = urlsplit(url).hostname or ""
    return any(host == d or host.endswith("." + d) for d in domains)


def check_registry(sites: dict[str, Site]) -> None:
    """Checks beyond a single field: start pages must lie inside the entry's domains,
    or the links found on them would be dropped as offsite. (Feeds and sitemaps may
    live on other hosts: the spider allows their hosts itself.)"""
    for site in sites.values():
        for url in site.start_urls:
            if not _in_domains(url, site.domains):
                raise ConfigError(
                    f"site {site.name!r}: start URL {url} is outside its domains "
                    f"({', '.join(site.domains)})"
                )


def lookup(sites: dict[str, Site], name: str) -> Site:
    try:
        return sites[name]
    except KeyError:
        known = ", ".join(sorted(sites)) or "(none)"
        raise ConfigError(f"unknown site {name!r}; known sites: {known}") from None
