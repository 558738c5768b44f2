"""URL hygiene: every URL a site supplies checked one by one, tracking parameters out,
one key per article however it was reached.

Every URL a site sends (links, canonical, feeds, sitemaps, robots.txt ``Sitemap:``
lines, meta refresh, ``Location``) goes through :func:`resolve`: one malformed URL must
cost only itself, never the rest of its document, and is counted by reason.
Feeds and social shares decorate article links with campaign parameters (utm_*,
fbclid, gclid…); left in, one article becomes many URLs and is archived many times.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, safe_url_string

# Longer URLs are traps or garbage (browsers and CDNs cap them at 2-8 KB).
MAX_URL_LENGTH = 4096
# Links a page carries for people, not for crawlers: not fetched, not counted.
_NOT_FOR_CRAWLING = ("mailto:", "javascript:", "tel:", "data:", "sms:", "#")
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


@dataclass(frozen=True)
class Rejected:
    """Why a URL a site supplied was not followed: ``bad-url`` (malformed: bad host,
    port, IPv6 literal, control characters, over MAX_URL_LENGTH) or ``not-http``."""

    reason: str
    detail: str = ""


def resolve(base: str, href: str) -> str | Rejected | None:
    """``href`` resolved against ``base``, escaped, without fragment, and valid for a
    request; Rejected when it cannot be fetched; None for links not meant for crawling
    (mailto:, javascript:, tel:, data:, fragments). Never raises."""
    try:
        href = href.strip()
        if not href or href.lower().startswith(_NOT_FOR_CRAWLING):
            return None
        if len(href) > MAX_URL_LENGTH:
            return Rejected("bad-url", "too long")
        scheme = _SCHEME.match(href)
        if scheme and scheme.group(1).lower() not in ("http", "https"):
            return Rejected("not-http", scheme.group(1).lower())
        # Browsers read a backslash as a slash in http(s) URLs (WHATWG URL), and so
        # do the sites that write them.
        href = href.replace("\\", "/")
        url = safe_url_string(urljoin(base, href)).split("#", 1)[0]
    except ValueError as e:  # UnicodeError included: lone surrogates, bad IDNA
        return Rejected("bad-url", str(e)[:100])
    return check(url)


def check(url: str) -> str | Rejected:
    """``url`` if a request can be made of it (absolute, http(s), a real host and port,
    ASCII without controls), else why not. Never raises.

    Credentials a site wrote into a URL (``http://user:pass@host/``) are dropped: the
    crawler never sends them, and they would reach logs, the WARC and robots.txt keys.
    """
    try:
        url = _without_userinfo(url)
        if len(url) > MAX_URL_LENGTH:
            return Rejected("bad-url", "too long")
        if not url.isascii() or _UNSAFE.search(url):
            return Rejected("bad-url", "control or non-ASCII characters")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return Rejected("not-http" if parts.scheme else "bad-url", parts.scheme)
        port = parts.port  # ValueError when out of range or not a number
        if port == 0:
            return Rejected("bad-url", "port 0")
        host = parts.hostname or ""
        if not _valid_host(host, parts.netloc):
            return Rejected("bad-url", f"host {host!r}")
    except ValueError as e:
        return Rejected("bad-url", str(e)[:100])
    return url


def _without_userinfo(url: str) -> str:
    if "@" not in url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _valid_host(host: str, netloc: str) -> bool:
    if not host:
        return False
    if "[" in netloc:
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return False
        return True
    labels = host.removesuffix(".").split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        return False
    try:  # an xn-- label that is not valid punycode would fail at DNS lookup
        for label in labels:
            if label.startswith("xn--"):
                label.encode("ascii").decode("idna")
    except UnicodeError:
        return False
    return True

_TRACKING = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|yclid|mc_cid|mc_eid|"
    r"igshid|_ga|_gl|_hsenc|_hsmi|mkt_tok|oly_anon_id|oly_enc_id|rb_clickid|s_cid|"
    r"ref_src|ref_url|cmpid|at_medium|at_campaign|at_custom\d|xtor|ocid|ncid|sr_share|"
    r"smid|taid|vero_id|wt_mc|wt_zmc)$",
    re.IGNORECASE,
)


def strip_tracking(url: str) -> str:
    """The URL without tracking parameters or fragment; everything else as it was."""
    if "?" not in url and "#" not in url and url.startswith(("http://", "https://")):
        return url  # nothing to strip (most links): skip parsing it
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL (a bad IPv6 literal): nothing to strip
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _TRACKING.match(k)]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True), fragment=""))


def article_key(url: str) -> str:
    """One key per article: tracking stripped, then canonical form (sorted query,
    lowercased scheme and host, default port dropped). A string that is no valid URL
    is its own key."""
    try:
        parts = urlsplit(canonicalize_url(strip_tracking(url)))
        default = {"http": 80, "https": 443}.get(parts.scheme)
        if parts.port is not None and parts.port == default:
            parts = parts._replace(netloc=parts.hostname or "")
        return urlunsplit(parts)
    except ValueError:
        return url
