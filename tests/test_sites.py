"""The site registry: every error names the entry and the field."""

from __future__ import annotations

import pytest

from newsarchive.discovery.sites import Site, load_registry, lookup, parse_registry
from newsarchive.errors import ConfigError

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


def test_builtin_registry_has_25_sites_in_several_languages():
    sites = load_registry()
    assert len(sites) >= 25
    assert len({s.language for s in sites.values()}) >= 6
    assert all(s.feeds or s.sitemaps for s in sites.values())


def test_feed_hosts_are_allowed_besides_the_domains():
    site = parse_registry(
        GOOD.replace('start_urls = ["https://a.example/"]',
                     'start_urls = ["https://a.example/"]\nfeeds = ["https://feeds.b.example/x"]'),
        "x",
    )["a"]
    assert site.allowed_hosts == ("a.example", "feeds.b.example")


def _cli(*args):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "newsarchive.cli", "sites", *args],
        capture_output=True, text=True, timeout=60,
    )


@pytest.mark.e2e
def test_sites_check_and_list_commands(tmp_path):
    ok = _cli("check")
    assert ok.returncode == 0 and "site(s) valid" in ok.stdout
    listing = _cli("list")
    assert "lemonde" in listing.stdout and "site(s)" in listing.stdout
    bad = tmp_path / "sites.toml"
    bad.write_text(GOOD + GOOD)
    result = _cli("check", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"newsarchive: error: {bad}: duplicate site name 'a'"
    )
    outside = tmp_path / "outside.toml"
    outside.write_text(GOOD + 'domains = ["b.example"]\n')
    result = _cli("check", str(outside))
    assert result.returncode == 2 and "outside its domains" in result.stderr
