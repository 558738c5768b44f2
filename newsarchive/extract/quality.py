"""Quality flags of one extraction: how far a researcher can trust a record's text.

A news archive keeps pages whose text is short, cut off by a paywall or disagrees with
the body the publisher declares in its structured data; rather than drop them silently
it says so, in each record's ``quality`` object. Pure functions, cheap on long texts.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

#: Texts with fewer words are flagged ``short_body`` (a brief, a caption, a teaser page).
SHORT_WORDS = 100
#: A JSON-LD articleBody shorter than this (in words) is not compared: many sites put a
#: teaser of a few sentences there, which says nothing about the page's full text.
MIN_STRUCTURED_WORDS = 50
#: The extracted text is flagged truncated when the page declares this much more.
TRUNCATED_RATIO = 1.5

_TOKEN_RE = re.compile(r"\w+")
_CUT_RE = re.compile(r"(\.\.\.|…|\[\.\.\.\]|\[…\])\s*$")
_SENTENCE_END_RE = re.compile(r"[.!?…:;\"'”’»)\]]\s*$")


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """Overlapping ``n``-word sequences of ``text``, lower-cased (a short text: one)."""
    tokens = [t.lower() for t in _TOKEN_RE.findall(text)]
    if len(tokens) < n:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(zip(*(tokens[i:] for i in range(n)), strict=False))


def coverage(part: Counter[tuple[str, ...]], whole: Counter[tuple[str, ...]]) -> float:
    """Share of ``part``'s shingles that ``whole`` also has (1.0 for an empty part)."""
    total = sum(part.values())
    return sum((part & whole).values()) / total if total else 1.0


@dataclass(frozen=True)
class Agreement:
    """How the extracted text and the declared ``articleBody`` overlap."""

    body_in_text: float  # share of the structured body found in the text (its recall)
    text_in_body: float  # share of the text found in the structured body


def agreement(text: str, structured_body: str) -> Agreement:
    ours, theirs = shingles(text), shingles(structured_body)
    return Agreement(coverage(theirs, ours), coverage(ours, theirs))


def looks_cut(text: str) -> bool:
    """Whether the text visibly stops mid-way: an ellipsis at the very end, or a long last
    paragraph without any closing punctuation (a sign-off line such as "Reporting by …"
    is short, so it does not count)."""
    last = text.rstrip().rsplit("\n", 1)[-1].strip()
    if _CUT_RE.search(last):
        return True
    return len(last) >= 200 and not _SENTENCE_END_RE.search(last)


def flags(
    *,
    words: int,
    text: str,
    paywall_lines: int,
    accessible_for_free: bool | None,
    structured_words: int | None,
    jsonld_agreement: float | None,
) -> dict[str, object]:
    """The record's ``quality`` object (see the README's record table)."""
    likely_paywall = paywall_lines > 0 or accessible_for_free is False
    declared_longer = bool(structured_words and structured_words > words * TRUNCATED_RATIO)
    return {
        "short_body": words < SHORT_WORDS,
        "likely_paywall": likely_paywall,
        "likely_truncated": likely_paywall or declared_longer or looks_cut(text),
        "jsonld_agreement": jsonld_agreement,
    }
