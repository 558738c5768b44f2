"""newsarchive: a news crawler that keeps WARC snapshots and clean article text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from newsarchive.corpus import Corpus

__all__ = ["Corpus", "__version__"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so `import newsarchive` (and every crawl) stays cheap.
    if name == "Corpus":
        from newsarchive.corpus import Corpus

        return Corpus
    raise AttributeError(f"module 'newsarchive' has no attribute {name!r}")
