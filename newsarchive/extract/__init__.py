"""Clean text from HTML: trafilatura orchestration, boilerplate rules, metadata, language, the
extraction process pool.
"""
