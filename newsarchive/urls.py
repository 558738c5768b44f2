"""URL hygiene: tracking parameters out, one key per article however it was reached.

Feeds and social shares decorate article links with campaign parameters (utm_*,
fbclid, gclid…); left in, one article becomes many URLs and is archived many times.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

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
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _TRACKING.match(k)]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True), fragment=""))


def article_key(url: str) -> str:
    """One key per article: tracking stripped, then canonical form (sorted query,
    lowercased scheme and host, default port dropped)."""
    parts = urlsplit(canonicalize_url(strip_tracking(url)))
    default = {"http": 80, "https": 443}.get(parts.scheme)
    if parts.port is not None and parts.port == default:
        parts = parts._replace(netloc=parts.hostname or "")
    return urlunsplit(parts)
