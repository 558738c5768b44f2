"""WARC files: the writer, CDXJ indexes, Content-Encoding decoding."""
