"""One validated view of every ``NEWSARCHIVE_*`` setting, read once at start-up.

Components take a :class:`Config` rather than reading settings themselves, so a
wrong value is reported once, by name, before the first request.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsarchive.archive import layout
from newsarchive.errors import ConfigError
from newsarchive.storage.s3 import S3Options

WARC_VERSIONS = ("1.0", "1.1")
NOARCHIVE_MODES = ("withhold", "keep")
#: NEWSARCHIVE_EXTRACTOR values (newsarchive.extract.extractor.MODES; not imported, so
#: reading the settings does not load trafilatura)
EXTRACTOR_MODES = ("fast", "accurate")
# Scrapy settings a crawl depends on, with the smallest value that makes sense; a
# wrong one would otherwise surface as a traceback mid-start-up, or never.
_SCRAPY_NUMBERS: dict[str, tuple[type, float]] = {
    "DOWNLOAD_TIMEOUT": (float, 0.001),
    "DOWNLOAD_DELAY": (float, 0),
    "DOWNLOAD_MAXSIZE": (int, 0),
    "DOWNLOAD_WARNSIZE": (int, 0),
    "DEPTH_LIMIT": (int, 0),
    "RETRY_TIMES": (int, 0),
    "REDIRECT_MAX_TIMES": (int, 0),
    "CONCURRENT_REQUESTS": (int, 1),
    "CONCURRENT_REQUESTS_PER_DOMAIN": (int, 1),
    "AUTOTHROTTLE_START_DELAY": (float, 0),
    "AUTOTHROTTLE_MAX_DELAY": (float, 0),
    "AUTOTHROTTLE_TARGET_CONCURRENCY": (float, 0.001),
    "CLOSESPIDER_TIMEOUT": (float, 0),
    "CLOSESPIDER_ITEMCOUNT": (int, 0),
    "CLOSESPIDER_PAGECOUNT": (int, 0),
    "CLOSESPIDER_ERRORCOUNT": (int, 0),
}
_SCRAPY_FLAGS = (
    "ROBOTSTXT_OBEY", "AUTOTHROTTLE_ENABLED", "COOKIES_ENABLED", "RETRY_ENABLED",
    "REDIRECT_ENABLED", "DOWNLOAD_FAIL_ON_DATALOSS",
)


def check_scrapy_settings(settings: Any) -> None:
    """Refuse Scrapy setting values that cannot work (ConfigError naming the setting)."""
    for name, (kind, minimum) in _SCRAPY_NUMBERS.items():
        raw = settings.get(name)
        if raw is None:
            continue
        try:
            value = kind(raw)
        except (TypeError, ValueError):
            what = "a whole number" if kind is int else "a number"
            raise ConfigError(f"{name} must be {what}, got {raw!r}") from None
        if value < minimum:
            bound = "above 0" if 0 < minimum < 1 else f"at least {minimum:g}"
            raise ConfigError(f"{name} must be {bound}, got {raw!r}")
    for name in _SCRAPY_FLAGS:
        try:
            settings.getbool(name)
        except ValueError:
            raise ConfigError(f"{name} must be true or false, got {settings.get(name)!r}") from None


def check_setting_names(settings: Any) -> None:
    """Refuse NEWSARCHIVE_* names newsarchive does not know: a typo would be ignored."""
    from newsarchive.defaults import defaults

    known = set(defaults())
    for name in sorted(settings):
        if name.startswith("NEWSARCHIVE_") and name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(f"unknown setting {name}{hint}")


@dataclass(frozen=True)
class Config:
    archive: str
    crawl_id: str
    sites_file: str
    spool: str
    operator: str
    warc_prefix: str
    warc_version: str
    warc_max_size: int
    warc_gzip_level: int
    shard_max_records: int
    extract: bool
    extract_workers: int
    min_words: int
    extractor: str
    upload_queue: int
    s3: S3Options
    contact: str
    incremental: bool
    max_age_days: int
    max_error_rate: float
    summary_file: str
    # several machines: names this process in file keys (newsarchive.cluster.workers sets it)
    worker_id: str = ""
    # a page marked noarchive: "withhold" keeps its response out of the WARC, "keep" archives
    # it with the signal recorded (newsarchive.rights.signals)
    noarchive: str = "withhold"
    tdmrep: bool = True  # fetch each host's /.well-known/tdmrep.json (W3C TDMRep)

    @classmethod
    def from_settings(cls, settings: Any) -> Config:
        """Read and check the settings; raise ConfigError naming the bad one."""
        check_setting_names(settings)
        check_scrapy_settings(settings)

        def integer(name: str, minimum: int, maximum: int | None = None) -> int:
            raw = settings.get(name)
            try:
                value = int(raw)
            except (TypeError, ValueError):
                raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
            if value < minimum or (maximum is not None and value > maximum):
                upper = f" and at most {maximum}" if maximum is not None else ""
                raise ConfigError(f"{name} must be at least {minimum}{upper}, got {value}")
            return value

        def boolean(name: str) -> bool:
            try:
                return settings.getbool(name)
            except ValueError:
                raise ConfigError(
                    f"{name} must be true or false, got {settings.get(name)!r}"
                ) from None

        def fraction(name: str) -> float:
            raw = settings.get(name)
            try:
                value = float(raw)
            except (TypeError, ValueError):
                raise ConfigError(f"{name} must be a number from 0 to 1, got {raw!r}") from None
            if not 0 <= value <= 1:
                raise ConfigError(f"{name} must be a number from 0 to 1, got {value}")
            return value

        archive = str(settings.get("NEWSARCHIVE_ARCHIVE") or "").strip()
        if not archive:
            raise ConfigError("NEWSARCHIVE_ARCHIVE is empty: give a folder path or a URI")
        version = str(settings.get("NEWSARCHIVE_WARC_VERSION") or "1.1").removeprefix("WARC/")
        if version not in WARC_VERSIONS:
            raise ConfigError(f"NEWSARCHIVE_WARC_VERSION must be 1.0 or 1.1, got {version!r}")
        prefix = str(settings.get("NEWSARCHIVE_WARC_PREFIX") or "")
        if not prefix or not all(c.isalnum() or c in "-_." for c in prefix):
            raise ConfigError(
                "NEWSARCHIVE_WARC_PREFIX must be letters, digits, '-', '_' or '.', "
                f"got {prefix!r}"
            )
        workers = integer("NEWSARCHIVE_EXTRACT_WORKERS", 0, 256)
        sites_file = str(settings.get("NEWSARCHIVE_SITES") or "")
        if sites_file and not Path(sites_file).is_file():
            raise ConfigError(f"NEWSARCHIVE_SITES: no such registry file: {sites_file}")
        crawl_id = str(settings.get("NEWSARCHIVE_CRAWL_ID") or "")
        extractor = str(settings.get("NEWSARCHIVE_EXTRACTOR") or "").strip().lower()
        if extractor not in EXTRACTOR_MODES:
            raise ConfigError(
                f"NEWSARCHIVE_EXTRACTOR must be {' or '.join(EXTRACTOR_MODES)}, "
                f"got {settings.get('NEWSARCHIVE_EXTRACTOR')!r}"
            )
        def worker_id(settings: Any) -> str:
            value = str(settings.get("NEWSARCHIVE_WORKER_ID") or "")
            if value and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", value):
                raise ConfigError(
                    "NEWSARCHIVE_WORKER_ID must be letters, digits, '-', '_' or '.' "
                    f"(at most 64), got {value!r}"
                )
            return value

        noarchive = str(settings.get("NEWSARCHIVE_NOARCHIVE") or "withhold").strip().lower()
        if noarchive not in NOARCHIVE_MODES:
            raise ConfigError(
                f"NEWSARCHIVE_NOARCHIVE must be withhold or keep, got {noarchive!r}"
            )
        if crawl_id and not layout.is_crawl_id(crawl_id):
            raise ConfigError(
                "NEWSARCHIVE_CRAWL_ID must be letters, digits, '-', '_' or '.', "
                f"got {crawl_id!r}"
            )
        return cls(
            archive=archive,
            crawl_id=crawl_id,
            sites_file=sites_file,
            spool=str(settings.get("NEWSARCHIVE_SPOOL") or ""),
            operator=str(settings.get("NEWSARCHIVE_OPERATOR") or ""),
            warc_prefix=prefix,
            warc_version=version,
            warc_max_size=integer("NEWSARCHIVE_WARC_MAX_SIZE", 1024),
            warc_gzip_level=integer("NEWSARCHIVE_WARC_GZIP_LEVEL", 1, 9),
            shard_max_records=integer("NEWSARCHIVE_SHARD_MAX_RECORDS", 1),
            extract=boolean("NEWSARCHIVE_EXTRACT"),
            extract_workers=workers or os.cpu_count() or 1,
            min_words=integer("NEWSARCHIVE_MIN_WORDS", 0),
            extractor=extractor,
            upload_queue=integer("NEWSARCHIVE_UPLOAD_QUEUE", 1, 1000),
            contact=str(settings.get("NEWSARCHIVE_CONTACT") or "").strip(),
            incremental=boolean("NEWSARCHIVE_INCREMENTAL"),
            max_age_days=integer("NEWSARCHIVE_MAX_AGE_DAYS", 0),
            max_error_rate=fraction("NEWSARCHIVE_MAX_ERROR_RATE"),
            summary_file=str(settings.get("NEWSARCHIVE_SUMMARY_FILE") or ""),
            worker_id=worker_id(settings),
            noarchive=noarchive,
            tdmrep=boolean("NEWSARCHIVE_TDMREP"),
            s3=S3Options(
                endpoint_url=str(settings.get("NEWSARCHIVE_S3_ENDPOINT_URL") or "") or None,
                region=str(settings.get("NEWSARCHIVE_S3_REGION") or "") or None,
                addressing_style=str(settings.get("NEWSARCHIVE_S3_ADDRESSING_STYLE") or "auto"),
                storage_class=str(settings.get("NEWSARCHIVE_S3_STORAGE_CLASS") or "") or None,
                multipart_threshold=integer("NEWSARCHIVE_S3_MULTIPART_THRESHOLD", 1),
                multipart_chunksize=integer("NEWSARCHIVE_S3_MULTIPART_CHUNKSIZE", 1),
                max_attempts=integer("NEWSARCHIVE_S3_MAX_ATTEMPTS", 1, 20),
            ),
        )

    def summary(self) -> dict[str, Any]:
        """The settings that shape the archive, as written into each manifest."""
        return {
            "warc_prefix": self.warc_prefix,
            "warc_version": self.warc_version,
            "noarchive": self.noarchive,
            "warc_max_size": self.warc_max_size,
            "warc_gzip_level": self.warc_gzip_level,
            "shard_max_records": self.shard_max_records,
            "extract": self.extract,
            "min_words": self.min_words,
            "extractor": self.extractor,
            "incremental": self.incremental,
            "max_age_days": self.max_age_days,
            "contact": self.contact,
        }
