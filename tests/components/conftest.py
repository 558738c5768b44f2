"""Fixtures for tests of one Scrapy component at a time: a crawler built from the
project's settings by Scrapy's own test helper, with a real folder archive in tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

from newsarchive.archive import session as session_module
from tests.helpers import project_settings, reactor_loop


@pytest.fixture
def make_crawler(tmp_path: Path) -> Iterator[Callable[..., Crawler]]:
    """``make_crawler(**settings)``: a crawler (``get_crawler``) with newsarchive's
    settings, the archive in tmp_path and ``settings`` on top, and its spider set as
    ``Crawler.crawl`` would. Every archive session a component opened is closed after."""
    reactor_loop()  # before Scrapy decides which runner get_crawler uses
    made: list[Crawler] = []

    def make(spidercls: type[Spider] | None = None, **settings: Any) -> Crawler:
        crawler = get_crawler(spidercls, settings_dict=project_settings(tmp_path, **settings))
        crawler.spider = crawler.spidercls.from_crawler(crawler)
        made.append(crawler)
        return crawler

    yield make
    for crawler in made:
        session = getattr(crawler, session_module._ATTR, None)
        if session is not None and not session.closed:
            session.close_writers()
            session.shutdown()
