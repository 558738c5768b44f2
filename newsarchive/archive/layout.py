"""Archive layout: the keys every file of a crawl is stored under.

The same keys are used in a folder and in a bucket, so readers never care which.
"""

from __future__ import annotations

import re
import secrets
import socket
from datetime import UTC, datetime

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


CRAWL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def is_crawl_id(name: str) -> bool:
    """Whether a name can be a crawl id: spool entries named otherwise are not a crawl's."""
    return CRAWL_ID.fullmatch(name) is not None


def new_crawl_id(now: datetime | None = None) -> str:
    """A sortable, unique crawl id: UTC start time plus a random suffix."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def safe_name(value: str, fallback: str = "unknown", limit: int = 80) -> str:
    """A name safe in keys and file names, whatever a URL or site entry contained."""
    cleaned = _UNSAFE.sub("-", value).strip("-.")[:limit].strip("-.")
    return cleaned or fallback


def hostname() -> str:
    return safe_name(socket.gethostname().split(".")[0], fallback="host", limit=40)


def warc_key(crawl_id: str, prefix: str, started: datetime, serial: int, host: str) -> str:
    return f"warc/{crawl_id}/{prefix}-{started:%Y%m%d%H%M%S}-{serial:05d}-{host}.warc.gz"


def text_key(site: str, date: str, crawl_id: str, serial: int, worker: str = "") -> str:
    """A shard's key; ``worker`` (several machines) keeps workers' shards apart."""
    name = f"{crawl_id}-{worker}" if worker else crawl_id
    return f"text/site={safe_name(site)}/date={date}/{name}-{serial:05d}.jsonl.gz"


def manifest_key(crawl_id: str) -> str:
    return f"crawls/{crawl_id}.json"
