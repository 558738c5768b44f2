"""The archive in any S3-compatible bucket (AWS S3, MinIO, Ceph RGW, R2, B2, Wasabi).

boto3 does the work: the standard credential chain and the standard
``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3`` variables apply untouched; settings can
add an endpoint, region, addressing style and storage class. Uploads go through
boto3's managed transfer (multipart past a threshold, retries with backoff) with a
SHA-256 checksum the server verifies. No object is ever replaced with different bytes:
single-part writes are conditional (``If-None-Match: *``); multipart writes are
checked first, since the managed transfer cannot send the condition.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from newsarchive.errors import ConfigError, EndpointError, StorageError
from newsarchive.storage import check_key

logger = logging.getLogger(__name__)

ADDRESSING_STYLES = ("auto", "path", "virtual")
STORAGE_CLASSES = (
    "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
    "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "EXPRESS_ONEZONE",
)
MIN_PART_SIZE = 5 * 1024 * 1024  # S3's smallest multipart part


@dataclass(frozen=True)
class S3Options:
    """Per-archive S3 settings; everything else comes from boto3's own configuration."""

    endpoint_url: str | None = None
    region: str | None = None
    addressing_style: str = "auto"
    storage_class: str | None = None
    multipart_threshold: int = 64 * 1024 * 1024
    multipart_chunksize: int = 16 * 1024 * 1024
    max_attempts: int = 5
    connect_timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.addressing_style not in ADDRESSING_STYLES:
            raise ConfigError(
                f"NEWSARCHIVE_S3_ADDRESSING_STYLE must be one of {', '.join(ADDRESSING_STYLES)}, "
                f"got {self.addressing_style!r}"
            )
        if self.storage_class is not None and self.storage_class not in STORAGE_CLASSES:
            shown = self.storage_class[:60] + ("…" if len(self.storage_class) > 60 else "")
            raise ConfigError(f"NEWSARCHIVE_S3_STORAGE_CLASS {shown!r} is not an S3 storage class")
        if self.multipart_chunksize < MIN_PART_SIZE:
            raise ConfigError("NEWSARCHIVE_S3_MULTIPART_CHUNKSIZE must be at least 5 MiB")
        if self.endpoint_url:
            parts = urlsplit(self.endpoint_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                shown = public_url(self.endpoint_url)
                raise ConfigError(
                    f"NEWSARCHIVE_S3_ENDPOINT_URL must be an http(s) URL, got {shown!r}"
                )


def public_url(url: str) -> str:
    """The URL without any user:password part, for messages."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return parts._replace(netloc=netloc).geturl()
    return url


_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s\"'<>]*@")


def redact(text: str) -> str:
    """``text`` with the user:password part of every URL in it removed.

    botocore quotes the endpoint URL in some errors; a user may have put credentials in it.
    """
    return _USERINFO.sub(r"\1", text)


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class S3Store:
    def __init__(self, bucket: str, prefix: str, options: S3Options | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.options = options or S3Options()
        self.uri = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self._client: Any = None

    @classmethod
    def from_uri(cls, uri: str, options: S3Options | None = None) -> S3Store:
        parts = urlsplit(uri)
        if not parts.netloc:
            raise ConfigError(f"archive {uri!r}: an s3:// URI needs a bucket: s3://bucket/prefix")
        return cls(parts.netloc, parts.path, options)

    # -- boto3 -----------------------------------------------------------------------
    def _make_client(self, max_attempts: int) -> Any:
        import boto3
        from botocore.config import Config as BotoConfig

        opts = self.options
        config = BotoConfig(
            region_name=opts.region,
            connect_timeout=opts.connect_timeout,
            read_timeout=60,
            retries={"mode": "standard", "max_attempts": max_attempts},
            s3={"addressing_style": opts.addressing_style},
            request_checksum_calculation="when_supported",
        )
        return boto3.session.Session().client(
            "s3", endpoint_url=opts.endpoint_url or None, config=config
        )

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._make_client(self.options.max_attempts)
        return self._client

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _where(self) -> str:
        endpoint = self.options.endpoint_url or getattr(self.client.meta, "endpoint_url", "")
        return f"{self.uri} (endpoint {public_url(str(endpoint))})"

    def _explain(self, error: Exception, action: str) -> StorageError:
        """Turn a boto error into one line naming the problem, without secrets."""
        from botocore.exceptions import (
            ClientError,
            ConnectionClosedError,
            ConnectTimeoutError,
            EndpointConnectionError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        where = self._where()
        if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
            return EndpointError(
                f"{action} {where}: no AWS credentials found (set AWS_ACCESS_KEY_ID/"
                "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or use an instance role)"
            )
        if isinstance(error, (EndpointConnectionError, ConnectTimeoutError)):
            return EndpointError(f"{action} {where}: cannot connect to the endpoint")
        if isinstance(error, ConnectionClosedError):
            return EndpointError(f"{action} {where}: the endpoint closed the connection")
        if isinstance(error, ClientError):
            code = _error_code(error)
            if code in ("NoSuchBucket", "404", "NotFound"):
                return EndpointError(f"{action} {where}: bucket {self.bucket!r} does not exist")
            if code in (
                "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId",
                "InvalidToken", "ExpiredToken", "AuthorizationHeaderMalformed",
            ):
                return EndpointError(f"{action} {where}: credentials rejected ({code})")
            if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled"):
                return EndpointError(f"{action} {where}: access denied (check credentials "
                                     "and the bucket policy)")
            return StorageError(f"{action} {where}: {code or 'error'}")
        return StorageError(f"{action} {where}: {type(error).__name__}: {redact(str(error))}")

    # -- Store -----------------------------------------------------------------------
    def check_writable(self) -> None:
        """Bucket exists, credentials work, and a write succeeds; one line if not."""
        import uuid

        from botocore.exceptions import BotoCoreError, ClientError

        probe = self._key(f"crawls/.write-check-{uuid.uuid4().hex}")
        client = self._make_client(min(2, self.options.max_attempts))  # answer fast
        try:
            client.head_bucket(Bucket=self.bucket)
            client.put_object(Bucket=self.bucket, Key=probe, Body=b"")
            client.delete_object(Bucket=self.bucket, Key=probe)
        except (BotoCoreError, ClientError) as e:
            raise self._explain(e, "cannot write to") from None

    def _head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as e:
            if _error_code(e) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def _same(self, key: str, sha256: str, head: dict[str, Any]) -> bool:
        stored = head.get("Metadata", {}).get("sha256")
        if stored is not None:
            return stored == sha256
        import hashlib

        digest = hashlib.sha256()
        with self.open(key) as body:
            for block in iter(lambda: body.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest() == sha256

    def _extra(self, sha256: str) -> dict[str, Any]:
        extra: dict[str, Any] = {"Metadata": {"sha256": sha256}, "ChecksumAlgorithm": "SHA256"}
        if self.options.storage_class:
            extra["StorageClass"] = self.options.storage_class
        return extra

    def put_file(self, local: Path, key: str, sha256: str) -> None:
        from boto3.s3.transfer import TransferConfig
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            head = self._head(key)
            if head is not None:
                if self._same(key, sha256, head):
                    local.unlink(missing_ok=True)
                    return
                raise StorageError(f"{self.uri}/{key} already exists with different bytes")
            size = local.stat().st_size
            if size < self.options.multipart_threshold:
                try:
                    with open(local, "rb") as body:
                        self.client.put_object(
                            Bucket=self.bucket, Key=self._key(key), Body=body,
                            IfNoneMatch="*", **self._extra(sha256),
                        )
                except ClientError as e:
                    if _error_code(e) not in ("PreconditionFailed", "412"):
                        raise
                    head = self._head(key)
                    if head is None or not self._same(key, sha256, head):
                        raise StorageError(
                            f"{self.uri}/{key} was written by someone else with different bytes"
                        ) from None
            else:
                config = TransferConfig(
                    multipart_threshold=self.options.multipart_threshold,
                    multipart_chunksize=self.options.multipart_chunksize,
                    max_concurrency=4,
                )
                self.client.upload_file(
                    str(local), self.bucket, self._key(key),
                    ExtraArgs=self._extra(sha256), Config=config,
                )
        except (BotoCoreError, ClientError) as e:
            raise self._explain(e, f"cannot store {key} in") from None
        except Exception as e:  # s3transfer wraps failures in its own exceptions
            if isinstance(e, StorageError):
                raise
            raise self._explain(e, f"cannot store {key} in") from None
        local.unlink()

    def put_bytes(self, key: str, data: bytes) -> None:
        import hashlib
        import tempfile

        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(data)
        self.put_file(Path(f.name), key, hashlib.sha256(data).hexdigest())
        Path(f.name).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self._head(key) is not None
        except (BotoCoreError, ClientError) as e:
            raise self._explain(e, f"cannot read {key} from") from None

    def _get(self, key: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key), **kwargs)
        except (BotoCoreError, ClientError) as e:
            if _error_code(e) in ("NoSuchKey", "404"):
                raise StorageError(f"{self.uri}/{key} does not exist") from None
            raise self._explain(e, f"cannot read {key} from") from None

    def read_bytes(self, key: str) -> bytes:
        return self._get(key)["Body"].read()

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        return self._get(key, Range=f"bytes={offset}-{offset + length - 1}")["Body"].read()

    def open(self, key: str) -> BinaryIO:
        return self._get(key)["Body"]

    def list(self, prefix: str = "") -> Iterator[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        base = f"{self.prefix}/" if self.prefix else ""
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=base + prefix
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    key = obj["Key"][len(base):]
                    if not any(part.startswith(".") for part in key.split("/")):
                        yield key
        except (BotoCoreError, ClientError) as e:
            raise self._explain(e, "cannot list") from None
