"""Someone else's Scrapy project with newsarchive's add-on, crawling the sample site.

The project is made in a temporary folder (its own scrapy.cfg, settings and a small
spider, nothing of newsarchive's but ``ADDONS``) and run with Scrapy's own
``scrapy crawl``, as its user would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from newsarchive.cli import main
from tests.helpers import ROOT, load_manifest, text_records

SPIDER = '''
import scrapy


class StoriesSpider(scrapy.Spider):
    name = "stories"

    def __init__(self, start: str, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [start]

    def parse(self, response):
        for href in response.css("a::attr(href)").getall():
            if "/news/" in href:  # a story: hand it to newsarchive for its text
                yield response.follow(href, self.parse_story, meta={"newsarchive_article": True})

    def parse_story(self, response):
        yield {"url": response.url, "title": response.css("title::text").get()}
'''

SETTINGS = '''
BOT_NAME = "elsewhere"
SPIDER_MODULES = ["elsewhere.spiders"]
ADDONS = {"newsarchive.NewsArchiveAddon": 0}
NEWSARCHIVE_EXTRACT_WORKERS = 1
AUTOTHROTTLE_ENABLED = False
'''


def _project(folder: Path) -> Path:
    (folder / "elsewhere" / "spiders").mkdir(parents=True)
    (folder / "scrapy.cfg").write_text("[settings]\ndefault = elsewhere.settings\n")
    (folder / "elsewhere" / "__init__.py").write_text("")
    (folder / "elsewhere" / "settings.py").write_text(SETTINGS)
    (folder / "elsewhere" / "spiders" / "__init__.py").write_text("")
    (folder / "elsewhere" / "spiders" / "stories.py").write_text(textwrap.dedent(SPIDER))
    return folder


def _warc_records(paths: list[Path]) -> list[tuple[str, str]]:
    records = []
    for path in paths:
        with path.open("rb") as f:
            for record in ArchiveIterator(f):
                records.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI")))
    return records


def test_a_foreign_project_gets_warcs_and_text(sample_site, tmp_path) -> None:
    project = _project(tmp_path / "project")
    archive = tmp_path / "archive"
    items = tmp_path / "items.jsonl"
    # This checkout's newsarchive, whatever is installed; the project's own folder first.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(project), str(ROOT)])}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    process = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "stories",
         "-a", f"start={sample_site.base_url}/", "-s", f"NEWSARCHIVE_ARCHIVE={archive}",
         "-s", "LOG_LEVEL=DEBUG", "-o", str(items)],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    manifest = load_manifest(archive)
    warcs = [archive / f["key"] for f in manifest["files"] if f["kind"] == "warc"]
    assert warcs
    records = _warc_records(warcs)
    requests = {url for kind, url in records if kind == "request"}
    responses = {url for kind, url in records if kind == "response"}

    # Every exchange Scrapy logged, robots.txt included, is in the WARC files.
    fetched = set(re.findall(r"Crawled \(\d+\) <GET (\S+)>", process.stderr))
    assert f"{sample_site.base_url}/robots.txt" in fetched
    assert len(fetched) > 3
    assert fetched <= requests
    assert fetched <= responses

    # A text record for each page the spider handed over, none for the others.
    handed = {url for url in fetched if "/news/" in url}
    assert handed
    texts = text_records(archive, manifest)
    # Each handed-over page gave a text record or a counted reason (the sample site
    # has an empty story and a non-HTML one); none came from another page.
    assert {r["url"] for r in texts} <= handed
    assert len(texts) >= len(handed) - 2
    assert len(texts) + sum(manifest["counts"]["discarded"].values()) == len(handed)
    assert all(r["warc"]["record_id"] and r["text"] for r in texts)
    assert {r["site"] for r in texts} == {"127.0.0.1"}
    # what the publisher allows is recorded for a foreign spider's pages as for ours
    assert all(isinstance(r["rights"], dict) and "sources" in r["rights"] for r in texts)
    # The spider's own items went to its own feed, untouched.
    assert len(items.read_text().splitlines()) == len(handed)

    verified = CliRunner().invoke(main, ["verify", str(archive)])
    assert verified.exit_code == 0, verified.output
    assert "all good" in verified.output


@pytest.mark.e2e
def test_the_foreign_project_runs_this_checkout(tmp_path) -> None:
    """The crawl above imports newsarchive from this checkout, not an installed copy."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    found = subprocess.run(
        [sys.executable, "-c", "import newsarchive.crawl.addon as a; print(a.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert Path(found).is_relative_to(ROOT)

