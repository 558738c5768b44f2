"""Scrapy settings of the newsarchive project (`scrapy.cfg` points here).

newsarchive's components, its ``NEWSARCHIVE_*`` defaults and the Scrapy settings an
archive depends on come from the add-on (:class:`newsarchive.NewsArchiveAddon`), as in
any other Scrapy project; what follows are this project's own choices for polite,
archival crawling of news sites.
"""

# The NEWSARCHIVE_* defaults, stated here too: Scrapy builds the spider before it runs
# the add-ons, and the news spider reads them when it is built (the site registry, the
# shared crawl of several machines, the archive session).
from newsarchive.defaults import *  # noqa: F403

ADDONS = {"newsarchive.NewsArchiveAddon": 0}

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["newsarchive.spiders"]
NEWSPIDER_MODULE = "newsarchive.spiders"
# `scrapy crawl` is replaced by a subclass that turns configuration errors into one
# clear line and a non-zero exit instead of a traceback.
COMMANDS_MODULE = "newsarchive.crawl.commands"

# robots.txt rules for "newsarchive" apply, else those for "*", whatever USER_AGENT says.
ROBOTSTXT_USER_AGENT = "newsarchive"
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Scrapy starts this many tasks for each response's output, however little it yields
# (a page: its requests, maybe an article, a metadata record; a page requisite: what
# its stylesheet references, if anything). Only items wait (for extraction, for the
# writer thread), and a response yields two at most; requests are scheduled at once.
# 100 cost the reactor ~3 ms a page, 32 still ~0.7 ms a response, which page requisites multiply
# (benchmarks/crawl.py, WARC-only with requisites, N=2,000: 20.4-20.9 -> 17.3-17.5 ms
# CPU an article); 8 keep up.
CONCURRENT_ITEMS = 8
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
DEPTH_LIMIT = 5
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no listening ports beyond what the crawl needs
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
