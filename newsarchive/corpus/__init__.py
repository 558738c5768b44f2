"""Reading archives as research corpora: filters, dedupe, exports, stats, provenance.

Everything here reads through the Store interface and the crawls' manifests, so a
folder and a bucket behave the same.
"""

from __future__ import annotations

from newsarchive.corpus.article import Article, WarcLocation
from newsarchive.corpus.corpus import Corpus

__all__ = ["Article", "Corpus", "WarcLocation"]
