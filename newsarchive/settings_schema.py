"""Every ``NEWSARCHIVE_*`` setting, written once: name, type, default, what is allowed, meaning.

One list drives three things that used to be kept in step by hand:

- the defaults: ``newsarchive.settings`` takes them from :data:`SETTINGS`, so Scrapy
  sees them like any setting of a settings module;
- the checks at start-up: :func:`validate` (called by ``Config.from_settings``) reads
  every value through its entry and refuses a bad one with one line naming the
  setting, the value given and what is allowed; a component that needs one value
  reads it with :func:`read`, through the same entry;
- the reference table: :func:`reference_markdown`.

Adding a setting is adding one entry to :data:`SETTINGS` (and reading it with
:func:`read`); ``tests/test_settings_schema.py`` fails when code names a
``NEWSARCHIVE_*`` setting the list does not have.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from newsarchive.archive.layout import is_crawl_id
from newsarchive.errors import ConfigError
from newsarchive.storage.s3 import ADDRESSING_STYLES, MIN_PART_SIZE, STORAGE_CLASSES

MiB = 1024**2
GiB = 1024**3
_SHOWN = 80  # characters of a bad value quoted in a message: one line, whatever was given
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")
_TYPE_NAMES = {bool: "boolean", int: "integer", float: "number", str: "text"}  # for the table


@dataclass(frozen=True)
class Setting:
    """One setting: how a raw value (a Python value or the string given with ``-s``)
    becomes a typed one, and what the reference says about it.

    ``bounds`` are inclusive unless ``open`` (then both given ends are excluded);
    ``choices`` are matched ignoring case and an empty value means the default;
    ``check`` is a further rule for text, described in words by ``allowed``;
    ``required`` text must not be empty; ``url`` values are quoted without their
    user:password part.
    """

    name: str
    type: type  # bool, int, float or str
    default: Any
    meaning: str
    bounds: tuple[float | None, float | None] = (None, None)
    open: bool = False
    choices: tuple[str, ...] = ()
    check: Callable[[str], bool] | None = None
    allowed: str = ""
    required: bool = False
    url: bool = False
    normalize: Callable[[str], str] | None = None

    def read(self, settings: Any) -> Any:
        """This setting's value in ``settings`` (a Scrapy ``Settings`` or a plain
        mapping), checked; the default when it is absent."""
        raw = settings.get(self.name)
        return self.parse(self.default if raw is None else raw)

    def parse(self, raw: Any) -> Any:
        """The typed value of ``raw``; ConfigError (one line) if it is not allowed."""
        if self.type is bool:
            return self._flag(raw)
        if self.type in (int, float):
            return self._number(raw)
        return self._text(raw)

    # --- per type ---------------------------------------------------------------

    def _flag(self, raw: Any) -> bool:
        # Scrapy's Settings.getbool, which also reads these settings: 0/1, True/False.
        if isinstance(raw, bool):
            return raw
        try:
            return bool(int(raw))
        except (TypeError, ValueError, OverflowError):
            if raw in ("True", "true"):
                return True
            if raw in ("False", "false"):
                return False
        raise self._refusal("true or false", _quoted(raw))

    def _number(self, raw: Any) -> int | float:
        # As the messages always said: a fraction is "a number from 0 to 1" whatever
        # is wrong with it; other numbers are "a whole number", then "at least 1".
        kind = "a whole number" if self.type is int else "a number"
        outside = self._range()
        if self.type is float and None not in self.bounds:
            kind = outside = f"{kind} {outside}"
        try:
            value = self.type(raw)
        except (TypeError, ValueError, OverflowError):
            raise self._refusal(kind, _quoted(raw)) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self._refusal(kind, _quoted(raw))
        if not self._within(value):
            raise self._refusal(outside, _short(_num(value)))
        return value

    def _text(self, raw: Any) -> str:
        value = str(raw).strip()
        if self.normalize is not None:
            value = self.normalize(value)
        if self.choices:
            if not value:  # as `-s NAME=` always meant: the default
                return str(self.default)
            for choice in self.choices:
                if choice.lower() == value.lower():
                    return choice
        elif self._fits(value):
            return value
        shown = _USERINFO.sub(r"\1***@", value) if self.url else value
        raise self._refusal(self.describe(), _quoted(shown))

    def _fits(self, text: str) -> bool:
        if not text:  # empty text means "not set" unless the setting needs a value
            return not self.required
        return self.check is None or self.check(text)

    # --- words ------------------------------------------------------------------

    def _within(self, value: float) -> bool:
        lo, hi = self.bounds
        if self.open:
            return (lo is None or value > lo) and (hi is None or value < hi)
        return (lo is None or value >= lo) and (hi is None or value <= hi)

    def _range(self, compact: bool = False) -> str:
        lo, hi = self.bounds
        if lo is not None and hi is not None and not self.open and (compact or self.type is float):
            return f"from {_num(lo)} to {_num(hi)}"
        parts = []
        if lo is not None:
            parts.append(f"{'above' if self.open else 'at least'} {_num(lo)}")
        if hi is not None:
            parts.append(f"{'below' if self.open else 'at most'} {_num(hi)}")
        return " and ".join(parts)

    def describe(self) -> str:
        """What a value may be, in words: for messages and the reference table."""
        if self.type is bool:
            return "true or false"
        if self.type in (int, float):
            kind = "a whole number" if self.type is int else "a number"
            return f"{kind} {self._range(compact=True)}".strip()
        if self.choices:
            names = list(self.choices)
            if len(names) == 2:
                return f"{names[0]} or {names[1]}"
            return f"one of {', '.join(names)}"
        return self.allowed or "any text"

    def _refusal(self, allowed: str, shown: str) -> ConfigError:
        return ConfigError(f"{self.name} must be {allowed}, got {shown}")


def _num(value: float) -> str:
    """A number as written in a message: 30 not 30.0, and sizes in MiB/GiB too."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    for unit, size in (("GiB", GiB), ("MiB", MiB)):
        if value >= size and value % size == 0:
            return f"{value} ({value // size} {unit})"
    return str(value)


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _quoted(raw: Any) -> str:
    return _short(repr(raw))


def _url(value: str, schemes: tuple[str, ...], host: bool = False) -> bool:
    """Whether ``value`` parses as a URL of one of ``schemes`` (with a host name)."""
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address
        return False
    return parts.scheme in schemes and (bool(parts.hostname) or not host)


def _file_name_part(value: str) -> bool:
    return all(c.isalnum() or c in "-_." for c in value)


def _worker_id(value: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", value) is not None


def _redis_url(value: str) -> bool:
    return _url(value, ("redis", "rediss", "unix"))


def _http_url(value: str) -> bool:
    return _url(value, ("http", "https"), host=True)


# The order is the reference table's: where the archive goes, what is written, how
# the crawl behaves, several machines, S3.
SETTINGS: tuple[Setting, ...] = (
    Setting("NEWSARCHIVE_ARCHIVE", str, "./archive",
            "the archive: a folder path, a `file://` URI or `s3://bucket/prefix`",
            required=True, allowed="a folder path or a URI"),
    Setting("NEWSARCHIVE_CRAWL_ID", str, "",
            "use this crawl id instead of a new one (refused if that crawl is complete); "
            "empty: a new id from the start time",
            check=is_crawl_id, allowed="letters, digits, '-', '_' or '.'"),
    Setting("NEWSARCHIVE_SITES", str, "",
            "site registry file (TOML); empty: the registry shipped in the package",
            allowed="a file path"),
    Setting("NEWSARCHIVE_SPOOL", str, "",
            "where files are written before they are stored; empty: `<archive>/.spool` "
            "for a folder, `~/.cache/newsarchive/spool/<archive>` for a bucket",
            allowed="a folder path"),
    Setting("NEWSARCHIVE_OPERATOR", str, "",
            "who runs the crawl (contact), written into `warcinfo`"),
    Setting("NEWSARCHIVE_WARC_PREFIX", str, "newsarchive", "WARC file name prefix",
            required=True, check=_file_name_part, allowed="letters, digits, '-', '_' or '.'"),
    Setting("NEWSARCHIVE_WARC_VERSION", str, "1.1", "WARC version written",
            choices=("1.0", "1.1"), normalize=lambda v: v.removeprefix("WARC/")),
    Setting("NEWSARCHIVE_NOARCHIVE", str, "withhold",
            "a page marked `noarchive` (robots meta, `<meta name=\"newsarchive\">`, "
            "`X-Robots-Tag`): `withhold` keeps its response out of the WARC (counted as "
            "`withheld`), `keep` archives it with the signal in its records",
            choices=("withhold", "keep")),
    Setting("NEWSARCHIVE_TDMREP", bool, True,
            "fetch (and archive) each host's `/.well-known/tdmrep.json` before its first "
            "page, so records carry the TDM reservation that applies to them"),
    Setting("NEWSARCHIVE_WARC_MAX_SIZE", int, 1 * GiB,
            "roll over to a new WARC file past this size (bytes)", bounds=(1024, None)),
    Setting("NEWSARCHIVE_WARC_GZIP_LEVEL", int, 6,
            "gzip level, by zlib-ng (warcio's own zlib 9 is ~3x slower for about the same "
            "size)", bounds=(1, 9)),
    Setting("NEWSARCHIVE_SHARD_MAX_RECORDS", int, 10_000, "records per text shard",
            bounds=(1, None)),
    Setting("NEWSARCHIVE_EXTRACT", bool, True,
            "false: WARC-only archiving, no text records"),
    Setting("NEWSARCHIVE_EXTRACT_WORKERS", int, 0,
            "extraction processes; 0: one per CPU core", bounds=(0, 256)),
    Setting("NEWSARCHIVE_MIN_WORDS", int, 30,
            "shorter texts are discarded as `too-short`", bounds=(0, None)),
    Setting("NEWSARCHIVE_EXTRACTOR", str, "accurate",
            "`fast`: one trafilatura pass; `accurate`: also joins an article split into "
            "same-class chunks, and extracts texts under 50 words again with trafilatura's "
            "fallbacks", choices=("fast", "accurate")),
    Setting("NEWSARCHIVE_CONTACT", str, "",
            "URL or e-mail of the operator, sent in the User-Agent (a warning at start "
            "when unset)"),
    Setting("NEWSARCHIVE_INCREMENTAL", bool, True,
            "conditional requests and revisit records for articles the archive holds"),
    Setting("NEWSARCHIVE_REQUISITES", str, "articles",
            "page requisites (stylesheets and their fonts and images, images, scripts, "
            "icons, `og:image`, posters, iframes) fetched from any host, robots.txt obeyed: "
            "for `articles`, for every HTML page (`pages`), or `off` (true/false read as "
            "articles/off)", choices=("articles", "pages", "off"),
            normalize=lambda v: {"true": "articles", "1": "articles", "on": "articles",
                                 "yes": "articles", "false": "off", "0": "off", "no": "off",
                                 "none": "off"}.get(v.strip().lower(), v)),
    Setting("NEWSARCHIVE_REQUISITES_PER_PAGE", int, 400,
            "requisite requests for one page; 0: no limit", bounds=(0, None)),
    Setting("NEWSARCHIVE_REQUISITES_PAGE_BYTES", int, 32 * 1024 * 1024,
            "bytes the requisites of one page may bring; 0: no limit", bounds=(0, None)),
    Setting("NEWSARCHIVE_REQUISITES_MAX_SIZE", int, 8 * 1024 * 1024,
            "one requisite's size in bytes (a larger one is archived truncated); 0: no limit",
            bounds=(0, None)),
    Setting("NEWSARCHIVE_REQUISITES_SHARE", float, 0.9,
            "share of the crawl's bytes requisites may take; 1: no limit", bounds=(0, 1)),
    Setting("NEWSARCHIVE_MAX_AGE_DAYS", int, 0,
            "skip articles published longer ago (0: no limit); `-a since=YYYY-MM-DD` "
            "likewise", bounds=(0, None)),
    Setting("NEWSARCHIVE_ROBOTS_RETRIES", int, 2,
            "times an unreachable (5xx, 429, no answer) robots.txt is asked again before "
            "its host counts as disallowed for the crawl", bounds=(0, 100)),
    Setting("NEWSARCHIVE_ROBOTS_RETRY_DELAY", float, 30,
            "seconds between those attempts (the host's requests wait)", bounds=(0, 3600)),
    Setting("NEWSARCHIVE_MAX_CRAWL_DELAY", float, 60,
            "the longest robots.txt `Crawl-delay` honoured, in seconds (a longer one is "
            "capped, with a warning)", bounds=(0, None)),
    Setting("NEWSARCHIVE_MAX_ERROR_RATE", float, 0.2,
            "share of failed fetches (no response or 5xx) above which the exit status is 4",
            bounds=(0, 1)),
    Setting("NEWSARCHIVE_SUMMARY_FILE", str, "",
            "where the Markdown run summary goes; empty: `<spool>/summaries/<crawl>.md`",
            allowed="a file path"),
    Setting("NEWSARCHIVE_STATUS_INTERVAL", float, 60,
            "seconds between the crawl's one-line status (pages, articles, errors, rate); "
            "0: none", bounds=(0, None)),
    Setting("NEWSARCHIVE_UPLOAD_QUEUE", int, 4,
            "closed files waiting to be stored before the WARC writer waits",
            bounds=(1, 1000)),
    Setting("NEWSARCHIVE_STOP_TIMEOUT", float, 60,
            "seconds from the first SIGTERM/Ctrl-C after which the process ends whatever "
            "it is doing (status 6; the next run recovers)", bounds=(0, None), open=True),
    # Several machines (README "Several machines"): a Redis URL switches the crawl to a
    # shared frontier (scrapy-redis); empty = one machine, Scrapy's own scheduler.
    Setting("NEWSARCHIVE_REDIS_URL", str, "",
            "`redis://[:password@]host:port/db` (or `rediss://`, `unix://`): switches the "
            "crawl to the shared frontier of several machines; checked before crawling "
            "(unreachable: exit 2)",
            check=_redis_url, url=True,
            allowed="a redis://, rediss:// or unix:// URL"),
    Setting("NEWSARCHIVE_REDIS_DUPEFILTER", str, "set",
            "`set`: scrapy-redis's exact fingerprint set (grows with the URLs); `bloom`: a "
            "Bloom filter of fixed size", choices=("set", "bloom")),
    Setting("NEWSARCHIVE_REDIS_BLOOM_CAPACITY", int, 10_000_000,
            "URLs the Bloom filter is sized for", bounds=(1, None)),
    Setting("NEWSARCHIVE_REDIS_BLOOM_ERROR_RATE", float, 0.0001,
            "share of new URLs taken for seen (so not fetched in this crawl) at capacity",
            bounds=(0, 1), open=True),
    Setting("NEWSARCHIVE_WORKER_ID", str, "",
            "this worker's name in file keys, its spool folder and Redis; unique per "
            "running worker; empty: `<host>-<pid>`",
            check=_worker_id, allowed="letters, digits, '-', '_' or '.' (at most 64)"),
    Setting("NEWSARCHIVE_WORKER_TIMEOUT", float, 30,
            "seconds without a heartbeat (sent every second) before a worker counts as "
            "gone for the end-of-crawl check", bounds=(1, None)),
    # S3-compatible storage (s3:// archives). boto3's credential chain and the standard
    # AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 / AWS_REGION variables apply; these add to them.
    Setting("NEWSARCHIVE_S3_ENDPOINT_URL", str, "",
            "S3 endpoint (else boto3's: `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, AWS)",
            check=_http_url, url=True, allowed="an http(s) URL"),
    Setting("NEWSARCHIVE_S3_REGION", str, "", "region (else boto3's: `AWS_REGION`, profile)"),
    Setting("NEWSARCHIVE_S3_ADDRESSING_STYLE", str, "auto",
            "`path` for MinIO and most self-hosted servers", choices=ADDRESSING_STYLES),
    # Checked by newsarchive.storage.s3.S3Options, which names the value first.
    Setting("NEWSARCHIVE_S3_STORAGE_CLASS", str, "",
            "empty: the bucket's default",
            allowed=f"an S3 storage class ({', '.join(STORAGE_CLASSES)})"),
    Setting("NEWSARCHIVE_S3_MULTIPART_THRESHOLD", int, 64 * MiB,
            "files from this size (bytes) are uploaded in parts", bounds=(1, None)),
    Setting("NEWSARCHIVE_S3_MULTIPART_CHUNKSIZE", int, 16 * MiB,
            "part size (bytes)", bounds=(MIN_PART_SIZE, None)),
    Setting("NEWSARCHIVE_S3_MAX_ATTEMPTS", int, 5,
            "attempts per request, exponential backoff (botocore \"standard\" mode)",
            bounds=(1, 20)),
)
SCHEMA: dict[str, Setting] = {s.name: s for s in SETTINGS}


def _scrapy(name: str, kind: type, minimum: float | None = None, open: bool = False) -> Setting:
    return Setting(name, kind, None, "Scrapy's own", bounds=(minimum, None), open=open)


# Scrapy settings a crawl depends on, with the smallest value that makes sense; a wrong
# one would otherwise surface as a traceback mid-start-up, or never. Checked only when
# set (None: Scrapy's default), not part of the reference table.
SCRAPY_CHECKS: tuple[Setting, ...] = (
    _scrapy("DOWNLOAD_TIMEOUT", float, 0, open=True),
    _scrapy("DOWNLOAD_DELAY", float, 0),
    _scrapy("DOWNLOAD_MAXSIZE", int, 0),
    _scrapy("DOWNLOAD_WARNSIZE", int, 0),
    _scrapy("DEPTH_LIMIT", int, 0),
    _scrapy("RETRY_TIMES", int, 0),
    _scrapy("REDIRECT_MAX_TIMES", int, 0),
    _scrapy("CONCURRENT_REQUESTS", int, 1),
    _scrapy("CONCURRENT_REQUESTS_PER_DOMAIN", int, 1),
    _scrapy("AUTOTHROTTLE_START_DELAY", float, 0),
    _scrapy("AUTOTHROTTLE_MAX_DELAY", float, 0),
    _scrapy("AUTOTHROTTLE_TARGET_CONCURRENCY", float, 0, open=True),
    _scrapy("CLOSESPIDER_TIMEOUT", float, 0),
    _scrapy("CLOSESPIDER_ITEMCOUNT", int, 0),
    _scrapy("CLOSESPIDER_PAGECOUNT", int, 0),
    _scrapy("CLOSESPIDER_ERRORCOUNT", int, 0),
    *(_scrapy(name, bool) for name in (
        "ROBOTSTXT_OBEY", "AUTOTHROTTLE_ENABLED", "COOKIES_ENABLED", "RETRY_ENABLED",
        "REDIRECT_ENABLED", "DOWNLOAD_FAIL_ON_DATALOSS",
    )),
)


def defaults() -> dict[str, Any]:
    """Every ``NEWSARCHIVE_*`` setting with its default (what ``newsarchive.settings`` holds)."""
    return {s.name: s.default for s in SETTINGS}


def default(name: str) -> Any:
    """One setting's default, for code that is given values directly (not settings)."""
    return SCHEMA[name].default


def read(settings: Any, name: str) -> Any:
    """One setting's checked, typed value (its default when unset); ConfigError if bad."""
    return SCHEMA[name].read(settings)


def validate(settings: Any) -> dict[str, Any]:
    """Check everything at start-up, in the reference's order: unknown ``NEWSARCHIVE_*``
    names (a typo would be ignored), the Scrapy settings a crawl relies on, then every
    newsarchive setting. Returns the typed values by name; raises ConfigError naming
    the first bad one."""
    check_names(settings)
    for check in SCRAPY_CHECKS:
        if settings.get(check.name) is not None:
            check.read(settings)
    return {s.name: s.read(settings) for s in SETTINGS}


def check_names(settings: Iterable[str]) -> None:
    """Refuse NEWSARCHIVE_* names newsarchive does not know: a typo would be ignored."""
    for name in sorted(settings):
        if name.startswith("NEWSARCHIVE_") and name not in SCHEMA:
            close = difflib.get_close_matches(name, SCHEMA, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(f"unknown setting {name}{hint}")


def _shown_default(setting: Setting) -> str:
    value = setting.default
    if value == "":
        return "(empty)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    shown = _num(value) if isinstance(value, int | float) else str(value)
    number, _, size = shown.partition(" ")
    return f"`{number}` {size}".rstrip()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def reference_markdown() -> str:
    """The settings reference as a Markdown table: setting, type, default, allowed
    values and meaning, one row per entry of :data:`SETTINGS`, in its order.

    This is the function the documentation site calls to render its settings
    reference page (``docs/``), so the table can never drift from what the code
    accepts; the README's table says the same in its own words.
    """
    lines = [
        "| setting | type | default | allowed | meaning |",
        "|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        kind = "choice" if s.choices else _TYPE_NAMES[s.type]
        cells = (f"`{s.name}`", kind, _shown_default(s), s.describe(), s.meaning)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
