"""CDXJ indexes: what goes in, sort order, and lookups that land on the right record."""

from __future__ import annotations

import io

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive.storage import open_store
from newsarchive.warc import cdxj
from newsarchive.warc.writer import RevisitOf
from tests.test_warc import EXCHANGE, GZIP_EXCHANGE, fixed_writer


def test_index_of_a_written_file(tmp_path):
    closed: list = []
    writer = fixed_writer(tmp_path, closed)
    first = writer.write_exchange(GZIP_EXCHANGE)
    second = writer.write_exchange(EXCHANGE)
    writer.write_metadata(EXCHANGE.url, [("outlink", "http://a/")], second.record_id)
    revisit = writer.write_revisit(
        GZIP_EXCHANGE, RevisitOf(GZIP_EXCHANGE.url, first.date, first.payload_digest)
    )
    writer.close()
    path = closed[0][0]
    index_path, lines = cdxj.write_index(path)
    assert index_path.name == path.name.removesuffix(".warc.gz") + ".cdxj"
    text = index_path.read_text()
    assert text.splitlines() == sorted(text.splitlines())
    entries = cdxj.parse_index(text)
    assert lines == len(entries) == 3  # two responses and the revisit; no request/metadata
    assert {(e.offset, e.length) for e in entries} == {
        (first.offset, first.length), (second.offset, second.length),
        (revisit.offset, revisit.length),
    }
    assert all(e.filename == path.name for e in entries)
    (plain,) = cdxj.lookup(entries, EXCHANGE.url)
    assert plain.urlkey == "1,0,0,127:8000)/news/a.html?x=1"  # SURT, as pywb computes it
    assert plain.timestamp == "20261126120000"
    assert plain.fields["mime"] == "text/html" and plain.fields["status"] == "200"
    assert plain.fields["digest"] == second.payload_digest
    mimes = [e.fields["mime"] for e in cdxj.lookup(entries, GZIP_EXCHANGE.url)]
    assert sorted(mimes) == ["text/html", "warc/revisit"]
    assert cdxj.lookup(entries, "http://127.0.0.1:8000/nothing") == []


def test_index_ignores_py_wacz_changing_the_shared_defaults(tmp_path):
    import wacz.waczindexer  # noqa: F401  (appends "warcinfo" to cdxj-indexer's defaults)

    closed: list = []
    writer = fixed_writer(tmp_path, closed, warcinfo={"software": "test"})
    writer.write_exchange(EXCHANGE)
    writer.close()
    entries = cdxj.parse_index(cdxj.index_warc(closed[0][0], "x.warc.gz"))
    assert [e.url for e in entries] == [EXCHANGE.url]


def test_surt_keys():
    assert cdxj.surt_key("https://www.Example.org/a?b=2&a=1") == "org,example)/a?a=1&b=2"


def test_index_key_and_bad_lines():
    assert cdxj.index_key("warc/c/a-1.warc.gz") == "warc/c/a-1.cdxj"
    with pytest.raises(ValueError):
        cdxj.index_key("warc/c/a-1.warc")
    with pytest.raises(ValueError):
        cdxj.parse_line("com,example)/ 2026 not-json")


def test_every_archived_url_is_found_through_the_index(crawl):
    """Each response in a crawl's WARCs: looked up by URL, read back by range request."""
    store = open_store(str(crawl.archive))
    keys = {e["key"]: e["kind"] for e in crawl.manifest["files"]}
    checked = 0
    for key in (k for k, kind in keys.items() if kind == "warc"):
        entries = cdxj.parse_index(store.read_bytes(cdxj.index_key(key)).decode())
        with store.open(key) as f:
            urls = [
                r.rec_headers.get_header("WARC-Target-URI")
                # revisits too: identical page requisites under two URLs (one payload)
                for r in ArchiveIterator(f) if r.rec_type in ("response", "revisit")
            ]
        assert len(entries) == len(urls)
        for url in urls:
            (entry,) = cdxj.lookup(entries, url)
            chunk = store.read_range(key, entry.offset, entry.length)
            record = next(iter(ArchiveIterator(io.BytesIO(chunk))))
            assert record.rec_type in ("response", "revisit")
            assert record.rec_headers.get_header("WARC-Target-URI") == url
            assert entry.fields["digest"] == record.rec_headers.get_header("WARC-Payload-Digest")
            checked += 1
    assert checked == crawl.manifest["counts"]["warc_exchanges"]
