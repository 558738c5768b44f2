"""Why a request gave nothing to parse, as a short reason counted in the crawl stats.

Scrapy counts download exceptions per attempt (``downloader/exception_type_count``)
but not what finally became of a URL, and not at all the responses its own
middlewares throw away (a redirect loop, a gzip bomb). The spider's errback counts
each lost URL once under ``newsarchive/failed/<reason>``; the manifest keeps them.

A protocol error reaches the errback wrapped twice (Scrapy's ``DownloadFailedError``
around Twisted's ``ResponseFailed`` around the parser's own error), so the reason is
taken from the innermost cause: a server that sends two Content-Length headers is a
``bad-content-length``, not a lost connection.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Exception class names (anywhere in the MRO) and the reason they stand for.
_BY_TYPE = {
    "HttpError": "http",  # completed below with the status: http-404, http-500…
    "DownloadTimeoutError": "timeout",
    "TimeoutError": "timeout",
    "ResponseDataLossError": "dataloss",
    "DownloadCancelledError": "too-large",
    "DownloadConnectionRefusedError": "connection-refused",
    "ConnectionRefusedError": "connection-refused",
    "CannotResolveHostError": "dns",
    "DNSLookupError": "dns",
    # the server closed (or reset) the connection before sending a single byte
    "ResponseNeverReceived": "no-response",
    "_MalformedChunkedDataError": "bad-chunked-encoding",
    "ParseError": "bad-status-line",  # Twisted's only ParseError is the status line's
    # a body the server's Content-Encoding does not decode (HttpCompressionMiddleware)
    "BadGzipFile": "bad-encoding",
    "ZstdError": "bad-encoding",
    "ConnectionLost": "connection-lost",
    "ConnectionDone": "connection-lost",
    "ResponseFailed": "connection-lost",
    "DownloadFailedError": "connection-lost",
    "StorageError": "storage",
}
# Decoders whose errors are all called ``error``: told apart by their module.
_ENCODING_MODULES = {"zlib", "brotli", "_brotli", "brotlicffi"}
# ValueErrors Twisted raises while reading a response head, by message.
_BAD_HEAD = (
    ("content-length", "bad-content-length"),
    ("non-decimal digits", "bad-content-length"),  # Content-Length: abc, or -5
    ("values to unpack", "bad-header"),  # a header line without a colon
)
# IgnoreRequest carries only a message; Scrapy's own wording, matched loosely.
_IGNORED = (
    ("max redirections", "too-many-redirects"),
    ("robots.txt unreachable", "robots-unreachable"),
    ("robots.txt", "robots-forbidden"),
    ("decompression", "too-large-decoded"),
)


def _causes(
    error: BaseException, in_response: bool = False, depth: int = 0
) -> Iterator[tuple[BaseException, bool]]:
    """The error's causes, innermost first (``__cause__`` and Twisted's ``reasons``),
    each with whether it came from reading a response (a ResponseFailed's reason)."""
    if depth > 8:
        return
    reasons = getattr(error, "reasons", None)
    if isinstance(reasons, list | tuple):
        for reason in reasons:
            inner = getattr(reason, "value", reason)
            if isinstance(inner, BaseException):
                yield from _causes(inner, True, depth + 1)
    if error.__cause__ is not None:
        yield from _causes(error.__cause__, in_response, depth + 1)
    yield error, in_response


def _specific(error: BaseException, in_response: bool) -> str | None:
    """A reason that names the protocol fault itself, None for generic errors."""
    kind = type(error)
    if kind.__name__ == "error" and kind.__module__ in _ENCODING_MODULES:
        return "bad-encoding"
    if in_response and isinstance(error, ValueError):
        message = str(error).lower()
        return next((reason for needle, reason in _BAD_HEAD if needle in message),
                    "bad-response")
    for cls in kind.__mro__:
        reason = _BY_TYPE.get(cls.__name__)
        if reason in ("bad-encoding", "bad-chunked-encoding", "bad-status-line",
                      "no-response"):
            return reason
    return None


def failure_reason(error: BaseException) -> str:
    """A stable, lowercase reason for a failed request (e.g. ``timeout``)."""
    for cause, in_response in _causes(error):
        if (reason := _specific(cause, in_response)) is not None:
            return reason
    names = [cls.__name__ for cls in type(error).__mro__]
    for name in names:
        reason = _BY_TYPE.get(name)
        if reason == "http":
            status = getattr(getattr(error, "response", None), "status", None)
            return f"http-{status}" if status else "http-error"
        if reason:
            return reason
    if "IgnoreRequest" in names:
        message = str(error).lower()
        return next((reason for needle, reason in _IGNORED if needle in message), "ignored")
    return re.sub(r"(?<!^)(?=[A-Z])", "-", names[0]).lower().removesuffix("-error") or "error"
