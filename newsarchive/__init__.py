"""newsarchive: a news crawler that keeps WARC snapshots and clean article text."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# spiders/ and pipelines/ are Scrapy's project folders, kept at the project's top level but
# installed as newsarchive.spiders and newsarchive.pipelines (pyproject.toml's package-dir),
# so no top-level package of another project can clash with them. In a source checkout
# (scrapy.cfg beside this package) they are found in place, whatever the install.
_checkout = Path(__file__).resolve().parent.parent
if (_checkout / "scrapy.cfg").is_file() and (_checkout / "spiders" / "__init__.py").is_file():
    __path__.append(str(_checkout))  # noqa: F821 - a package's own __path__

if TYPE_CHECKING:
    from newsarchive.corpus import Corpus
    from newsarchive.crawl.addon import NewsArchiveAddon

__all__ = ["Corpus", "NewsArchiveAddon", "__version__"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so `import newsarchive` (and every crawl) stays cheap.
    if name == "Corpus":
        from newsarchive.corpus import Corpus

        return Corpus
    if name == "NewsArchiveAddon":  # ADDONS = {"newsarchive.NewsArchiveAddon": 0}
        from newsarchive.crawl.addon import NewsArchiveAddon

        return NewsArchiveAddon
    raise AttributeError(f"module 'newsarchive' has no attribute {name!r}")
