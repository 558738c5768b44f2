"""The archive's own files: crawl session, manifests, incremental state, text shards, records,
pending uploads, torn-file recovery.
"""
