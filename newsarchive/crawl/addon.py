"""newsarchive as a Scrapy add-on: WARC capture and clean text for any Scrapy project.

Put it in a project's ``ADDONS`` (Scrapy >= 2.14)::

    ADDONS = {"newsarchive.NewsArchiveAddon": 0}
    NEWSARCHIVE_ARCHIVE = "./archive"  # a folder, or s3://bucket/prefix

and every HTTP exchange of every spider (robots.txt, redirects and errors included)
is written to WARC files in the archive, with a CDXJ index and a manifest at the end.
Pages a spider hands over are extracted to clean-text records as well: a request
whose ``meta`` carries ``newsarchive_article`` (``True``, or the site's name) gets a
text record for its response (:mod:`newsarchive.crawl.handover`). Nothing else is
asked of the spider; its own items pass the pipelines untouched.
docs/guides/scrapy-project.md is the user's guide.

The add-on only wires: it enables newsarchive's downloader middlewares, spider
middleware, extensions and item pipelines, sets the ``NEWSARCHIVE_*`` defaults
(:mod:`newsarchive.defaults`) and the Scrapy settings an archive depends on, all at
Scrapy's ``addon`` priority, so a value the project or the command line gives wins
(a component set to ``None`` stays off). With ``NEWSARCHIVE_REDIS_URL`` it switches
the crawl to the shared frontier of several machines (scheduler, dupefilter and the
worker's coordinator); the worker joins the shared crawl in the ``news`` spider
(:func:`newsarchive.cluster.workers.join`), which knows the site.
"""

from __future__ import annotations

from typing import Any

from newsarchive.errors import ConfigError

# Component path -> order, as Scrapy's component priority dictionaries take them.
DOWNLOADER_MIDDLEWARES: dict[str, int | None] = {
    # Above HttpCompressionMiddleware (590) and RedirectMiddleware (600), so every
    # exchange is seen as it came off the wire: still compressed, redirects included.
    "newsarchive.crawl.capture.WarcCaptureMiddleware": 950,
    # Just below the capture: cuts bodies at DOWNLOAD_MAXSIZE keeping what came (the
    # capture marks them truncated), and retries bodies cut off after they are archived.
    "newsarchive.crawl.truncation.TruncationMiddleware": 940,
    # robots.txt per RFC 9309 (newsarchive.crawl.robots) in place of Scrapy's allow-on-error one
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "newsarchive.crawl.robots.RobotsPolicyMiddleware": 100,
    # site-wide rights (TDMRep file, robots.txt's AI groups), after robots.txt (100)
    "newsarchive.crawl.rights.SiteRightsMiddleware": 102,
    "newsarchive.crawl.politeness.CrawlDelayMiddleware": 105,  # after RobotsTxtMiddleware (100)
    # page requisites past their limits are refused here, after robots.txt allowed them
    "newsarchive.crawl.requisites.RequisiteLimitsMiddleware": 110,
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
    "newsarchive.crawl.politeness.ContactUserAgentMiddleware": 500,
    "newsarchive.crawl.incremental.ConditionalRequestMiddleware": 560,
    # Scrapy's redirect and meta refresh handling, with site-written targets checked
    # and self refreshes and refresh loops parsed as pages (newsarchive.crawl.redirects).
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "newsarchive.crawl.redirects.CheckedMetaRefreshMiddleware": 580,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "newsarchive.crawl.redirects.CheckedRedirectMiddleware": 600,
}
SPIDER_MIDDLEWARES: dict[str, int | None] = {
    # Next to the spider: pages requested with meta newsarchive_article become articles.
    "newsarchive.crawl.handover.ArticleHandoverMiddleware": 990,
}
ITEM_PIPELINES: dict[str, int | None] = {
    "newsarchive.pipelines.warcmeta.WarcMetadataPipeline": 100,
    "newsarchive.pipelines.extract.ExtractPipeline": 300,
    "newsarchive.pipelines.text.TextShardPipeline": 800,
}
EXTENSIONS: dict[str, int | None] = {
    "newsarchive.crawl.extension.ArchiveExtension": 100,
    # Exceptions in callbacks, middlewares and pipelines, counted by component and type.
    "newsarchive.crawl.errorcount.ErrorCountExtension": 110,
    # One status line (pages, articles, errors, rate) every NEWSARCHIVE_STATUS_INTERVAL.
    "newsarchive.crawl.status.CrawlStatus": 120,
}
COMPONENTS = {
    "DOWNLOADER_MIDDLEWARES": DOWNLOADER_MIDDLEWARES,
    "SPIDER_MIDDLEWARES": SPIDER_MIDDLEWARES,
    "ITEM_PIPELINES": ITEM_PIPELINES,
    "EXTENSIONS": EXTENSIONS,
}

# Scrapy settings an archive depends on, whatever the project.
SCRAPY_DEFAULTS: dict[str, Any] = {
    "ROBOTSTXT_OBEY": True,
    # A news page is rarely over a few MB; anything far bigger is a trap or a dump.
    "DOWNLOAD_MAXSIZE": 32 * 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 8 * 1024 * 1024,
    # A body cut off by the server is archived as far as it came, marked WARC-Truncated:
    # disconnect, and retried (newsarchive.crawl.truncation); Scrapy would drop it.
    "DOWNLOAD_FAIL_ON_DATALOSS": False,
}

ROBOTS_AGENT = "newsarchive"

# Several machines (NEWSARCHIVE_REDIS_URL): the shared frontier in place of Scrapy's own.
FRONTIER_SCHEDULER = "newsarchive.cluster.frontier.Scheduler"
FRONTIER_SETTINGS: dict[str, Any] = {
    "SCHEDULER": FRONTIER_SCHEDULER,
    "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
    "SCHEDULER_PERSIST": True,
}
COORDINATOR = "newsarchive.cluster.workers.Coordinator"
COORDINATOR_ORDER = 50  # before the archive extension (100), which asks it at the end

PRIORITY = "addon"


class NewsArchiveAddon:
    """Scrapy add-on: newsarchive's components and defaults in any Scrapy project."""

    def update_settings(self, settings: Any) -> None:
        """Enable the components and set the defaults, each unless the project set it."""
        from newsarchive.defaults import defaults

        for name, value in {**defaults(), **SCRAPY_DEFAULTS}.items():
            settings.set(name, value, priority=PRIORITY)
        if not settings.getpriority("USER_AGENT"):
            # The User-Agent is newsarchive's (newsarchive.crawl.politeness): robots.txt
            # rules for "newsarchive" apply, else those for "*". A project's own
            # USER_AGENT is matched by Scrapy itself.
            settings.set("ROBOTSTXT_USER_AGENT", ROBOTS_AGENT, priority=PRIORITY)
        for setting, components in COMPONENTS.items():
            for path, order in components.items():
                set_component(settings, setting, path, order)
        if str(settings.get("NEWSARCHIVE_REDIS_URL") or "").strip():
            self.use_frontier(settings)

    @staticmethod
    def use_frontier(settings: Any) -> None:
        """Switch to the Redis frontier; ConfigError if the project set another scheduler."""
        from scrapy.utils.misc import load_object

        for name, value in FRONTIER_SETTINGS.items():
            settings.set(name, value, priority=PRIORITY)
        settings.set("REDIS_URL", settings.get("NEWSARCHIVE_REDIS_URL"), priority=PRIORITY)
        scheduler = settings.get("SCHEDULER")
        if load_object(scheduler) is not load_object(FRONTIER_SCHEDULER):
            raise ConfigError(
                f"NEWSARCHIVE_REDIS_URL needs SCHEDULER = {FRONTIER_SCHEDULER!r} (the shared "
                f"frontier), but SCHEDULER is set to {scheduler!r}: leave SCHEDULER unset"
            )
        set_component(settings, "EXTENSIONS", COORDINATOR, COORDINATOR_ORDER)


def set_component(settings: Any, name: str, path: str, order: int | None) -> None:
    """Put a component in a component priority setting unless the project lists it,
    by path or class, even as None (switched off).

    Keyed by import path, as Scrapy's own ``*_BASE`` settings are: a None keyed by the
    class would not switch off the path-keyed entry of the base (Scrapy 2.19 keeps
    both), and Scrapy's RobotsTxtMiddleware would run beside newsarchive's.
    """
    from scrapy.utils.misc import load_object

    components = settings.getdict(name)
    cls = load_object(path)
    if any(load_object(key) is cls for key in components):
        return
    components[path] = order
    settings.set(name, components, priority=settings.getpriority(name) or 0)
