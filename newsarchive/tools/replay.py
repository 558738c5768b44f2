"""Replaying the archive in a browser with pywb, the webrecorder replay engine.

pywb does not install beside Scrapy (its pins clash, and its command fails resolving
zope.interface there), so it lives in a virtual environment of its own, created on
first use under the user cache and reused after. A pywb collection is laid out from
the archive through the Store (a folder or a bucket): the crawls' WARC files under
``archive/`` and their CDXJ indexes, as written at crawl time, under ``indexes/`` — so
replay also proves those indexes right. ``wayback`` then serves it on 127.0.0.1.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import venv
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from newsarchive.archive import layout
from newsarchive.archive.manifest import DamagedManifest
from newsarchive.archive.summary import crawl_ids, load_manifest, text_records
from newsarchive.errors import ConfigError, NewsarchiveError, StorageError
from newsarchive.rights.takedowns import Withdrawn
from newsarchive.storage import Store
from newsarchive.warc import cdxj

logger = logging.getLogger(__name__)

PYWB_REQUIREMENT = "pywb==2.10.0"
COLLECTION = "newsarchive"
_READY = ".newsarchive-ready"  # written last: a venv without it is rebuilt


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsarchive"


def default_venv() -> Path:
    return cache_dir() / "pywb-venv"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process at a time builds a venv (parallel test runs share the cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def wayback_path(env: Path) -> Path:
    return env / "bin" / "wayback"


def ensure_pywb(env: Path | None = None, requirement: str = PYWB_REQUIREMENT) -> Path:
    """A virtual environment with pywb at env (default: the user cache); returns it.

    Reused when a previous call finished it; otherwise (re)created with pip, which
    needs the package index (about 20 s on a cold cache).
    """
    env = (env or default_venv()).expanduser().absolute()
    with _locked(env):
        marker = env / _READY
        if marker.exists() and marker.read_text().strip() == requirement:
            return env
        if env.exists():
            shutil.rmtree(env)
        logger.info("creating a virtual environment for pywb in %s (%s)", env, requirement)
        venv.EnvBuilder(with_pip=True, clear=True).create(env)
        install = subprocess.run(
            [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", requirement],
            capture_output=True, text=True,
        )
        if install.returncode != 0 or not wayback_path(env).exists():
            tail = (install.stderr or install.stdout).strip().splitlines()[-1:] or ["?"]
            raise NewsarchiveError(f"installing {requirement} into {env} failed: {tail[0]}")
        marker.write_text(requirement + "\n")
    return env


@dataclass(frozen=True)
class Collection:
    root: Path  # pywb's working folder (holds collections/)
    name: str
    crawl_ids: list[str]
    warcs: int
    skipped: list[str] = field(default_factory=list)  # damaged crawls left out, one line each

    @property
    def folder(self) -> Path:
        return self.root / "collections" / self.name


def prepare_collection(
    store: Store, root: Path, crawls: list[str] | None = None, name: str = COLLECTION
) -> Collection:
    """Lay out a pywb collection of some crawls (default: every complete crawl).

    Without ``crawls``, a crawl whose manifest is damaged is left out (named in
    ``skipped``), not a refusal of the whole archive; a listed index that is missing or
    unreadable is rebuilt from its WARC, as for crawls from before indexes existed.
    """
    ids = crawls or crawl_ids(store)
    if not ids:
        raise StorageError(f"no complete crawl in {store.uri} (no manifest under crawls/)")
    folder = root / "collections" / name
    if folder.exists():
        shutil.rmtree(folder)
    archive, indexes = folder / "archive", folder / "indexes"
    archive.mkdir(parents=True)
    indexes.mkdir()
    local_root = getattr(store, "root", None)  # a folder store: link, don't copy
    withdrawn = Withdrawn.load(store)  # the takedown list: left out of every index
    warcs = 0
    kept: list[str] = []
    skipped: list[str] = []
    for crawl_id in ids:
        try:
            manifest = load_manifest(store, crawl_id)
        except DamagedManifest as e:
            if crawls:
                raise
            skipped.append(str(e))
            continue
        kept.append(crawl_id)
        keys = {e["key"] for e in manifest["files"]}
        for entry in manifest["files"]:
            if entry["kind"] != "warc":
                continue
            key = entry["key"]
            path = archive / key.rsplit("/", 1)[-1]
            if local_root is not None:
                path.symlink_to(Path(local_root).absolute().joinpath(*key.split("/")))
            else:
                _download(store, key, path)
            index = indexes / cdxj.index_key(path.name)
            try:
                index.write_bytes(store.read_bytes(cdxj.index_key(key)))
            except (OSError, StorageError):
                if cdxj.index_key(key) in keys:
                    logger.warning("%s cannot be read: rebuilt from its WARC",
                                   cdxj.index_key(key))
                # else: a crawl from before indexes were written at crawl time
                index.write_text(cdxj.index_warc(path, path.name), encoding="utf-8")
            if withdrawn:
                _drop_withdrawn(index, withdrawn)
            warcs += 1
    if not kept:
        raise StorageError(f"no readable manifest in {store.uri}: {skipped[0]}")
    # pywb reads ./config.yaml from its directory and says "[Errno 2]" when there is none.
    config = root / "config.yaml"
    if not config.exists():
        config.write_text("# written by newsarchive replay\ncollections_root: collections\n",
                          encoding="utf-8")
    return Collection(root, name, kept, warcs, skipped)


def _drop_withdrawn(index: Path, withdrawn: Withdrawn) -> None:
    """pywb serves only what its indexes list: a withdrawn article's captures are taken
    out of the collection's copy of the index (the archive's own index is untouched)."""
    lines = index.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not withdrawn.url(_index_url(line))]
    if len(kept) != len(lines):
        index.write_text("".join(kept), encoding="utf-8")


def _index_url(line: str) -> str:
    try:
        return str(json.loads(line.split(" ", 2)[2]).get("url", ""))
    except (IndexError, ValueError, AttributeError):
        return ""


def article_urls(store: Store, crawls: list[str], limit: int = 3) -> list[tuple[str, str]]:
    """(pywb timestamp, URL) of a few archived articles, for a person to open first."""
    found: list[tuple[str, str]] = []
    withdrawn = Withdrawn.load(store)
    for crawl_id in crawls:
        try:
            for record in text_records(store, load_manifest(store, crawl_id)):
                if withdrawn.record(record):
                    continue
                stamp = "".join(c for c in str(record.get("fetched_at", "")) if c.isdigit())
                found.append((stamp[:14], record["url"]))
                if len(found) >= limit:
                    return found
        except (OSError, EOFError, zlib.error, ValueError, KeyError, NewsarchiveError):
            continue  # a damaged shard: `verify` reports it; replay serves the WARCs
    return found


def check_port(bind: str, port: int) -> None:
    """ConfigError naming the port when another program holds it: wayback would
    otherwise die with a traceback of its own."""
    with socket.socket(socket.AF_INET6 if ":" in bind else socket.AF_INET) as probe:
        try:
            probe.bind((bind, port))
        except OSError as e:
            raise ConfigError(
                f"cannot serve on {bind}:{port}: {e.strerror or e}; choose another --port"
            ) from None


def _download(store: Store, key: str, path: Path) -> None:
    with store.open(key) as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


def default_root(store: Store) -> Path:
    return cache_dir() / "replay" / layout.safe_name(store.uri)


def wayback_command(env: Path, root: Path, port: int, bind: str = "127.0.0.1") -> list[str]:
    return [str(wayback_path(env)), "--bind", bind, "--port", str(port), "-d", str(root)]


def wayback_env() -> dict[str, str]:
    """The environment for wayback: ours, minus the virtual environment we may run in."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def replay_url(base: str, timestamp: str, url: str, mode: str = "mp_") -> str:
    """pywb's URL for a capture: ``<base>/<collection>/<timestamp><mode>/<url>``."""
    return f"{base.rstrip('/')}/{COLLECTION}/{timestamp}{mode}/{url}"


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_wayback(env: Path, root: Path, port: int, bind: str) -> int:
    """Serve in the foreground until interrupted (SIGINT or SIGTERM), then stop wayback."""
    check_port(bind, port)
    # Its own session: a terminal's Ctrl-C reaches us alone, and wayback is stopped
    # here, instead of printing a KeyboardInterrupt traceback of its own.
    process = subprocess.Popen(wayback_command(env, root, port, bind), env=wayback_env(),
                               start_new_session=True)
    previous = signal.signal(signal.SIGTERM, _interrupted)
    try:
        return process.wait()
    except KeyboardInterrupt:  # the way to stop it: quiet, with the shells' status
        process.terminate()
        process.wait(timeout=10)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        if process.poll() is None:
            process.kill()
            process.wait()
        sys.stdout.flush()
