"""The Scrapy add-on on its own: what it sets, what it leaves to the project, the Redis switch.

Built with Scrapy's own test helper (``get_crawler``), which runs ``ADDONS`` as a crawl
does, without a crawl.
"""

from __future__ import annotations

from typing import Any

import pytest
from scrapy import Spider
from scrapy.utils.conf import build_component_list
from scrapy.utils.misc import load_object
from scrapy.utils.test import get_crawler

import newsarchive
from newsarchive.crawl import addon
from newsarchive.defaults import defaults
from newsarchive.errors import ConfigError

ADDON = {"newsarchive.NewsArchiveAddon": 0}


@pytest.fixture(autouse=True)
def _archive(tmp_path, monkeypatch):
    """Scrapy 2.19 builds the extensions with the settings, and the archive extension
    opens the archive: a folder of the test's own."""
    monkeypatch.chdir(tmp_path)


def _settings(**project: Any) -> Any:
    """A crawler's settings once its add-ons ran (get_crawler applies them as a crawl
    does), with `project` at the project priority."""
    crawler = get_crawler(Spider, {"ADDONS": ADDON, **project}, prevent_warnings=False)
    assert isinstance(crawler.get_addon(addon.NewsArchiveAddon), addon.NewsArchiveAddon)
    return crawler.settings


def _enabled(settings: Any, name: str) -> list[type]:
    """The components Scrapy will build for a component setting, in its order."""
    return [load_object(p) for p in build_component_list(settings.getwithbase(name))]


def test_exported_lazily_from_the_package() -> None:
    assert newsarchive.NewsArchiveAddon is addon.NewsArchiveAddon
    assert "NewsArchiveAddon" in newsarchive.__all__


def test_enables_every_component_in_its_place() -> None:
    settings = _settings()
    for setting, components in addon.COMPONENTS.items():
        enabled = _enabled(settings, setting)
        for path, order in components.items():
            cls = load_object(path)
            if order is None:
                assert cls not in enabled, (setting, path)
            else:
                assert cls in enabled, (setting, path)
                assert settings.getwithbase(setting)[path] == order
    # Capture sits closest to the downloader, above compression and redirects.
    middlewares = _enabled(settings, "DOWNLOADER_MIDDLEWARES")
    names = [c.__name__ for c in middlewares]
    assert names.index("HttpCompressionMiddleware") < names.index("WarcCaptureMiddleware")
    assert names[-1] == "WarcCaptureMiddleware"


def test_sets_the_defaults_at_the_addon_priority() -> None:
    settings = _settings()
    for name, value in {**defaults(), **addon.SCRAPY_DEFAULTS}.items():
        assert settings[name] == value, name
        assert settings.getpriority(name) == 15, name  # SETTINGS_PRIORITIES["addon"]
    assert settings["ROBOTSTXT_USER_AGENT"] == "newsarchive"  # the UA is newsarchive's
    assert settings.getbool("ROBOTSTXT_OBEY") is True
    assert settings.getbool("DOWNLOAD_FAIL_ON_DATALOSS") is False
    assert settings["SCHEDULER"] == "scrapy.core.scheduler.Scheduler"  # one machine


def test_project_values_win() -> None:
    settings = _settings(
        ROBOTSTXT_OBEY=False,
        NEWSARCHIVE_ARCHIVE="elsewhere",
        ITEM_PIPELINES={"newsarchive.pipelines.text.TextShardPipeline": 850},
        # a project switching one of newsarchive's components off
        DOWNLOADER_MIDDLEWARES={"newsarchive.crawl.politeness.CrawlDelayMiddleware": None},
    )
    assert settings.getbool("ROBOTSTXT_OBEY") is False
    assert settings["NEWSARCHIVE_ARCHIVE"] == "elsewhere"
    text = load_object("newsarchive.pipelines.text.TextShardPipeline")
    pipelines = settings.getwithbase("ITEM_PIPELINES")
    assert [v for k, v in pipelines.items() if load_object(k) is text] == [850]
    extract = load_object("newsarchive.pipelines.extract.ExtractPipeline")
    assert extract in _enabled(settings, "ITEM_PIPELINES")  # still added beside it
    delay = load_object("newsarchive.crawl.politeness.CrawlDelayMiddleware")
    assert delay not in _enabled(settings, "DOWNLOADER_MIDDLEWARES")


def test_a_project_user_agent_is_the_one_robots_txt_is_read_for() -> None:
    settings = _settings(USER_AGENT="elsewhere-bot/1.0")
    assert not settings["ROBOTSTXT_USER_AGENT"]  # Scrapy then matches on USER_AGENT


def test_redis_url_switches_to_the_shared_frontier() -> None:
    settings = _settings(NEWSARCHIVE_REDIS_URL="redis://127.0.0.1:1/0")
    for name, value in addon.FRONTIER_SETTINGS.items():
        assert settings[name] == value, name
    assert settings["REDIS_URL"] == "redis://127.0.0.1:1/0"
    extensions = _enabled(settings, "EXTENSIONS")
    coordinator = load_object(addon.COORDINATOR)
    archive = load_object("newsarchive.crawl.extension.ArchiveExtension")
    assert extensions.index(coordinator) < extensions.index(archive)


def test_no_redis_url_no_frontier() -> None:
    settings = _settings(NEWSARCHIVE_REDIS_URL="  ")
    assert load_object(addon.COORDINATOR) not in _enabled(settings, "EXTENSIONS")
    assert settings["SCHEDULER"] != addon.FRONTIER_SCHEDULER


def test_redis_url_refuses_a_project_scheduler() -> None:
    with pytest.raises(ConfigError, match="NEWSARCHIVE_REDIS_URL needs SCHEDULER"):
        _settings(NEWSARCHIVE_REDIS_URL="redis://127.0.0.1:1/0",
                  SCHEDULER="scrapy.core.scheduler.Scheduler")


def test_the_news_project_lists_only_the_addon_and_its_own_choices() -> None:
    from newsarchive import settings as project

    assert project.ADDONS == ADDON
    for name in addon.COMPONENTS:
        assert not hasattr(project, name), name
    # Its NEWSARCHIVE_* values are the add-on's defaults (the spider reads them first).
    assert {k: getattr(project, k) for k in defaults()} == defaults()
