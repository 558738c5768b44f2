"""WARC writing: request/response pairs into rolling gzip WARC files.

Each record is serialised by warcio (digests, lengths) and compressed here as its own
gzip member, at a configurable level: warcio's own gzip runs at level 9, several
times slower for the same size. Writing returns where the response record landed,
so a clean-text record can point back at the exact archived bytes.
"""

from __future__ import annotations

import io
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from newsarchive import layout

# Hop-by-hop framing the HTTP client already undid; keeping it would make the record
# claim a chunked body that is stored de-chunked, which replay tools then mangle.
_FRAMING_HEADERS = {"transfer-encoding"}


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and its response, as close to the wire as the client allows."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    protocol: str
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes
    ip_address: str | None = None


@dataclass(frozen=True)
class RecordLocation:
    """Where a response record sits: enough to read it back with one range request."""

    file: str
    offset: int
    length: int
    record_id: str
    payload_digest: str | None
    date: str

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "offset": self.offset,
            "length": self.length,
            "record_id": self.record_id,
            "payload_digest": self.payload_digest,
        }


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


@dataclass
class WarcOptions:
    crawl_id: str
    spool: Path
    prefix: str = "newsarchive"
    version: str = "1.1"
    max_size: int = 1024**3
    gzip_level: int = 6
    host: str = field(default_factory=layout.hostname)
    warcinfo: dict[str, str] = field(default_factory=dict)


class RollingWarcWriter:
    """Appends exchanges to the current WARC file, starting a new one past max_size.

    Not thread-safe: the capture middleware drives it from a single writer thread.
    ``on_close(path, key, records)`` is called for every finished file.
    """

    def __init__(
        self,
        options: WarcOptions,
        on_close: Callable[[Path, str, int], None],
        clock: Callable[[], datetime] = _utcnow,
        make_id: Callable[[], str] = _new_record_id,
    ) -> None:
        self.options = options
        self.on_close = on_close
        self.clock = clock
        self.make_id = make_id
        self._serial = 0
        self._file: io.BufferedWriter | None = None
        self._path: Path | None = None
        self._key = ""
        self._builder = WARCWriter(None, gzip=False, warc_version=options.version)
        self.records_written = 0
        self._file_records = 0

    # -- records ---------------------------------------------------------------------
    def _date(self) -> str:
        return datetime_to_iso_date(
            self.clock().astimezone(UTC).replace(tzinfo=None),
            use_micros=self.options.version == "1.1",
        )

    def _serialise(self, record) -> bytes:
        buf = io.BytesIO()
        self._builder.out = buf
        self._builder.write_record(record)
        raw = buf.getvalue()
        compressor = zlib.compressobj(self.options.gzip_level, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        return compressor.compress(raw) + compressor.flush()

    def _append(self, data: bytes) -> int:
        assert self._file is not None
        offset = self._file.tell()
        self._file.write(data)
        self.records_written += 1
        self._file_records += 1
        return offset

    def _open(self) -> None:
        self._serial += 1
        opts = self.options
        self._key = layout.warc_key(
            opts.crawl_id, opts.prefix, self.clock(), self._serial, opts.host
        )
        self._path = opts.spool.joinpath(*self._key.split("/"))
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self._path, "xb")
        self._file_records = 0
        info = dict(opts.warcinfo)
        info.setdefault("format", f"WARC File Format {opts.version}")
        info.setdefault("isPartOf", opts.crawl_id)
        warcinfo = self._builder.create_warcinfo_record(self._key.rsplit("/", 1)[-1], info)
        warcinfo.rec_headers.replace_header("WARC-Record-ID", self.make_id())
        warcinfo.rec_headers.replace_header("WARC-Date", self._date())
        self._append(self._serialise(warcinfo))

    def write_exchange(self, exchange: Exchange) -> RecordLocation:
        if self._file is not None and self._file.tell() >= self.options.max_size:
            self.close()
        if self._file is None:
            self._open()
        date = self._date()
        response_id = self.make_id()
        headers = {"WARC-Record-ID": response_id, "WARC-Date": date}
        if exchange.ip_address:
            headers["WARC-IP-Address"] = exchange.ip_address

        status_line = f"{exchange.status} {exchange.reason}".strip()
        resp_headers = [
            (k, v) for k, v in exchange.response_headers if k.lower() not in _FRAMING_HEADERS
        ]
        if len(resp_headers) != len(exchange.response_headers) or not any(
            k.lower() == "content-length" for k, _ in resp_headers
        ):
            resp_headers = [(k, v) for k, v in resp_headers if k.lower() != "content-length"]
            resp_headers.append(("Content-Length", str(len(exchange.body))))
        http_headers = StatusAndHeaders(status_line, resp_headers, protocol=exchange.protocol)
        response = self._builder.create_warc_record(
            exchange.url,
            "response",
            payload=io.BytesIO(exchange.body),
            length=len(exchange.body),
            http_headers=http_headers,
            warc_headers_dict=headers,
        )
        data = self._serialise(response)
        offset = self._append(data)
        location = RecordLocation(
            file=self._key,
            offset=offset,
            length=len(data),
            record_id=response_id,
            payload_digest=response.rec_headers.get_header("WARC-Payload-Digest"),
            date=date,
        )

        parts = urlsplit(exchange.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_line = f"{exchange.method} {path} {exchange.protocol}"
        request = self._builder.create_warc_record(
            exchange.url,
            "request",
            payload=io.BytesIO(exchange.request_body),
            length=len(exchange.request_body),
            http_headers=StatusAndHeaders(
                request_line, list(exchange.request_headers), is_http_request=True
            ),
            warc_headers_dict={
                "WARC-Record-ID": self.make_id(),
                "WARC-Date": date,
                "WARC-Concurrent-To": response_id,
            },
        )
        self._append(self._serialise(request))
        return location

    def close(self) -> None:
        """Finish the current file (if any) and hand it to on_close."""
        if self._file is None:
            return
        self._file.flush()
        self._file.close()
        path, key = self._path, self._key
        self._file = None
        assert path is not None
        self.on_close(path, key, self._file_records)
