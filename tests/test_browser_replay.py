"""An archived article looks, replayed, as it looked live: headless Chromium draws a
sample-site article live and from the archive, through pywb (`newsarchive replay`) and
through ReplayWeb.page (the crawl's `newsarchive wacz` package), and the screenshots
are compared pixel by pixel.

The sample site's article embeds what real news pages do: a stylesheet with a web font
and a background image, a lead picture in ``<picture>``/``srcset`` on a second host
(a CDN), a lazily loaded chart (``data-src``/``data-srcset``, moved by a script), an
icon. The site keeps running during the replays so that it can count: a replay that
fetched anything from it or its CDN fails the test.

The threshold: at most ``MAX_DIFFERENT`` of the pixels may differ by more than
``TOLERANCE`` (of 255) in any channel. Replay draws the same bytes with the same
engine, so the two match exactly or nearly; the slack absorbs anti-aliasing and the
few pixels pywb's frame moves the fixed cookie banner by. pywb shows the page in a
frame under its banner: the banner's height is found and cut off, and the live page is
drawn again in a window as tall as the frame. As a control, the same article archived
with ``NEWSARCHIVE_REQUISITES=off`` must differ by far more than the threshold: the
comparison can fail.

ReplayWeb.page runs in the browser: a page on 127.0.0.1 (a secure context, where a
service worker may register) embeds ``<replay-web-page embed="replayonly">`` with the
WACZ as its source; its ui.js and its service worker (replay/sw.js) come from the npm
package that .ci/run fetches, served with the WACZ by a static server that answers
byte ranges (ReplayWeb.page reads the package in pieces). ``--screenshot`` does not
wait for a service worker, so that Chromium is driven over the DevTools protocol
(tests/browser.py) and shot once the replayed frame has loaded its fonts and images
and stopped changing.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
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
    DevTools,
    chromium,
    different_share,
    screenshot,
)
from tests.helpers import ROOT, load_manifest, scrapy_crawl, unavailable
from tests.serving import StaticFiles
from tests.test_replay import pywb_venv  # noqa: F401 (a fixture)
from tests.test_replay import replaying as wayback

pytestmark = pytest.mark.e2e  # real crawls and servers

# ReplayWeb.page's npm package, which .ci/run fetches with `npm pack` into CACHE (the
# test itself never touches the network)
REPLAYWEBPAGE = "2.5.3"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsarchive-tests"
RELOAD_AFTER = 20  # seconds without the frame before the page is opened again
LOAD_TIMEOUT = 90  # seconds for ReplayWeb.page to show the article: a bound, not a figure


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


# ReplayWeb.page, from the WACZ

EMBED = """<!doctype html>
<html><head><meta charset="utf-8"><title>{mode}</title>
<script src="ui.js"></script>
<style>
html, body {{ margin: 0; height: 100%; overflow: hidden; }}
replay-web-page {{ display: block; width: 100vw; height: 100vh; }}
</style></head>
<body><replay-web-page source="{source}" url="{url}" embed="replayonly"
  replayBase="./replay/"></replay-web-page></body></html>
"""

# the document, its web fonts and its images have loaded (a broken image is complete too)
LOADED = """document.readyState === "complete" && document.fonts.status === "loaded"
  && Array.from(document.images).every((img) => img.complete)"""


@pytest.fixture(scope="module")
def replaywebpage() -> Path:
    """ReplayWeb.page's ui.js and sw.js, as .ci/run unpacked them from the npm registry."""
    bundle = CACHE / f"replaywebpage-{REPLAYWEBPAGE}" / "package"
    if not all((bundle / name).is_file() for name in ("ui.js", "sw.js")):
        unavailable(f"ReplayWeb.page {REPLAYWEBPAGE} is not in {bundle} "
                    f"(.ci/run fetches it: npm pack replaywebpage@{REPLAYWEBPAGE})")
    return bundle


def _wacz(archive: Path, out: Path) -> None:
    """`newsarchive wacz` of the archive's one crawl."""
    process = subprocess.run(
        [sys.executable, "-m", "newsarchive.cli", "wacz", str(archive),
         load_manifest(archive)["crawl_id"], "-o", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert process.returncode == 0, process.stderr[-3000:]


def drawn(tools: DevTools, url: str, is_frame: Callable[[str], bool], what: str) -> Image.Image:
    """Open url and return the screenshot of the window once the frame whose URL
    is_frame picks (the page itself, or ReplayWeb.page's replay of it) has loaded its
    document, fonts and images and two screenshots in a row are the same. Bounded: a
    page that never shows or never settles fails, naming the frames that were there.

    A page whose frame has not appeared after ``RELOAD_AFTER`` seconds is opened once
    more, as a reader would reload it: ReplayWeb.page's service worker, installed on
    the first load, at times never serves that load's replay frame (about one run in
    three of the control's page on this machine), and serves the next."""
    tools.send("Page.navigate", page=True, url=url)
    start = time.monotonic()
    deadline, reloaded = start + LOAD_TIMEOUT, False
    while True:
        frames = tools.frames()
        frame = next((f for f in frames if is_frame(f["url"])), None)
        if frame is None and not reloaded and time.monotonic() > start + RELOAD_AFTER:
            tools.send("Page.navigate", page=True, url=url)
            reloaded = True
        try:
            if frame and tools.evaluate(frame["id"], LOADED):
                break
        except RuntimeError:  # the frame navigated away while asked: ask again
            pass
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{what}: the page did not finish loading within {LOAD_TIMEOUT} s; "
                f"frames: {[f['url'] for f in frames]}")
        time.sleep(0.25)
    shot = tools.screenshot()
    for _ in range(40):
        time.sleep(0.25)
        shot, previous = tools.screenshot(), shot
        if shot.tobytes() == previous.tobytes():
            return shot
    raise AssertionError(f"{what}: the window was still changing 10 s after the load")


@pytest.fixture(scope="module")
def replaywebpage_renderings(replaywebpage, site, crawls, article_url, tmp_path_factory):
    """Screenshots of one article: live, and replayed by ReplayWeb.page from the WACZ of
    each crawl, embedded (``embed="replayonly"``: the page alone, no ReplayWeb.page
    controls) in a page served from 127.0.0.1, a secure context where a service
    worker may run. Both windows are the same size, so no offset to cut."""
    tmp = tmp_path_factory.mktemp("replaywebpage")
    served = tmp / "served"
    (served / "replay").mkdir(parents=True)
    shutil.copy(replaywebpage / "ui.js", served)
    # replay/ holds the service worker, whose scope it is; the replay frame's page
    # (which the worker makes up) loads ./ui.js from there too
    for name in ("sw.js", "ui.js"):
        shutil.copy(replaywebpage / name, served / "replay")
    for mode, archive in crawls.items():
        _wacz(archive, served / f"{mode}.wacz")
        (served / f"{mode}.html").write_text(EMBED.format(
            mode=mode, source=f"{mode}.wacz", url=html.escape(article_url)))
    with DevTools(tmp / "profile-live") as tools:
        shots = {"live": drawn(tools, article_url, lambda u: u == article_url,
                               "the live article")}
    asked = _asked(site)
    with StaticFiles(served) as static:
        for mode in crawls:
            with DevTools(tmp / f"profile-{mode}") as tools:
                what = f"ReplayWeb.page showing {mode}.wacz"
                try:
                    # ReplayWeb.page's replay frame: .../replay/w/<collection>/<14-digit
                    # timestamp>mp_/<the archived URL>
                    shots[mode] = drawn(
                        tools, f"{static.base_url}/{mode}.html",
                        lambda u: "/replay/w/" in u and u.endswith("mp_/" + article_url),
                        what)
                except AssertionError as e:
                    raise AssertionError(
                        f"{e}; asked of {static.base_url}: {static.requested[-30:]}"
                    ) from None
    # nothing of the replays came from the live site or its CDN
    assert _asked(site) == asked
    for name, image in shots.items():
        image.save(tmp / f"{name}.png")
    figures = {mode: different_share(shots["live"], shots[mode]) for mode in crawls}
    (tmp / "figures.json").write_text(json.dumps(figures))
    print(f"ReplayWeb.page: share of pixels that differ from the live page: {figures}")
    return shots, figures, static.requested


def test_replaywebpage_shows_the_archived_article_as_it_was_live(replaywebpage_renderings):
    _, figures, _ = replaywebpage_renderings
    assert figures["articles"] <= MAX_DIFFERENT, figures


def test_replaywebpage_without_requisites_does_not(replaywebpage_renderings):
    """The control: the WACZ of HTML alone replays unstyled, far past the threshold."""
    _, figures, _ = replaywebpage_renderings
    assert figures["off"] > 20 * MAX_DIFFERENT, figures


def test_replaywebpage_read_the_wacz_by_ranges(replaywebpage_renderings):
    """ReplayWeb.page read the packages in pieces, as from any static host."""
    _, _, requested = replaywebpage_renderings
    for mode in ("articles", "off"):
        ranges = [asked for path, asked in requested if path == f"/{mode}.wacz" and asked]
        assert len(ranges) >= 3, requested


def test_ci_fetches_the_replaywebpage_the_test_looks_for():
    """.ci/run unpacks the version this module names, where it looks for it."""
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"\nrwp_version={REPLAYWEBPAGE}\n" in ci
    assert '/.cache}/newsarchive-tests/replaywebpage-$rwp_version"' in ci
