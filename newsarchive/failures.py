"""Why a request gave nothing to parse, as a short reason counted in the crawl stats.

Scrapy counts download exceptions per attempt (``downloader/exception_type_count``)
but not what finally became of a URL, and not at all the responses its own
middlewares throw away (a redirect loop, a gzip bomb). The spider's errback counts
each lost URL once under ``newsarchive/failed/<reason>``; the manifest keeps them.
"""

from __future__ import annotations

import re

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
    "ConnectionLost": "connection-lost",
    "ConnectionDone": "connection-lost",
    "ResponseFailed": "connection-lost",
    "DownloadFailedError": "connection-lost",
    "StorageError": "storage",
}
# IgnoreRequest carries only a message; Scrapy's own wording, matched loosely.
_IGNORED = (
    ("max redirections", "too-many-redirects"),
    ("robots.txt", "robots-forbidden"),
    ("decompression", "too-large-decoded"),
)


def failure_reason(error: BaseException) -> str:
    """A stable, lowercase reason for a failed request (e.g. ``timeout``)."""
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
