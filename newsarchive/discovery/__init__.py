"""Finding articles: links, feeds and sitemaps, page classification, the site registry,
URL checks.
"""
