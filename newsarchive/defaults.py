"""The default of every ``NEWSARCHIVE_*`` setting: the names newsarchive knows.

Pure data, no Scrapy. :class:`newsarchive.NewsArchiveAddon` sets these at the
``addon`` priority (a project's or the command line's value wins);
:mod:`newsarchive.settings` repeats them for the ``news`` project, because Scrapy
builds the spider, which reads them, before add-ons run; and
:func:`newsarchive.config.check_setting_names` refuses any other ``NEWSARCHIVE_*`` name.
"""

NEWSARCHIVE_ARCHIVE = "./archive"
NEWSARCHIVE_CRAWL_ID = ""  # empty = a new id from the start time
NEWSARCHIVE_SITES = ""  # registry file; empty = the registry shipped in the package
NEWSARCHIVE_SPOOL = ""  # empty = <archive>/.spool for folders
NEWSARCHIVE_OPERATOR = ""
NEWSARCHIVE_WARC_PREFIX = "newsarchive"
NEWSARCHIVE_WARC_VERSION = "1.1"
# A page marked noarchive (robots meta, <meta name="newsarchive">, X-Robots-Tag):
# "withhold" keeps its response out of the WARC (and so out of every output);
# "keep" archives it, with the signal in its records for readers to honour.
NEWSARCHIVE_NOARCHIVE = "withhold"
# Fetch (and archive) each host's /.well-known/tdmrep.json before its first page, so each
# record carries the TDM reservation that applies to it (newsarchive.crawl.rights).
NEWSARCHIVE_TDMREP = True
NEWSARCHIVE_WARC_MAX_SIZE = 1024**3
NEWSARCHIVE_WARC_GZIP_LEVEL = 6
NEWSARCHIVE_SHARD_MAX_RECORDS = 10_000
NEWSARCHIVE_EXTRACT = True
NEWSARCHIVE_EXTRACT_WORKERS = 0  # 0 = one per CPU core
NEWSARCHIVE_MIN_WORDS = 30
# fast: one trafilatura pass; accurate: also joins an article split into same-class
# chunks, and extracts texts under 50 words again with trafilatura's fallbacks
# (docs/explanation/extraction.md)
NEWSARCHIVE_EXTRACTOR = "accurate"
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
# seconds between the crawl's one-line status (pages, articles, errors, rate); 0 = none
NEWSARCHIVE_STATUS_INTERVAL = 60
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


def defaults() -> dict[str, object]:
    """Every NEWSARCHIVE_* setting with its default value."""
    return {name: value for name, value in globals().items() if name.startswith("NEWSARCHIVE_")}
