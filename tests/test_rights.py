"""Rights signals: read from pages and headers, recorded per capture, noarchive withheld,
the site-wide TDMRep file and robots.txt's AI groups kept with the crawl."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator

from newsarchive.rights import aibots, policy, signals, tdmrep
from newsarchive.sample_site import SampleSite
from newsarchive.sample_site.article import Article
from tests.helpers import load_manifest, scrapy_crawl, text_records
from tests.test_replay import pywb_venv  # noqa: F401 - a fixture

# --- reading signals ------------------------------------------------------------------


def test_robots_meta_header_and_bot_specific_forms() -> None:
    rights = signals.read_rights(
        [("X-Robots-Tag", "googlebot: noarchive"), ("X-Robots-Tag", "newsarchive: nosnippet"),
         ("x-robots-tag", "noimageai")],
        '<head><meta name="ROBOTS" content="NoAI, none"><meta name="newsarchive" '
        'content="noarchive"><meta name="otherbot" content="noindex"></head>',
    )
    assert rights["noai"] and rights["noindex"] and rights["nosnippet"] and rights["noimageai"]
    assert rights["noarchive"]  # from our own <meta name="newsarchive">, not googlebot's header
    assert rights["sources"]["noarchive"] == "meta newsarchive"
    assert rights["sources"]["nosnippet"] == "header X-Robots-Tag"
    assert rights["sources"]["noindex"] == "meta robots"  # `none` means noindex (+nofollow)


def test_another_bots_directives_are_not_ours() -> None:
    rights = signals.read_rights(
        [("X-Robots-Tag", "googlebot: noarchive, noindex")],
        '<meta name="googlebot" content="noarchive">',
    )
    assert not any(rights[d] for d in signals.ROBOTS_DIRECTIVES)
    assert rights["sources"] == {}


@pytest.mark.parametrize(
    ("value", "ours"),
    [
        # repeated headers folded into one value: each bot's directives up to the next bot
        ("googlebot: noindex, nofollow, newsarchive: noarchive", {"noarchive"}),
        ("newsarchive: nosnippet, googlebot: noarchive", {"nosnippet"}),
        ("noindex, googlebot: noarchive", {"noindex"}),  # generic, then another bot's
        ("max-snippet: 20, noarchive", {"noarchive"}),  # a directive's value is no bot
        ("unavailable_after: Sunday, 01-Jan-2023 15:00:00 PST, noindex", {"noindex"}),
    ],
)
def test_one_header_value_with_several_bots(value: str, ours: set[str]) -> None:
    rights = signals.read_rights([("X-Robots-Tag", value)], None)
    assert {d for d in signals.ROBOTS_DIRECTIVES if rights[d]} == ours


def test_tdm_and_licence_from_headers_meta_link_and_json_ld() -> None:
    page = """<html><head>
      <meta name="tdm-reservation" content="1"><meta name="tdm-policy" content="https://p.example/policy">
      <link rel="license" href="https://creativecommons.org/licenses/by-nd/4.0/">
      <script type="application/ld+json">{"@graph": [{"@type": "WebSite"},
        {"@type": "NewsArticle", "copyrightHolder": {"@type": "Organization", "name": "Gazette"},
         "isAccessibleForFree": "False", "license": "https://ignored.example/"}]}</script>
    </head></html>"""
    rights = signals.read_rights([("tdm-reservation", "0")], page)
    assert rights["tdm_reservation"] == 0  # the header is read first and wins
    assert rights["sources"]["tdm_reservation"] == "header tdm-reservation"
    assert rights["tdm_policy"] == "https://p.example/policy"
    assert rights["license"] == "https://creativecommons.org/licenses/by-nd/4.0/"
    assert rights["sources"]["license"] == "link rel=license"
    assert rights["copyright_holder"] == "Gazette"
    assert rights["accessible_for_free"] is False


def test_a_page_that_states_nothing() -> None:
    assert signals.read_rights([], "<p>hello</p>") == signals.empty()
    assert signals.read_rights([("tdm-reservation", "maybe")], None)["tdm_reservation"] is None


@settings(max_examples=150, deadline=None)
@given(
    headers=st.lists(st.tuples(st.sampled_from(
        ["X-Robots-Tag", "tdm-reservation", "tdm-policy", "Content-Type", "x"]), st.text())),
    html=st.one_of(st.none(), st.text(), st.builds(
        lambda name, content, ld: (
            f'<meta name="{name}" content="{content}"><link rel="license" href="{content}">'
            f'<script type="application/ld+json">{ld}</script>'
        ),
        st.sampled_from(["robots", "newsarchive", "tdm-reservation", "tdm-policy"]),
        st.text(), st.text(),
    )),
)
def test_never_raises_and_keeps_its_shape(headers, html) -> None:
    rights = signals.read_rights(headers, html)
    assert set(rights) == set(signals.empty())
    assert rights["tdm_reservation"] in (None, 0, 1)
    assert set(rights["sources"]) <= set(rights) - {"sources"}
    # a source is named for each signal found: tdm_reservation 0 is one, False is none
    assert all(rights[name] is not None and rights[name] is not False
               for name in rights["sources"])
    json.dumps(rights)  # goes into records and WARC fields as it is


def test_says_noarchive_is_the_same_decision_as_read_rights() -> None:
    page = b'<html><head><meta name="robots" content="noindex,noarchive"></head></html>'
    assert signals.says_noarchive([], page, html=True)
    assert not signals.says_noarchive([], page, html=False)  # not HTML: headers only
    assert signals.says_noarchive([("X-Robots-Tag", "noarchive")], b"%PDF", html=False)
    assert not signals.says_noarchive([], b'<p>noarchive is a word here</p>', html=True)


# --- the site-wide file and robots.txt --------------------------------------------------


def test_tdmrep_rules_first_match_wins_and_page_signals_override() -> None:
    rules = tdmrep.parse(json.dumps([
        {"location": "/news/2026/*", "tdm-reservation": 1, "tdm-policy": "https://p/"},
        {"location": "/about$", "tdm-reservation": 1},
        {"location": "/", "tdm-reservation": 0},
        {"location": "/bad", "tdm-reservation": 7},  # not a TDMRep value: ignored
    ]).encode())
    assert len(rules) == 3
    assert tdmrep.rule_for(rules, "/news/2026/10/01/a.html")["tdm-reservation"] == 1
    assert tdmrep.rule_for(rules, "/about")["tdm-reservation"] == 1
    assert tdmrep.rule_for(rules, "/about.html")["tdm-reservation"] == 0  # `$` ends the path
    assert tdmrep.rule_for(rules[:2], "/elsewhere") is None
    page = signals.read_rights([("tdm-reservation", "0")], None)
    assert tdmrep.apply(page, rules, "/news/2026/x")["tdm_reservation"] == 0
    silent = tdmrep.apply(signals.empty(), rules, "/news/2026/x")
    assert silent["tdm_reservation"] == 1 and silent["sources"]["tdm_policy"] == tdmrep.PATH


@settings(max_examples=150, deadline=None)
@given(body=st.one_of(st.binary(), st.builds(lambda v: json.dumps(v).encode(), st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(
        st.sampled_from(["location", "tdm-reservation", "tdm-policy", "x"]), inner),
))), path=st.text())
def test_tdmrep_file_of_anything_never_raises(body, path) -> None:
    rules = tdmrep.parse(body)
    assert all(rule["tdm-reservation"] in (0, 1) for rule in rules)
    rule = tdmrep.rule_for(rules, path)
    assert rule is None or rule in rules


def test_ai_summary_reads_the_agents_groups() -> None:
    from protego import Protego

    robots = Protego.parse("User-agent: *\nDisallow: /private/\n\nUser-agent: GPTBot\n"
                           "Disallow: /\n")
    summary = aibots.summary(lambda url, agent: robots.can_fetch(url, agent), "https://s/")
    assert summary["GPTBot"] == "disallowed"
    assert summary["ClaudeBot"] == "allowed"
    assert set(summary) == set(aibots.AI_AGENTS)


# --- filters ----------------------------------------------------------------------------


def test_rights_filters() -> None:
    reserved = {"rights": {**signals.empty(), "tdm_reservation": 1}}
    noai = {"rights": {**signals.empty(), "noai": True}}
    plain = {"rights": signals.empty()}
    assert policy.excluded(reserved, ("allow-tdm",)) == "tdm-reservation"
    assert policy.excluded(noai, ("allow-tdm",)) == "noai"
    assert policy.excluded(plain, ("allow-tdm", "allow-index")) is None
    assert policy.excluded({"text": "before rights were recorded"}, ("allow-tdm",)) is None
    with pytest.raises(Exception, match="unknown rights filter 'allow-everything'"):
        policy.check(["allow-everything"])


# --- a real crawl ---------------------------------------------------------------------

WORDS = (
    "The harbour authority said on Tuesday that the new ferry terminal would open next "
    "spring after two years of delays caused by storms, a shortage of steel and a dispute "
    "with the contractor over the cost of the foundations."
)


def _article(slug: str, day: int, **rights) -> Article:
    return Article(
        slug=slug, section="world", lang="en", title=f"Ferry terminal story {slug}",
        author="Ada Lovelace", published=datetime(2026, 9, day, 9, tzinfo=UTC),
        paragraphs=(WORDS, WORDS.replace("Tuesday", "Monday"), WORDS.replace("spring", "June")),
        **rights,
    )


ARTICLES = {
    "noai-licensed": dict(head_extra=(
        '<meta name="robots" content="noai">',
        '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">',
    )),
    "header-noarchive": dict(headers=(("X-Robots-Tag", "noarchive"),)),
    "meta-noarchive": dict(head_extra=('<meta name="newsarchive" content="noarchive">',)),
    "tdm-header": dict(headers=(("tdm-reservation", "1"), ("tdm-policy", "https://p/"))),
    "other-bot": dict(headers=(("X-Robots-Tag", "googlebot: noarchive"),)),
    "well-known": {},
}


@pytest.fixture(scope="module")
def rights_site():
    with SampleSite() as site:
        for day, (slug, rights) in enumerate(ARTICLES.items(), start=1):
            site.add_article(_article(slug, day, **rights))
        reserved = site.article("well-known").path
        site.tdmrep = [{"location": reserved, "tdm-reservation": 1}]
        yield site


def _crawl(site: SampleSite, archive: Path, *settings: str):
    args = ["-a", f"url={site.base_url}/", "-s", f"NEWSARCHIVE_ARCHIVE={archive}",
            "-s", "NEWSARCHIVE_EXTRACT_WORKERS=1"]
    for setting in settings:
        args += ["-s", setting]
    return scrapy_crawl(*args)


def _warc_responses(archive: Path, manifest: dict) -> dict[str, list]:
    found: dict[str, list] = {}
    for entry in manifest["files"]:
        if entry["kind"] == "warc":
            with open(archive / entry["key"], "rb") as f:
                for record in ArchiveIterator(f):
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    found.setdefault(url, []).append(record.rec_type)
    return found


@pytest.fixture(scope="module")
def rights_crawl(rights_site, tmp_path_factory):
    archive = tmp_path_factory.mktemp("rights") / "archive"
    process = _crawl(rights_site, archive)
    assert process.returncode == 0, process.stderr[-3000:]
    manifest = load_manifest(archive)
    return archive, manifest


def test_records_carry_each_signal_with_its_source(rights_site, rights_crawl) -> None:
    archive, manifest = rights_crawl
    records = {r["url"]: r for r in text_records(archive, manifest)}

    def rights(slug: str) -> dict:
        return records[rights_site.url(rights_site.article(slug).path)]["rights"]

    assert rights("noai-licensed")["noai"] and rights("noai-licensed")["sources"] == {
        "noai": "meta robots", "license": "link rel=license"}
    assert rights("tdm-header")["tdm_reservation"] == 1
    assert rights("tdm-header")["tdm_policy"] == "https://p/"
    assert rights("well-known")["tdm_reservation"] == 1
    assert rights("well-known")["sources"]["tdm_reservation"] == tdmrep.PATH
    assert not rights("other-bot")["noarchive"]
    # every other article states its JSON-LD publisher but no licence or reservation
    plain = [r["rights"] for r in records.values() if "Ferry" not in (r["title"] or "")]
    assert plain and all(r["tdm_reservation"] is None and not r["noai"] for r in plain)


def test_noarchive_pages_are_withheld_from_the_warc(rights_site, rights_crawl) -> None:
    archive, manifest = rights_crawl
    responses = _warc_responses(archive, manifest)
    records = {r["url"] for r in text_records(archive, manifest)}
    for slug in ("header-noarchive", "meta-noarchive"):
        url = rights_site.url(rights_site.article(slug).path)
        assert url not in responses, (slug, responses.get(url))
        assert url not in records
    other = rights_site.url(rights_site.article("other-bot").path)
    assert "response" in responses[other]  # googlebot's noarchive is not ours
    assert manifest["counts"]["withheld"] == {"noarchive": 2}


def test_site_wide_signals_are_archived_and_kept_with_the_crawl(
    rights_site, rights_crawl
) -> None:
    archive, manifest = rights_crawl
    host = rights_site.base_url.split("//", 1)[1]
    crawl_rights = manifest["crawl"]["rights"]
    assert crawl_rights["robots_ai"][host]["GPTBot"] == "disallowed"
    assert crawl_rights["robots_ai"][host]["ClaudeBot"] == "allowed"
    assert crawl_rights["tdmrep"][host] == rights_site.tdmrep
    responses = _warc_responses(archive, manifest)
    assert "response" in responses[rights_site.url(tdmrep.PATH)]
    # asked of the hosts of pages only, not of a requisite's host (the site's CDN)
    asked = [u for u in responses if u and u.endswith(tdmrep.PATH)]
    assert asked == [rights_site.url(tdmrep.PATH)]
    assert any(u and host not in u for u in responses), "the crawl fetched no CDN asset"


def test_metadata_records_carry_the_rights(rights_site, rights_crawl) -> None:
    archive, manifest = rights_crawl
    url = rights_site.url(rights_site.article("tdm-header").path)
    for entry in manifest["files"]:
        if entry["kind"] != "warc":
            continue
        with open(archive / entry["key"], "rb") as f:
            for record in ArchiveIterator(f):
                if (record.rec_type == "metadata"
                        and record.rec_headers.get_header("WARC-Target-URI") == url):
                    body = record.content_stream().read().decode()
                    line = next(x for x in body.splitlines() if x.startswith("rights: "))
                    assert json.loads(line.removeprefix("rights: "))["tdm_reservation"] == 1
                    return
    pytest.fail("no metadata record for the article")


def test_keep_mode_archives_noarchive_pages_with_the_flag(rights_site, tmp_path) -> None:
    archive = tmp_path / "archive"
    process = _crawl(rights_site, archive, "NEWSARCHIVE_NOARCHIVE=keep",
                     "NEWSARCHIVE_TDMREP=false")
    assert process.returncode == 0, process.stderr[-3000:]
    manifest = load_manifest(archive)
    records = {r["url"]: r for r in text_records(archive, manifest)}
    url = rights_site.url(rights_site.article("header-noarchive").path)
    assert records[url]["rights"]["noarchive"] is True
    assert manifest["counts"]["withheld"] == {}
    assert manifest["crawl"]["rights"]["tdmrep"] == {}
    assert rights_site.url(tdmrep.PATH) not in _warc_responses(archive, manifest)


@pytest.mark.e2e
def test_bad_noarchive_setting_is_one_line_at_start(tmp_path) -> None:
    process = scrapy_crawl("-a", "url=http://127.0.0.1:9/", "-s",
                           f"NEWSARCHIVE_ARCHIVE={tmp_path}", "-s", "NEWSARCHIVE_NOARCHIVE=maybe")
    assert process.returncode == 2
    assert "NEWSARCHIVE_NOARCHIVE must be withhold or keep, got 'maybe'" in process.stderr
    assert "Traceback" not in process.stderr


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=5000), size=st.integers(1, 6000),
       coding=st.sampled_from(["gzip", "deflate", "br", "identity", "gzip, br"]))
def test_the_head_of_an_encoded_body(body, size, coding) -> None:
    """The capture reads a page's <head> from the body as received (still encoded)."""
    import gzip
    import zlib

    import brotli

    from newsarchive.warc.encodings import head

    encode = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress,
              "identity": lambda b: b}
    encoded = body
    for name in coding.split(", "):
        encoded = encode[name](encoded)
    assert head(encoded, coding, size) == body[:size]
    assert head(b"\x00not gzip", "gzip", size) == b""


# --- takedowns ------------------------------------------------------------------------


def _cli(*args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "newsarchive.cli", *args],
                          capture_output=True, text=True, timeout=300)


def _exported(archive: Path, out: Path, *options: str, overwrite: bool = True) -> dict[str, dict]:
    process = _cli("export", str(archive), "-o", str(out),
                   *(["--overwrite"] if overwrite else []), *options)
    assert process.returncode == 0, process.stderr
    with open(out / "corpus.jsonl", encoding="utf-8") as f:
        return {r["url"]: r for r in map(json.loads, f)}


@pytest.fixture
def own_archive(rights_crawl, tmp_path) -> Path:
    """A copy of the rights crawl's archive, for a test that adds to its takedown list."""
    import shutil

    archive = tmp_path / "archive"
    shutil.copytree(rights_crawl[0], archive)
    return archive


def test_export_honours_rights_filters_and_says_why_in_the_data_card(
    rights_site, rights_crawl, tmp_path
) -> None:
    archive, manifest = rights_crawl
    every = _exported(archive, tmp_path / "all")
    allowed = _exported(archive, tmp_path / "tdm", "--rights", "allow-tdm")
    gone = {rights_site.url(rights_site.article(s).path)
            for s in ("noai-licensed", "tdm-header", "well-known")}
    assert gone <= set(every) and not gone & set(allowed)
    assert set(every) - set(allowed) == gone
    card = json.loads((tmp_path / "tdm" / "datacard.json").read_text())
    assert card["rights"]["left_out"] == {"noai": 1, "tdm-reservation": 2}
    assert card["rights"]["filters"] == ["allow-tdm"]
    host = rights_site.base_url.split("//", 1)[1]
    assert card["rights"]["robots_ai"][host]["GPTBot"] == "disallowed"
    readme = (tmp_path / "tdm" / "README.md").read_text()
    assert "| tdm-reservation | 2 |" in readme and "GPTBot" in readme
    every_card = json.loads((tmp_path / "all" / "datacard.json").read_text())
    assert every_card["rights"]["exported"]["licence stated"] == 1
    assert every_card["rights"]["exported"]["tdm-reservation"] == 2


def test_a_takedown_withdraws_an_article_from_every_output_and_verify_still_passes(
    rights_site, own_archive, tmp_path
) -> None:
    from newsarchive.corpus import Corpus
    from newsarchive.storage import open_store
    from newsarchive.tools.replay import prepare_collection
    from newsarchive.tools.wacz import build_wacz

    url = rights_site.url(rights_site.article("tdm-header").path)
    before = _exported(own_archive, tmp_path / "before")
    assert url in before
    done = _cli("takedown", str(own_archive), url + "?utm_source=mail", "--reason",
                "publisher request #12", "--by", "legal@example.org")
    assert done.returncode == 0, done.stderr
    after = _exported(own_archive, tmp_path / "after")
    assert set(before) - set(after) == {url}
    # the same export run again, as a schedule would, follows the takedown unasked
    again = _exported(own_archive, tmp_path / "before", overwrite=False)
    assert set(again) == set(after)
    card = json.loads((tmp_path / "after" / "datacard.json").read_text())
    assert card["rights"]["left_out"] == {"takedown": 1}
    assert url not in {r["url"] for r in Corpus(str(own_archive)).records()}
    stats = _cli("stats", str(own_archive), "--json")
    assert json.loads(stats.stdout)["articles"] == len(before) - 1
    show = _cli("show", str(own_archive), url)
    assert show.returncode == 2 and "was taken down" in show.stderr
    assert "legal@example.org: publisher request #12" in show.stderr

    store = open_store(str(own_archive))
    manifest = load_manifest(own_archive)
    package = build_wacz(store, manifest["crawl_id"], tmp_path / "crawl.wacz")
    assert package.pages == len(after)
    import zipfile

    with zipfile.ZipFile(tmp_path / "crawl.wacz") as z:
        warcs = [n for n in z.namelist() if n.endswith(".warc.gz")]
        for name in warcs:
            (tmp_path / "w.warc.gz").write_bytes(z.read(name))
            with open(tmp_path / "w.warc.gz", "rb") as f:
                uris = {r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(f)}
            assert url not in uris
    collection = prepare_collection(store, tmp_path / "replay")
    indexed = "".join(p.read_text() for p in (collection.folder / "indexes").iterdir())
    assert url not in indexed and rights_site.url("/") in indexed

    verify = _cli("verify", str(own_archive))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "takedown list: 1 file(s), ok" in verify.stdout
    listed = _cli("takedown", str(own_archive), "--list")
    assert "publisher request #12" in listed.stdout and url in listed.stdout

    undo = _cli("takedown", str(own_archive), url, "--undo", "--reason", "licence agreed")
    assert undo.returncode == 0, undo.stderr
    assert url in _exported(own_archive, tmp_path / "again")
    assert "0 article(s) withdrawn" in _cli("takedown", str(own_archive), "--list").stderr


def test_a_takedown_by_record_id_and_its_refusals(rights_site, own_archive) -> None:
    records = {r["url"]: r for r in text_records(own_archive, load_manifest(own_archive))}
    url = rights_site.url(rights_site.article("noai-licensed").path)
    done = _cli("takedown", str(own_archive), records[url]["id"][:10], "--reason", "x")
    assert done.returncode == 0, done.stderr
    assert f"withdrawn: {url}" in done.stdout
    for args, needle in [
        ((url,), "--reason is required"),
        ((), "name at least one article"),
        (("deadbeefdeadbeef", "--reason", "x"), "no article with id"),
        (("--list", url), "--list takes no URL-OR-ID"),
    ]:
        refused = _cli("takedown", str(own_archive), *args)
        assert refused.returncode == 2 and needle in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr


@pytest.mark.parametrize("steps", [
    ("takedown", "undo"), ("takedown", "undo", "takedown"), ("undo", "takedown"),
])
def test_the_latest_takedown_entry_wins_within_one_second(tmp_path, steps) -> None:
    """A script takes an article down and restores it at once: the entries read back in
    the order they were written (their files' names sorted by the second, then by a
    random suffix, could put the undo first)."""
    from newsarchive.rights import takedowns
    from newsarchive.storage import open_store

    url = "https://news.example/2026/11/30/story"
    for attempt in range(5):  # each a fresh archive: the random suffixes differ
        store = open_store(str(tmp_path / f"archive-{attempt}"))
        for action in steps:
            takedowns.append(store, [takedowns.entry(action, url, url, "r", "me")])
        assert takedowns.Withdrawn.load(store).url(url) is (steps[-1] == "takedown")


def test_a_damaged_takedown_manifest_is_one_clear_error(tmp_path) -> None:
    from newsarchive.errors import StorageError
    from newsarchive.rights import takedowns
    from newsarchive.storage import open_store

    manifest = tmp_path / "archive" / "takedowns" / "20261130T000000Z-aaaaaa.json"
    manifest.parent.mkdir(parents=True)
    store = open_store(str(tmp_path / "archive"))
    for body in (b'{"files": {"key": "x"}}', b'{"files": ["x"]}', b"[]", b"{", b"\xff"):
        manifest.write_bytes(body)
        with pytest.raises(StorageError, match="is damaged"):
            takedowns.entries(store)


def test_a_damaged_takedown_file_stops_readers_and_fails_verify(
    rights_site, own_archive, tmp_path
) -> None:
    url = rights_site.url(rights_site.article("tdm-header").path)
    assert _cli("takedown", str(own_archive), url, "--reason", "x").returncode == 0
    entries = next((own_archive / "takedowns").glob("*.jsonl"))
    entries.write_bytes(entries.read_bytes().replace(b"takedown", b"takedowX", 1))
    verify = _cli("verify", str(own_archive))
    assert verify.returncode == 1 and "sha256 differs" in verify.stdout
    export = _cli("export", str(own_archive), "-o", str(tmp_path / "out"))
    assert export.returncode == 2 and "does not match its manifest" in export.stderr
    assert "Traceback" not in export.stderr


def test_a_withdrawn_article_is_not_served_by_pywb(
    rights_site, own_archive, pywb_venv  # noqa: F811 - the fixture imported above
):
    """The real replay: pywb started by `newsarchive replay` serves the other articles
    and answers 404 for the withdrawn one (its captures left out of the indexes)."""
    from newsarchive.tools import replay
    from tests.test_replay import _get, replaying

    records = {r["url"]: r for r in text_records(own_archive, load_manifest(own_archive))}
    gone = rights_site.url(rights_site.article("tdm-header").path)
    kept = rights_site.url(rights_site.article("other-bot").path)
    assert _cli("takedown", str(own_archive), gone, "--reason", "x").returncode == 0

    def stamp(url: str) -> str:
        return "".join(c for c in records[url]["fetched_at"] if c.isdigit())[:14]

    with replaying(own_archive, pywb_venv, own_archive.parent) as base:
        assert _get(replay.replay_url(base, stamp(kept), kept, "id_"))[0] == 200
        assert _get(replay.replay_url(base, stamp(gone), gone, "id_"))[0] == 404
