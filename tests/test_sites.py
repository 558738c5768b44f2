"""The site registry: every error names the entry and the field."""

from __future__ import annotations

import pytest

from newsarchive.errors import ConfigError
from newsarchive.sites import Site, load_registry, lookup, parse_registry

GOOD = '[[site]]\nname = "a"\nstart_urls = ["https://a.example/"]\n'


def test_builtin_registry_loads_and_is_valid():
    sites = load_registry()
    assert len(sites) >= 10
    assert {s.language for s in sites.values()} >= {"en", "de", "fr", "es", "ru"}


@pytest.mark.parametrize(
    "text, needle",
    [
        ("[[site]\n", "not valid TOML"),
        ('[[site]]\nstart_urls = ["https://a.example/"]\n', "field 'name'"),
        ('[[site]]\nname = "a"\n', "needs at least one"),
        (GOOD + GOOD, "duplicate site name 'a'"),
        (GOOD + 'article_patterns = ["("]\n', "bad regex"),
        (GOOD + 'colour = "red"\n', "unknown field 'colour'"),
        ('[[site]]\nname = "a"\nstart_urls = ["example.org"]\n', "not an absolute"),
        (GOOD + "crawl_delay = -1\n", "crawl_delay"),
    ],
)
def test_bad_entries_are_refused_with_a_clear_message(text, needle):
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(")):
        parse_registry(text, "sites.toml")


def test_lookup_lists_known_sites():
    with pytest.raises(ConfigError, match="known sites: a"):
        lookup(parse_registry(GOOD, "x"), "b")


def test_adhoc_site_from_url():
    site = Site.from_url("https://www.example.org/news/")
    assert site.name == "example-org"
    assert set(site.domains) == {"www.example.org", "example.org"}
    with pytest.raises(ConfigError):
        Site.from_url("example.org")
