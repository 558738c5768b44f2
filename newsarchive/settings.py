"""Default Scrapy settings for newsarchive crawls (`scrapy.cfg` points here).

Everything newsarchive-specific is a ``NEWSARCHIVE_*`` setting, read and validated
once by :class:`newsarchive.config.Config`; the rest are Scrapy's own settings with
defaults chosen for polite, archival crawling of news sites.
"""

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["newsarchive.spiders"]
NEWSPIDER_MODULE = "newsarchive.spiders"
# `scrapy crawl` is replaced by a subclass that turns configuration errors into one
# clear line and a non-zero exit instead of a traceback.
COMMANDS_MODULE = "newsarchive.crawl.commands"

# The User-Agent is newsarchive's own, carrying NEWSARCHIVE_CONTACT (set USER_AGENT to
# override it); robots.txt rules for "newsarchive" apply, else those for "*".
ROBOTSTXT_OBEY = True
ROBOTSTXT_USER_AGENT = "newsarchive"
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Scrapy starts this many tasks for each response's output, however little it yields
# (a page: its requests, maybe an article, a metadata record); 100 cost the reactor
# ~3 ms a page (benchmarks/crawl.py), 32 keep up.
CONCURRENT_ITEMS = 32
DOWNLOAD_TIMEOUT = 30
# A news page is rarely over a few MB; anything far bigger is a trap or a dump.
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
# A body cut off by the server is archived as far as it came, marked WARC-Truncated:
# disconnect, and retried (newsarchive.crawl.truncation); Scrapy would drop it.
DOWNLOAD_FAIL_ON_DATALOSS = False
RETRY_TIMES = 2
DEPTH_LIMIT = 5
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no listening ports beyond what the crawl needs
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

DOWNLOADER_MIDDLEWARES = {
    # Above HttpCompressionMiddleware (590) and RedirectMiddleware (600), so every
    # exchange is seen as it came off the wire: still compressed, redirects included.
    "newsarchive.crawl.capture.WarcCaptureMiddleware": 950,
    # Just below the capture: cuts bodies at DOWNLOAD_MAXSIZE keeping what came (the
    # capture marks them truncated), and retries bodies cut off after they are archived.
    "newsarchive.crawl.truncation.TruncationMiddleware": 940,
    # robots.txt per RFC 9309 (newsarchive.crawl.robots) in place of Scrapy's allow-on-error one
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "newsarchive.crawl.robots.RobotsPolicyMiddleware": 100,
    "newsarchive.crawl.politeness.CrawlDelayMiddleware": 105,  # after RobotsTxtMiddleware (100)
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
ITEM_PIPELINES = {
    "newsarchive.pipelines.warcmeta.WarcMetadataPipeline": 100,
    "newsarchive.pipelines.extract.ExtractPipeline": 300,
    "newsarchive.pipelines.text.TextShardPipeline": 800,
}
EXTENSIONS = {
    "newsarchive.crawl.extension.ArchiveExtension": 100,
    # Exceptions in callbacks, middlewares and pipelines, counted by component and type.
    "newsarchive.crawl.errorcount.ErrorCountExtension": 110,
}

# --- newsarchive ---------------------------------------------------------------
NEWSARCHIVE_ARCHIVE = "./archive"
NEWSARCHIVE_CRAWL_ID = ""  # empty = a new id from the start time
NEWSARCHIVE_SITES = ""  # registry file; empty = the registry shipped in the package
NEWSARCHIVE_SPOOL = ""  # empty = <archive>/.spool for folders
NEWSARCHIVE_OPERATOR = ""
NEWSARCHIVE_WARC_PREFIX = "newsarchive"
NEWSARCHIVE_WARC_VERSION = "1.1"
NEWSARCHIVE_WARC_MAX_SIZE = 1024**3
NEWSARCHIVE_WARC_GZIP_LEVEL = 6
NEWSARCHIVE_SHARD_MAX_RECORDS = 10_000
NEWSARCHIVE_EXTRACT = True
NEWSARCHIVE_EXTRACT_WORKERS = 0  # 0 = one per CPU core
NEWSARCHIVE_MIN_WORDS = 30
NEWSARCHIVE_CONTACT = ""  # URL or e-mail sites can reach the operator at (in the UA)
NEWSARCHIVE_INCREMENTAL = True  # conditional requests and revisits for known articles
NEWSARCHIVE_MAX_AGE_DAYS = 0  # skip articles published longer ago; 0 = no limit
# robots.txt answering 5xx/429 or not at all disallows its host; asked again this many
# times, this many seconds apart, while the host's requests wait (newsarchive.crawl.robots)
NEWSARCHIVE_ROBOTS_RETRIES = 2
NEWSARCHIVE_ROBOTS_RETRY_DELAY = 30
# the longest robots.txt Crawl-delay honoured, in seconds; a longer one is capped to it
# (a site's "Crawl-delay: 100000" stalled the crawl for a day per page)
NEWSARCHIVE_MAX_CRAWL_DELAY = 60
NEWSARCHIVE_MAX_ERROR_RATE = 0.2  # share of failed fetches above which the exit status is 4
NEWSARCHIVE_SUMMARY_FILE = ""  # Markdown run summary; empty = <spool>/summaries/<crawl>.md
# Several machines (README "Several machines"): a Redis URL switches the crawl to a
# shared frontier (scrapy-redis); empty = one machine, Scrapy's own scheduler.
NEWSARCHIVE_REDIS_URL = ""
NEWSARCHIVE_REDIS_DUPEFILTER = "set"  # set (exact, grows with URLs) or bloom (fixed size)
NEWSARCHIVE_REDIS_BLOOM_CAPACITY = 10_000_000  # URLs the Bloom filter is sized for
NEWSARCHIVE_REDIS_BLOOM_ERROR_RATE = 0.0001  # share of new URLs wrongly taken for seen
NEWSARCHIVE_WORKER_ID = ""  # names this worker's files and spool; empty = <host>-<pid>
NEWSARCHIVE_WORKER_TIMEOUT = 30  # seconds without a heartbeat before a worker counts as dead
NEWSARCHIVE_UPLOAD_QUEUE = 4  # closed files waiting for storage before writers wait
NEWSARCHIVE_STOP_TIMEOUT = 60  # seconds from the first SIGTERM/SIGINT to the process's end
# S3-compatible storage (s3:// archives). boto3's credential chain and the standard
# AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 / AWS_REGION variables apply; these add to them.
NEWSARCHIVE_S3_ENDPOINT_URL = ""
NEWSARCHIVE_S3_REGION = ""
NEWSARCHIVE_S3_ADDRESSING_STYLE = "auto"  # auto, path or virtual
NEWSARCHIVE_S3_STORAGE_CLASS = ""  # e.g. STANDARD_IA; empty = the bucket's default
NEWSARCHIVE_S3_MULTIPART_THRESHOLD = 64 * 1024 * 1024
NEWSARCHIVE_S3_MULTIPART_CHUNKSIZE = 16 * 1024 * 1024
NEWSARCHIVE_S3_MAX_ATTEMPTS = 5  # per request, with exponential backoff (botocore "standard")
