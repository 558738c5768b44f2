"""Which records an export or a query wants: site, language, dates, crawl, length.

Dates compare in UTC. ``date_field`` chooses the date the ``since``/``until`` bounds
apply to: ``published`` (the page's own date, or the fetch time when the page gave
none) or ``fetched``. Only fetch dates can skip whole shards, because text shards are
partitioned by fetch date; a published-date filter reads every shard of the chosen
sites and crawls and tests each record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from newsarchive.corpus.schema import parse_time
from newsarchive.errors import ConfigError
from newsarchive.rights import policy

DATE_FIELDS = ("published", "fetched")
_LANG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _values(value: str | Iterable[str] | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    items = value.split(",") if isinstance(value, str) else [
        part for v in value for part in str(v).split(",")
    ]
    return frozenset(v.strip() for v in items if v.strip())


def parse_bound(value: str | date | datetime | None, option: str, end: bool) -> datetime | None:
    """A ``YYYY-MM-DD`` day or an ISO 8601 date-time as a UTC instant.

    For an end bound a bare day means the whole day (the instant after it ends).
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        start = datetime(value.year, value.month, value.day, tzinfo=UTC)
        return start + timedelta(days=1) if end else start
    text = str(value).strip()
    try:
        if _DAY.match(text):
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        if "T" not in text and " " not in text:
            raise ValueError
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{option} {text!r} is not a date: use YYYY-MM-DD or an ISO 8601 date-time"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass(frozen=True)
class Filter:
    """Record selection; an empty set means "any". ``until`` is exclusive (an instant)."""

    sites: frozenset[str] = field(default_factory=frozenset)
    languages: frozenset[str] = field(default_factory=frozenset)
    since: datetime | None = None
    until: datetime | None = None
    date_field: str = "published"
    crawls: frozenset[str] = field(default_factory=frozenset)
    min_words: int = 0
    # rights filters (newsarchive.rights.policy): e.g. allow-tdm leaves out reserved pages
    rights: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        *,
        site: str | Iterable[str] | None = None,
        lang: str | Iterable[str] | None = None,
        since: str | date | datetime | None = None,
        until: str | date | datetime | None = None,
        date_field: str = "published",
        crawl: str | Iterable[str] | None = None,
        min_words: int | str | None = None,
        rights: str | Iterable[str] | None = None,
    ) -> Filter:
        """Validate user values (strings from the command line, or Python values)."""
        return cls().refine(
            site=site, lang=lang, since=since, until=until, date_field=date_field,
            crawl=crawl, min_words=min_words, rights=rights,
        )

    def refine(
        self,
        *,
        site: str | Iterable[str] | None = None,
        lang: str | Iterable[str] | None = None,
        since: str | date | datetime | None = None,
        until: str | date | datetime | None = None,
        date_field: str | None = None,
        crawl: str | Iterable[str] | None = None,
        min_words: int | str | None = None,
        rights: str | Iterable[str] | None = None,
    ) -> Filter:
        """This filter with the given criteria replaced; unset ones stay as they are."""
        changes: dict[str, Any] = {}
        if site is not None:
            changes["sites"] = _values(site)
        if lang is not None:
            languages = _values(lang)
            bad = sorted(v for v in languages if not _LANG.match(v))
            if bad:
                raise ConfigError(
                    f"--lang {bad[0]!r} is not a language code (use ISO 639-1, e.g. en, de)"
                )
            changes["languages"] = languages
        if since is not None:
            changes["since"] = parse_bound(since, "--since", end=False)
        if until is not None:
            changes["until"] = parse_bound(until, "--until", end=True)
        if date_field is not None:
            if date_field not in DATE_FIELDS:
                raise ConfigError(
                    f"--date-field {date_field!r}: use one of {', '.join(DATE_FIELDS)}"
                )
            changes["date_field"] = date_field
        if crawl is not None:
            changes["crawls"] = _values(crawl)
        if min_words is not None:
            try:
                words = int(min_words)
                if words < 0:
                    raise ValueError
            except (TypeError, ValueError):
                raise ConfigError(
                    f"--min-words {min_words!r} is not a whole number ≥ 0"
                ) from None
            changes["min_words"] = words
        if rights is not None:
            changes["rights"] = policy.check(sorted(_values(rights)))
        result = replace(self, **changes)
        if result.since and result.until and result.since >= result.until:
            raise ConfigError("--since must be before --until")
        return result

    # -- partitions ------------------------------------------------------------------
    def wants_partition(self, site: str, day: str) -> bool:
        """Whether a text shard under ``site=<site>/date=<day>`` can hold a match."""
        if self.sites and site not in {partition_site(s) for s in self.sites}:
            return False
        if self.date_field != "fetched" or not (self.since or self.until):
            return True
        try:
            start = datetime.fromisoformat(day).replace(tzinfo=UTC)
        except ValueError:
            return True
        if self.since and start + timedelta(days=1) <= self.since:
            return False
        return not (self.until and start >= self.until)

    # -- records ---------------------------------------------------------------------
    def matches(self, record: dict[str, Any]) -> bool:
        return self.matches_selection(record) and self.excluded_by_rights(record) is None

    def excluded_by_rights(self, record: dict[str, Any]) -> str | None:
        """Why the rights filters leave the record out (None: they keep it)."""
        return policy.excluded(record, self.rights) if self.rights else None

    def matches_selection(self, record: dict[str, Any]) -> bool:
        if self.sites and record.get("site") not in self.sites:
            return False
        if self.languages and record.get("language") not in self.languages:
            return False
        if self.crawls and record.get("crawl_id") not in self.crawls:
            return False
        if self.min_words and (record.get("word_count") or 0) < self.min_words:
            return False
        if self.since or self.until:
            when = record_date(record, self.date_field)
            if when is None:
                return False
            if self.since and when < self.since:
                return False
            if self.until and when >= self.until:
                return False
        return True

    def describe(self) -> dict[str, Any]:
        """The filter as plain JSON values, for data cards and export state."""
        return {
            "sites": sorted(self.sites),
            "languages": sorted(self.languages),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "until_is": "exclusive",
            "date_field": self.date_field,
            "crawls": sorted(self.crawls),
            "min_words": self.min_words,
            # only when asked for: exports made before rights existed keep their identity
            **({"rights": list(self.rights)} if self.rights else {}),
        }


def partition_site(site: str) -> str:
    """The ``site=`` partition name the crawler uses for a site (layout.text_key)."""
    from newsarchive.archive.layout import safe_name

    return safe_name(site)


def record_date(record: dict[str, Any], date_field: str = "published") -> datetime | None:
    """The instant a record is dated by: published (else fetched), or fetched."""
    if date_field == "published":
        return parse_time(record.get("published")) or parse_time(record.get("fetched_at"))
    return parse_time(record.get("fetched_at"))
