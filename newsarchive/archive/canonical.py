"""One canonical URL, several pages: merged only when their texts are the same.

A canonical link says "this page is a copy of that one" (AMP pages, print views,
tracking variants), so copies are archived once in text. But sites get it wrong: a
template that gives every article the home page's canonical, or one story's URL, would
merge different articles into one record. So the claim is on (canonical, text): a
second capture with the same text under the same canonical is a copy (``merged``); one
with a different text is another article and is kept (``conflict``, counted).
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from newsarchive.discovery.urls import article_key

Verdict = Literal["first", "merged", "conflict"]


class Claims(Protocol):
    def claim(self, keys: set[str]) -> bool: ...


def text_keys(url: str, canonical: str | None, content_hash: str) -> set[str]:
    """The claims a text record under another page's canonical URL stands for."""
    key = article_key(canonical or url)
    return {f"{key}#{content_hash}", f"{key}#"}


def record_keys(record: dict[str, Any]) -> set[str]:
    """text_keys of a text record (for recovery: the claims its survival keeps)."""
    return text_keys(record["url"], record.get("canonical_url"), record["content_hash"])


def judge(claims: Claims, url: str, canonical: str | None, content_hash: str) -> Verdict:
    """Claims (canonical, text) and says what this capture is: the ``first`` text
    under its canonical (the page's own URL when it names none), a copy of one already
    archived (``merged``), or another text under the same canonical (``conflict``)."""
    key = article_key(canonical or url)
    if not claims.claim({f"{key}#{content_hash}"}):
        return "merged"
    return "first" if claims.claim({f"{key}#"}) else "conflict"
