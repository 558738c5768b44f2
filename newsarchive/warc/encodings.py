"""Undoing a body's Content-Encoding, for reading archived responses back.

The WARC keeps bodies as received, still encoded; tools that show them (``newsarchive
show --raw --decode``) decode them here. Scrapy asks for ``br`` and ``zstd`` besides
gzip and deflate, so archives hold all four; ``deflate`` is the zlib format by the RFC
but raw DEFLATE from many servers, so both are read. Stacked codings (``gzip, br``) are
undone last first. Any failure is a :class:`DecodingError` whose message names the
coding, never a decoder's own exception; output stops at ``max_size`` so a
decompression bomb in the archive cannot take the reader's memory.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

from newsarchive.errors import NewsarchiveError

MAX_SIZE = 256 * 1024 * 1024


class DecodingError(NewsarchiveError, ValueError):
    """A body that its Content-Encoding does not decode (or decodes past the limit)."""


def codings(content_encoding: str | None) -> list[str]:
    """The codings of a Content-Encoding value, in the order they were applied."""
    found = [c.strip().lower() for c in (content_encoding or "").split(",")]
    return [c for c in found if c and c != "identity"]


def decode_body(body: bytes, content_encoding: str | None, max_size: int = MAX_SIZE) -> bytes:
    """The body with every coding of ``content_encoding`` undone (DecodingError if not).

    An empty body stays empty (a redirect or a 304 may carry the header with no body).
    """
    if not body:
        return body
    for coding in reversed(codings(content_encoding)):
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise DecodingError(f"unknown Content-Encoding {coding!r}")
        try:
            body = decoder(body, max_size)
        except DecodingError:
            raise
        except Exception as e:  # each library has its own error type; all mean the same
            raise DecodingError(f"the body is not valid {coding} ({e})") from None
        if len(body) > max_size:
            raise DecodingError(f"{coding}: decoded body larger than {max_size} bytes")
    return body


def head(body: bytes, content_encoding: str | None, size: int) -> bytes:
    """The first ``size`` bytes of the decoded body, as far as they decode (b"" if the
    body does not decode at all): enough to read a page's <head> without decoding it all.
    """
    try:
        for coding in reversed(codings(content_encoding)):
            body = _DECODERS[coding](body, size)
    except Exception:  # noqa: BLE001 - an undecodable body has no head to read
        return b""
    return body[:size]


def _frames(
    data: bytes, new_decoder: Callable[[], Any], max_size: int, what: str, chained: bool
) -> bytes:
    """Decode one stream (or, ``chained``, the members or frames that follow each other),
    stopping past ``max_size`` bytes of output."""
    out = []
    size = 0
    while data:
        decoder = new_decoder()
        chunk = decoder.decompress(data, max_size + 1 - size)
        out.append(chunk)
        size += len(chunk)
        if size > max_size:
            break
        if not decoder.eof:
            raise DecodingError(f"the body ends before its {what} does")
        data = decoder.unused_data if chained else b""
    return b"".join(out)


def _zlib(data: bytes, wbits: int, max_size: int) -> bytes:
    # gzip (wbits & 16): members may follow each other
    return _frames(data, lambda: zlib.decompressobj(wbits), max_size, "compressed stream",
                   chained=bool(wbits & 16))


def _gzip(data: bytes, max_size: int) -> bytes:
    return _zlib(data, zlib.MAX_WBITS | 16, max_size)


def _deflate(data: bytes, max_size: int) -> bytes:
    try:
        return _zlib(data, zlib.MAX_WBITS, max_size)  # zlib format, per RFC 9110
    except (zlib.error, DecodingError):
        return _zlib(data, -zlib.MAX_WBITS, max_size)  # raw DEFLATE, as many servers send


def _brotli(data: bytes, max_size: int) -> bytes:
    import brotli

    decoder = brotli.Decompressor()
    out = decoder.process(data, output_buffer_limit=max_size + 1)
    if len(out) <= max_size and not decoder.is_finished():
        raise DecodingError("the body ends before its brotli stream does")
    return out


def _zstd(data: bytes, max_size: int) -> bytes:
    try:
        from compression import zstd  # Python 3.14+
    except ImportError:
        from backports import zstd
    return _frames(data, zstd.ZstdDecompressor, max_size, "zstd frame", chained=True)


_DECODERS = {
    "gzip": _gzip,
    "x-gzip": _gzip,
    "deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}
