"""The crawl's Scrapy glue: capture, politeness, robots, redirects, incremental requests, the
archive extension, stopping, the crawl command.
"""
