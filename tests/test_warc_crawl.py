"""The WARC files of a real crawl: a second reader, metadata records, indexes listed."""

from __future__ import annotations

import subprocess
from collections import Counter

from fastwarc.warc import ArchiveIterator as FastIterator
from fastwarc.warc import WarcRecordType
from warcio.archiveiterator import ArchiveIterator

from newsarchive.warc.cdxj import index_key


def warcio_records(path):
    with open(path, "rb") as f:
        return [
            (r.rec_type, dict(r.rec_headers.headers), r.content_stream().read())
            for r in ArchiveIterator(f)
        ]


def test_every_warc_passes_warcio_check_and_a_second_reader(crawl):
    warcs = crawl.files("warc")
    assert warcs
    check = subprocess.run(["warcio", "check", *map(str, warcs)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    for path in warcs:
        ours = Counter(rec_type for rec_type, _, _ in warcio_records(path))
        with open(path, "rb") as f:
            theirs = Counter()
            for record in FastIterator(
                f, record_types=WarcRecordType.any_type, parse_http=False
            ):
                assert record.verify_block_digest(), record.record_id
                theirs[str(record.record_type)] += 1
        assert theirs == ours, path
        entry = next(e for e in crawl.manifest["files"] if e["key"].endswith(path.name))
        assert sum(ours.values()) == entry["records"]


def test_each_page_has_a_metadata_record_beside_its_response(crawl, sample_site):
    base = sample_site.base_url
    responses = {}
    metadata = []
    for path in crawl.files("warc"):
        for rec_type, headers, block in warcio_records(path):
            if rec_type in ("response", "revisit"):  # revisit: a duplicate requisite payload
                responses[headers["WARC-Record-ID"]] = headers
            elif rec_type == "metadata":
                metadata.append((headers, block.decode()))
    assert metadata
    by_url = {}
    for headers, block in metadata:
        response = responses[headers["WARC-Concurrent-To"]]
        assert response["WARC-Target-URI"] == headers["WARC-Target-URI"]
        assert response["WARC-Date"] == headers["WARC-Date"]
        assert headers["Content-Type"] == "application/warc-fields"
        fields = [line.split(": ", 1) for line in block.split("\r\n") if line]
        by_url[headers["WARC-Target-URI"]] = fields
        assert ["crawl-id", crawl.manifest["crawl_id"]] in fields
    home = dict((k, v) for k, v in by_url[f"{base}/"] if k != "outlink")
    assert home["discovery"] == "start"
    home_links = {v for k, v in by_url[f"{base}/"] if k == "outlink"}
    assert f"{base}/section/world/" in home_links
    assert f"{base}/feed.xml" in home_links
    # Every article has its record, and knows it was found by a link or the feed.
    for url in sample_site.article_urls():
        discovery = dict(by_url[url])["discovery"]
        assert discovery in ("link", "feed", "sitemap", "start"), (url, discovery)


def test_manifest_lists_an_index_for_every_warc(crawl):
    files = {e["key"]: e for e in crawl.manifest["files"]}
    warcs = [k for k, e in files.items() if e["kind"] == "warc"]
    assert warcs
    for key in warcs:
        index = files[index_key(key)]
        assert index["kind"] == "cdxj"
        assert index["records"] == sum(
            1 for line in (crawl.archive / index["key"]).read_text().splitlines() if line
        )
