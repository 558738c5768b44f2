"""One validated view of every ``NEWSARCHIVE_*`` setting, read once at start-up.

Components take a :class:`Config` rather than reading settings themselves, so a
wrong value is reported once, by name, before the first request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from newsarchive.errors import ConfigError
from newsarchive.settings_schema import default, validate
from newsarchive.storage.s3 import S3Options


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
    noarchive: str = default("NEWSARCHIVE_NOARCHIVE")
    # fetch each host's /.well-known/tdmrep.json (W3C TDMRep)
    tdmrep: bool = default("NEWSARCHIVE_TDMREP")
    # page requisites: articles, pages (every HTML page) or off, and their limits
    # (newsarchive.discovery.requisites.Limits); 0 (share: 1) = none
    requisites: str = default("NEWSARCHIVE_REQUISITES")
    requisites_per_page: int = default("NEWSARCHIVE_REQUISITES_PER_PAGE")
    requisites_page_bytes: int = default("NEWSARCHIVE_REQUISITES_PAGE_BYTES")
    requisites_max_size: int = default("NEWSARCHIVE_REQUISITES_MAX_SIZE")
    requisites_share: float = default("NEWSARCHIVE_REQUISITES_SHARE")

    @classmethod
    def from_settings(cls, settings: Any) -> Config:
        """Read and check the settings (newsarchive.settings_schema, then what needs
        the filesystem); raise ConfigError naming the bad one."""
        values = validate(settings)

        def value(name: str) -> Any:
            return values[f"NEWSARCHIVE_{name}"]

        sites_file = value("SITES")
        # os.path.isfile: a name too long or with a NUL is "no such file", not a traceback
        if sites_file and not os.path.isfile(sites_file):
            shown = sites_file if sites_file.isprintable() else repr(sites_file)
            raise ConfigError(f"NEWSARCHIVE_SITES: no such registry file: {shown[:200]}")
        return cls(
            archive=value("ARCHIVE"),
            crawl_id=value("CRAWL_ID"),
            sites_file=sites_file,
            spool=value("SPOOL"),
            operator=value("OPERATOR"),
            warc_prefix=value("WARC_PREFIX"),
            warc_version=value("WARC_VERSION"),
            warc_max_size=value("WARC_MAX_SIZE"),
            warc_gzip_level=value("WARC_GZIP_LEVEL"),
            shard_max_records=value("SHARD_MAX_RECORDS"),
            extract=value("EXTRACT"),
            extract_workers=value("EXTRACT_WORKERS") or os.cpu_count() or 1,
            min_words=value("MIN_WORDS"),
            upload_queue=value("UPLOAD_QUEUE"),
            contact=value("CONTACT"),
            incremental=value("INCREMENTAL"),
            max_age_days=value("MAX_AGE_DAYS"),
            max_error_rate=value("MAX_ERROR_RATE"),
            summary_file=value("SUMMARY_FILE"),
            worker_id=value("WORKER_ID"),
            extractor=value("EXTRACTOR"),
            noarchive=value("NOARCHIVE"),
            tdmrep=value("TDMREP"),
            requisites=value("REQUISITES"),
            requisites_per_page=value("REQUISITES_PER_PAGE"),
            requisites_page_bytes=value("REQUISITES_PAGE_BYTES"),
            requisites_max_size=value("REQUISITES_MAX_SIZE"),
            requisites_share=value("REQUISITES_SHARE"),
            s3=S3Options(
                endpoint_url=value("S3_ENDPOINT_URL") or None,
                region=value("S3_REGION") or None,
                addressing_style=value("S3_ADDRESSING_STYLE"),
                storage_class=value("S3_STORAGE_CLASS") or None,
                multipart_threshold=value("S3_MULTIPART_THRESHOLD"),
                multipart_chunksize=value("S3_MULTIPART_CHUNKSIZE"),
                max_attempts=value("S3_MAX_ATTEMPTS"),
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
            "requisites": self.requisites,
            "requisites_per_page": self.requisites_per_page,
            "requisites_page_bytes": self.requisites_page_bytes,
            "requisites_max_size": self.requisites_max_size,
            "requisites_share": self.requisites_share,
        }
