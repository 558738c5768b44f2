"""Security: archive keys stay inside the archive, secrets stay out of every output,
and the local servers listen on loopback unless told otherwise."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsarchive.archive import layout
from newsarchive.config import Config
from newsarchive.discovery.sites import parse_registry
from newsarchive.errors import ConfigError, StorageError
from newsarchive.sample_site import SampleSite
from newsarchive.storage import check_key, open_store
from newsarchive.storage.s3 import S3Store
from tests.helpers import ROOT
from tests.s3server import Outage

UNSAFE_KEYS = [
    "../../etc/passwd", "..", ".", "/etc/passwd", "a/../../b", "a\x00b", "x" * 5000,
    "C:\\Windows\\system32", "site name with spaces", "\u202e\u0000", "", "a/./b", "a//b",
    "text/" + "x" * 300 + "/a", "warc/\n/x",
]
HOSTILE_NAMES = [*UNSAFE_KEYS, "%2e%2e%2fsecret", ".hidden", "..."]


# --- keys and file names ------------------------------------------------------------------

@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_are_refused_by_every_store(key, tmp_path):
    with pytest.raises(StorageError):
        check_key(key)
    folder = open_store(str(tmp_path / "archive"))
    (tmp_path / "file").write_bytes(b"x")
    for attempt in (
        lambda: folder.put_file(tmp_path / "file", key, "0" * 64),
        lambda: folder.put_bytes(key, b"x"),
        lambda: folder.read_bytes(key),
        lambda: folder.exists(key),
        lambda: S3Store("bucket", "prefix")._key(key),
    ):
        with pytest.raises(StorageError):
            attempt()
    assert [p for p in tmp_path.rglob("*") if p.name != "file"] in ([], [tmp_path / "archive"])


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_names_from_urls_and_sites_become_safe_key_parts(name):
    safe = layout.safe_name(name)
    assert check_key(safe) == safe
    assert safe not in (".", "..") and "/" not in safe and len(safe) <= 80
    key = layout.text_key(name, "2026-11-26", "20261126T000000Z-abcdef", 1)
    assert check_key(key).startswith("text/site=")


@pytest.mark.parametrize("name", ["../x", "/abs", "a\x00b", "UPPER", "x" * 100, ".hidden"])
def test_site_names_that_could_escape_are_refused_at_load(name):
    text = f'[[site]]\nname = "{name.replace(chr(0), chr(92) + "u0000")}"\n' \
           'start_urls = ["http://127.0.0.1/"]\n'
    with pytest.raises(ConfigError, match="name"):
        parse_registry(text, "sites.toml")


@pytest.mark.parametrize("setting, value", [
    ("NEWSARCHIVE_CRAWL_ID", "../../outside"),
    ("NEWSARCHIVE_CRAWL_ID", "/abs"),
    ("NEWSARCHIVE_CRAWL_ID", "x" * 500),
    ("NEWSARCHIVE_WARC_PREFIX", "../x"),
    ("NEWSARCHIVE_WARC_PREFIX", "a/b"),
])
def test_settings_that_name_files_cannot_escape(setting, value):
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("newsarchive.settings")
    settings.set(setting, value)
    with pytest.raises(ConfigError, match=setting):
        Config.from_settings(settings)


def test_ad_hoc_site_from_a_hostile_url_gets_a_safe_name():
    from newsarchive.discovery.sites import Site

    site = Site.from_url("http://" + "a" * 200 + ".example.org:8080/../../x?y=/../z")
    assert check_key(site.name) == site.name and len(site.name) <= 63


# --- servers ------------------------------------------------------------------------------

@pytest.mark.e2e
def test_local_servers_bind_to_loopback_by_default():
    import inspect

    from newsarchive.cli.replay import command as replay_command
    from newsarchive.cli.sample_site import command as sample_site_command
    from newsarchive.sample_site import serve_forever
    from newsarchive.sample_site.__main__ import parser
    from newsarchive.tools import replay

    with SampleSite() as site:
        assert site._server.server_address[0] == "127.0.0.1"
    assert inspect.signature(serve_forever).parameters["host"].default == "127.0.0.1"
    assert {p.name: p.default for p in sample_site_command.params}["host"] == "127.0.0.1"
    assert {p.name: p.default for p in replay_command.params}["bind"] == "127.0.0.1"
    command = replay.wayback_command(Path("/venv"), Path("/root"), 8080)
    assert command[command.index("--bind") + 1] == "127.0.0.1"
    assert parser().parse_args([]).host == "127.0.0.1"


# --- credentials ----------------------------------------------------------------------------

SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIDSECURITYTEST0001",
    "AWS_SECRET_ACCESS_KEY": "secret-access-key-never-logged",
    "AWS_SESSION_TOKEN": "session-token-never-logged",
}
CARELESS = ("carelessuser", "careless-password-in-url")


def _texts(data: bytes) -> list[str]:
    texts = [data.decode("latin-1")]
    if data[:2] == b"\x1f\x8b":
        texts.append(gzip.decompress(data).decode("latin-1"))
    return texts


def _leaks(where: str, data: bytes | str) -> list[str]:
    raw = data.encode() if isinstance(data, str) else data
    secrets = [*SECRETS.values(), *CARELESS]
    return [f"{where}: {s}" for text in _texts(raw) for s in secrets if s in text]


def test_storage_errors_never_quote_credentials_from_the_endpoint_url():
    from botocore.exceptions import ConnectionClosedError, HTTPClientError

    from newsarchive.storage.s3 import S3Options

    user, password = CARELESS
    url = f"http://{user}:{password}@127.0.0.1:9/bucket/key"
    store = S3Store("bucket", "p", S3Options(endpoint_url=f"http://{user}:{password}@127.0.0.1:9"))
    for error in (ConnectionClosedError(endpoint_url=url), HTTPClientError(error=url),
                  RuntimeError(f"odd failure talking to {url}")):
        message = str(store._explain(error, "cannot store x in"))
        assert "127.0.0.1:9" in message and _leaks("message", message) == [], message


def test_credentials_never_reach_logs_archive_spool_or_summary(s3, sample_site, tmp_path):
    """A crawl with credentials in the environment and (carelessly) in the endpoint URL,
    whose uploads fail mid-way, then `upload-pending`: no output holds a secret."""
    bucket = s3.new_bucket()
    outage = Outage(s3.port)
    user, password = CARELESS
    endpoint = f"http://{user}:{password}@127.0.0.1:{outage.port}"
    spool = tmp_path / "spool"
    summary = tmp_path / "summary.md"
    uri = f"s3://{bucket}/news"
    # moto accepts any key; these stand for real ones
    env = {k: v for k, v in {**os.environ, **s3.env(**SECRETS)}.items() if v is not None}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    command = [
        sys.executable, "-m", "scrapy", "crawl", "news",
        "-a", f"url={sample_site.url('/section/science/')}",
        "-s", f"NEWSARCHIVE_ARCHIVE={uri}", "-s", f"NEWSARCHIVE_SPOOL={spool}",
        "-s", f"NEWSARCHIVE_S3_ENDPOINT_URL={endpoint}", "-s", "NEWSARCHIVE_S3_MAX_ATTEMPTS=1",
        "-s", f"NEWSARCHIVE_SUMMARY_FILE={summary}", "-s", "NEWSARCHIVE_WARC_MAX_SIZE=20000",
        "-s", "NEWSARCHIVE_EXTRACT=false", "-s", "DEPTH_LIMIT=1",  # (test_s3.py: with text)
        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0.2",
    ]
    crawl = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while not any(k.startswith("news/warc/") for k in s3.objects(bucket)):
            assert crawl.poll() is None, crawl.communicate()[1][-3000:]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        outage.down()  # uploads now fail: their error messages are scanned too
        out, err = crawl.communicate(timeout=240)
    finally:
        if crawl.poll() is None:
            crawl.kill()
    assert crawl.returncode == 3, err[-3000:]
    assert "cannot store" in err and f"127.0.0.1:{outage.port}" in err  # the errors were met
    leaks = _leaks("crawl stdout", out) + _leaks("crawl stderr", err)
    spooled = [p for p in spool.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".warc.gz") for p in spooled)  # files waiting to be stored
    for path in [*spooled, summary]:
        leaks += _leaks(str(path), path.read_bytes())

    outage.restore()
    finish = subprocess.run(
        [sys.executable, "-m", "newsarchive.cli", "upload-pending", uri, "--spool", str(spool)],
        cwd=ROOT, env={**env, "AWS_ENDPOINT_URL": endpoint}, capture_output=True, text=True,
        timeout=120,
    )
    outage.close()
    assert finish.returncode == 0, finish.stderr[-3000:]
    leaks += _leaks("upload-pending output", finish.stdout + finish.stderr)
    client = s3.client()
    objects = s3.objects(bucket)
    assert any(k.startswith("news/crawls/") for k in objects)
    for key in objects:
        leaks += _leaks(key, client.get_object(Bucket=bucket, Key=key)["Body"].read())
        leaks += _leaks(f"{key} metadata", repr(client.head_object(Bucket=bucket, Key=key)))
    assert leaks == []
