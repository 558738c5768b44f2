"""newsarchive: a news crawler that keeps WARC snapshots and clean article text."""

__version__ = "0.1.0"
