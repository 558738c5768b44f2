"""An archived article looks, replayed, as it looked live: headless Chromium draws a
sample-site article live and from the archive through pywb (`newsarchive replay`), and
the two screenshots are compared pixel by pixel.

The sample site's article embeds what real news pages do: a stylesheet with a web font
and a background image, a lead picture in ``<picture>``/``srcset`` on a second host
(a CDN), a lazily loaded chart (``data-src``/``data-srcset``, moved by a script), an
icon. The site is stopped before the replay, so nothing can come from it live.

The threshold: at most ``MAX_DIFFERENT`` of the pixels may differ by more than
``TOLERANCE`` (of 255) in any channel. Replay draws the same bytes with the same
engine, so the two match exactly in practice; the slack absorbs anti-aliasing
differences between two renderings. pywb's ``mp_`` mode (the page itself, without its
framing top bar) is screenshotted, so there is no banner to leave out. As a control,
the same article archived with ``NEWSARCHIVE_REQUISITES=off`` must differ by far more
than the threshold: the comparison can fail.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from newsarchive.sample_site import SampleSite
from newsarchive.tools import replay
from newsarchive.warc import cdxj
from tests.browser import (
    HEIGHT,
    MAX_DIFFERENT,
    WIDTH,
    chromium,
    different_share,
    screenshot,
)
from tests.helpers import load_manifest, scrapy_crawl
from tests.test_replay import pywb_venv  # noqa: F401 (a fixture)
from tests.test_replay import replaying as wayback

pytestmark = pytest.mark.e2e  # real crawls and servers

def _timestamp(archive: Path, url: str) -> str:
    manifest = load_manifest(archive)
    for entry in manifest["files"]:
        if entry["kind"] == "cdxj":
            found = cdxj.lookup(cdxj.parse_index((archive / entry["key"]).read_text()), url)
            if found:
                return found[0].timestamp
    raise AssertionError(f"{url} is not in the indexes")


def banner_height(replayed: Image.Image, live: Image.Image) -> int:
    """How far pywb's banner pushes the page down: the offset at which the replayed
    page's top rows match the live page's."""
    probe = live.crop((0, 0, WIDTH, 300))
    best = min(
        range(0, 400),
        key=lambda b: different_share(replayed.crop((0, b, WIDTH, b + 300)), probe),
    )
    return best


def _asked(site: SampleSite) -> tuple[int, int]:
    """How many requests the live site and its CDN have answered so far."""
    return len(site.requests), len(site.cdn_requests)


@pytest.fixture(scope="module")
def site():
    chromium()  # without a browser, skip before crawling
    with SampleSite() as site:
        yield site


@pytest.fixture(scope="module")
def article_url(site) -> str:
    article = next(a for a in site.articles if a.section == "world" and a.lang == "en")
    return site.url(article.path)


@pytest.fixture(scope="module")
def crawls(site, tmp_path_factory) -> dict[str, Path]:
    """The sample site crawled with requisites (the default) and without (the control)."""
    tmp = tmp_path_factory.mktemp("crawls")
    archives = {}
    for mode in ("articles", "off"):
        archive = tmp / f"archive-{mode}"
        process = scrapy_crawl(
            "-a", f"url={site.base_url}/", "-s", f"NEWSARCHIVE_ARCHIVE={archive}",
            "-s", "NEWSARCHIVE_EXTRACT=False", "-s", f"NEWSARCHIVE_REQUISITES={mode}",
        )
        assert process.returncode == 0, process.stderr[-3000:]
        archives[mode] = archive
    return archives


@pytest.fixture(scope="module")
def renderings(site, crawls, article_url, pywb_venv, tmp_path_factory):  # noqa: F811
    """Screenshots of one article: live, replayed by pywb, and replayed without
    requisites.

    The replayed page sits in pywb's frame, under its banner: the live page is drawn
    again in a window as tall as that frame, so that what is fixed to the bottom of
    the window (the cookie banner) lands at the same place, and the replay's banner is
    cut off before comparing."""
    tmp = tmp_path_factory.mktemp("browser")
    url = article_url
    asked = _asked(site)
    replayed = {}
    for mode, archive in crawls.items():
        work = tmp / f"replay-{mode}"
        work.mkdir()
        with wayback(archive, pywb_venv, work) as base:
            target = replay.replay_url(base, _timestamp(archive, url), url)
            replayed[mode] = screenshot(target, tmp / f"replay-{mode}.png")
    # nothing of the replays came from the live site or its CDN
    assert _asked(site) == asked
    banner = banner_height(replayed["articles"], screenshot(url, tmp / "live-full.png"))
    live = screenshot(url, tmp / "live.png", HEIGHT - banner)
    shots = {"live": live, **{
        mode: image.crop((0, banner, WIDTH, HEIGHT)) for mode, image in replayed.items()}}
    figures = {mode: different_share(live, shots[mode]) for mode in crawls}
    figures["banner"] = banner
    (tmp / "figures.json").write_text(json.dumps(figures))
    print(f"pywb: share of pixels that differ from the live page: {figures}")
    return shots, figures


def test_the_archived_article_looks_as_it_did_live(renderings):
    _, figures = renderings
    assert figures["articles"] <= MAX_DIFFERENT, figures


def test_without_requisites_it_does_not(renderings):
    """The control: HTML alone replays unstyled, far past the threshold."""
    _, figures = renderings
    assert figures["off"] > 20 * MAX_DIFFERENT, figures


def test_the_page_drew_its_requisites(renderings):
    """The live page itself shows what the comparison is about: the lead picture's
    colours and the stylesheet's background are on screen (not a blank page twice)."""
    shots, _ = renderings
    colours = {colour for _, colour in shots["live"].getcolors(WIDTH * HEIGHT) or []}
    assert (0x7F, 0xB2, 0xE5) in colours  # the world section's lead picture, from the CDN
    assert (0xF6, 0xF0, 0xE2) in colours  # the header's paper background (gazette.css)

