"""Headless Chromium for the browser tests: finding it, screenshots (by its command line,
or driven over the DevTools protocol when a page must be waited for), and the pixel
comparison the replay tests share."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops

from tests.helpers import unavailable

WIDTH, HEIGHT = 1280, 1600
TOLERANCE = 48  # per channel, of 255
MAX_DIFFERENT = 0.005  # share of the pixels

# the last two keep Chromium's own update and field-trial fetches off the network
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--disable-extensions", "--force-device-scale-factor=1",
         "--disable-background-networking", "--disable-component-update")


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


class DevTools:
    """One headless Chromium driven over the DevTools protocol, on the pipe Chromium
    opens with ``--remote-debugging-pipe`` (it reads commands on fd 3 and writes on fd 4,
    each message JSON ended by a NUL byte): no port, no websocket library.

    ``--screenshot`` with ``--virtual-time-budget`` shoots when the virtual clock runs
    out, but a service worker and its fetches run outside that clock: a page replayed by
    ReplayWeb.page is drawn blank. Driven by hand, a test can wait for the frame it
    means and shoot when it is drawn."""

    def __init__(self, profile: Path, width: int = WIDTH, height: int = HEIGHT) -> None:
        to_chromium, commands = os.pipe()
        events, from_chromium = os.pipe()
        self._log = open(f"{profile}.log", "w+")
        # bash puts the two pipe ends on the fds Chromium expects (dash cannot name
        # fds above 9 in a redirection)
        self._process = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{to_chromium} 4>&{from_chromium}', chromium(),
             *FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile}",
             "--remote-debugging-pipe", "about:blank"],
            pass_fds=(to_chromium, from_chromium), stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        os.close(to_chromium)
        os.close(from_chromium)
        self._commands = os.fdopen(commands, "wb", buffering=0)
        self._events = events
        self._received = b""
        self._last_id = 0
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"]
        self.send("Emulation.setDeviceMetricsOverride", page=True, width=width,
                  height=height, deviceScaleFactor=1, mobile=False)
        self.send("Page.enable", page=True)

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._received:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer over DevTools")
            if select.select([self._events], [], [], left)[0]:
                chunk = os.read(self._events, 1 << 20)
                if not chunk:
                    raise EOFError(f"Chromium exited: {self.log_tail()}")
                self._received += chunk
        message, self._received = self._received.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, page: bool = False, timeout: float = 30,
             **params: Any) -> dict[str, Any]:
        """Call one DevTools method (on the page's session with page=True) and return
        its result; events arriving meanwhile are dropped (nothing here needs them)."""
        self._last_id += 1
        message: dict[str, Any] = {"id": self._last_id, "method": method, "params": params}
        if page:
            message["sessionId"] = self._session
        self._commands.write(json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._message(deadline)
            if answer.get("id") == self._last_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]

    def frames(self) -> list[dict[str, Any]]:
        """Every frame of the page, nested ones included (same-origin iframes are in
        the page's process, so in its frame tree)."""
        found, todo = [], [self.send("Page.getFrameTree", page=True)["frameTree"]]
        while todo:
            node = todo.pop()
            found.append(node["frame"])
            todo.extend(node.get("childFrames", ()))
        return found

    def evaluate(self, frame_id: str, expression: str) -> Any:
        """The value of a JavaScript expression in one frame (in a world of its own, so
        the page's scripts cannot interfere)."""
        context = self.send("Page.createIsolatedWorld", page=True, frameId=frame_id)[
            "executionContextId"]
        result = self.send("Runtime.evaluate", page=True, expression=expression,
                           contextId=context, returnByValue=True, awaitPromise=True)
        return result["result"].get("value")

    def screenshot(self) -> Image.Image:
        data = self.send("Page.captureScreenshot", page=True, format="png")["data"]
        return Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")

    def log_tail(self) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read()[-2000:]

    def close(self) -> None:
        with contextlib.suppress(OSError, TimeoutError, RuntimeError, EOFError):
            self.send("Browser.close", timeout=10)
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, 9)
            self._process.wait()
        self._commands.close()
        os.close(self._events)
        self._log.close()

    def __enter__(self) -> DevTools:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
