"""The Sample Gazette: a multilingual news site served on 127.0.0.1 for crawler tests.

Shipped inside the package so that the test suite and ``newsarchive demo`` crawl a
realistic site over real HTTP without internet access. URL map (``base`` = base URL):

- ``/`` home (sections, 8 latest, odd pages, ``/old/story-2019``, intranet link);
  ``/section/<name>/`` and ``/section/<name>/page/<n>/`` (5 per page);
  articles at ``/news/<yyyy>/<mm>/<dd>/<slug>.html``
- ``/robots.txt`` (disallows ``/private/``), ``/feed.xml`` (RSS 2.0, chunked),
  ``/sitemap.xml``
- ``/old/story-2019`` 301 to an article; ``/private/internal-memo.html`` (disallowed);
  ``/files/annual-report-2026.pdf``; ``SampleSite.BROKEN_PATHS`` (broken HTML, binary,
  empty); ``/about/{imprint,contact,privacy}.html``; ``/static/*``; anything else 404.
- ``/traps/`` and below: hostile pages (``SampleSite.TRAP_PATHS``, see ``traps.py``),
  linked from no other page, so only a crawl that starts there meets them.
"""

from __future__ import annotations

from .article import LANGUAGES, Article
from .site import SampleSite, serve_forever

__all__ = ["LANGUAGES", "Article", "SampleSite", "serve_forever"]
