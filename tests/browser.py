"""Headless Chromium for the browser tests: finding it, screenshots, and the pixel
comparison the replay tests share."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from PIL import Image, ImageChops

from tests.helpers import unavailable

WIDTH, HEIGHT = 1280, 1600
TOLERANCE = 48  # per channel, of 255
MAX_DIFFERENT = 0.005  # share of the pixels

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--disable-extensions", "--force-device-scale-factor=1")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    unavailable("headless Chromium is not installed (Debian: apt-get install chromium)")
    raise AssertionError  # unreachable: unavailable() skips or fails


def screenshot(url: str, out: Path, height: int = HEIGHT) -> Image.Image:
    """The page at url as headless Chromium draws it, once its load settled."""
    process = subprocess.run(
        [chromium(), *FLAGS, f"--window-size={WIDTH},{height}", "--virtual-time-budget=8000",
         f"--user-data-dir={out.parent / ('profile-' + out.stem)}",
         f"--screenshot={out}", url],
        capture_output=True, text=True, timeout=120,
    )
    assert out.exists(), process.stderr[-2000:]
    return Image.open(out).convert("RGB")


def different_share(a: Image.Image, b: Image.Image) -> float:
    """The share of pixels that differ by more than TOLERANCE in a channel."""
    assert a.size == b.size
    diff = ImageChops.difference(a, b)
    mask = Image.eval(diff, lambda v: 255 if v > TOLERANCE else 0).convert("L")
    mask = mask.point(lambda v: 255 if v else 0)
    changed = mask.histogram()[255]
    return changed / (a.size[0] * a.size[1])

