"""Shared fixtures (the sample news site on a free loopback port, a real crawl of it, an
S3 endpoint) and the test tiers.

Tiers: a test that runs a whole crawl, a subprocess or a server is ``e2e``; the rest is
the fast tier, ``pytest -m "not e2e"``. The mark comes by rule: every test using one of
E2E_FIXTURES (directly or through another fixture) gets it. Tests that start such things
themselves carry ``@pytest.mark.e2e`` (or a module's ``pytestmark``). The rule is checked:
a test without the mark that starts a process or listens on a socket fails, saying so.

No test reaches the internet: in the test process, a connection to anything but a
loopback address fails at once, naming the address (``_loopback_only``). Hosts such as
``news.example`` in tests are data: requests answered from scripts, URLs parsed.
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from newsarchive.sample_site import SampleSite
from tests.helpers import Crawl, load_manifest, scrapy_crawl

# Fixtures that run a crawl or start a server or process, by name, in any test module.
E2E_FIXTURES = frozenset({
    # tests/conftest.py
    "sample_site", "crawl", "s3", "archive_crawl",
    # a server or crawl of a module's own
    "authenticating_s3", "crawled", "crawls", "fresh_site", "hostile", "protocol_crawl",
    "pywb_venv", "redis_url", "rights_crawl", "rights_site", "robots_crawl", "runs", "site",
    "trap_crawl", "two_crawls", "wayback", "tmpfs", "target",
})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


def _is_loopback(host: object) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False  # a name to resolve: the internet, as far as tests go


def _loopback_only(connect):
    def guarded(sock: socket.socket, address, *args, **kwargs):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise ConnectionRefusedError(
                f"tests reach loopback addresses only, not {address[0]!r} (tests/conftest.py)")
        return connect(sock, address, *args, **kwargs)
    return guarded


def _resolving_loopback_only(getaddrinfo):
    def guarded(host, *args, **kwargs):
        if host is not None and not _is_loopback(host.decode() if isinstance(host, bytes)
                                                 else host):
            raise socket.gaierror(socket.EAI_NONAME, f"tests reach loopback addresses only, "
                                  f"not {host!r} (tests/conftest.py)")
        return getaddrinfo(host, *args, **kwargs)
    return guarded


def pytest_configure(config: pytest.Config) -> None:
    socket.getaddrinfo = _resolving_loopback_only(socket.getaddrinfo)
    socket.socket.connect = _loopback_only(socket.socket.connect)  # type: ignore[method-assign]
    socket.socket.connect_ex = _loopback_only(  # type: ignore[method-assign]
        socket.socket.connect_ex)


@contextmanager
def _fast_only(item: pytest.Item) -> Iterator[None]:
    """Outside e2e, starting a process or a server fails the test with its fix."""
    if item.get_closest_marker("e2e") is not None:
        yield
        return

    def refuse(what: str):
        def refused(*args, **kwargs):
            pytest.fail(
                f"{item.nodeid} {what} but is not marked e2e: use an E2E_FIXTURES fixture "
                "or @pytest.mark.e2e (tests/conftest.py)", pytrace=False,
            )
        return refused

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess.Popen, "_execute_child", refuse("starts a process"))
        patch.setattr(socket.socket, "listen", refuse("starts a server"))
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    with _fast_only(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    with _fast_only(item):
        return (yield)


@pytest.fixture(scope="session")
def sample_site():
    with SampleSite() as site:
        yield site


@pytest.fixture(scope="session")
def crawl(sample_site, tmp_path_factory) -> Crawl:
    """One full crawl of the sample site, shared by the tests that only read its output."""
    archive = tmp_path_factory.mktemp("archive")
    process = scrapy_crawl(
        "-a", f"url={sample_site.base_url}/",
        "-s", f"NEWSARCHIVE_ARCHIVE={archive}",
        "-s", "NEWSARCHIVE_EXTRACT_WORKERS=2",
    )
    assert process.returncode == 0, process.stderr[-3000:]
    return Crawl(archive, process, load_manifest(archive))


@pytest.fixture(scope="session")
def s3(tmp_path_factory):
    """A real S3 endpoint (moto server) on 127.0.0.1, with this process's AWS_* set to it."""
    from tests.s3server import S3Endpoint, restore_env

    endpoint = S3Endpoint(tmp_path_factory.mktemp("aws"))
    endpoint.start()
    old = endpoint.apply_env()
    yield endpoint
    restore_env(old)
    endpoint.stop()


@pytest.fixture(scope="session", params=["folder", "s3"])
def archive_crawl(request, sample_site, tmp_path_factory):
    """The same full crawl into a folder and into a bucket on a real S3 endpoint."""
    import json

    from newsarchive.storage import open_store
    from tests.helpers import StoredCrawl

    tmp = tmp_path_factory.mktemp(f"crawl-{request.param}")
    env = None
    if request.param == "folder":
        uri = str(tmp / "archive")
    else:
        s3 = request.getfixturevalue("s3")
        uri = f"s3://{s3.new_bucket()}/news"
        env = s3.env()
    process = scrapy_crawl(
        "-a", f"url={sample_site.base_url}/",
        "-s", f"NEWSARCHIVE_ARCHIVE={uri}",
        "-s", f"NEWSARCHIVE_SPOOL={tmp / 'spool'}",
        "-s", "NEWSARCHIVE_EXTRACT_WORKERS=2",
        env=env,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    store = open_store(uri)
    (key,) = [k for k in store.list("crawls/") if k.endswith(".json")]
    return StoredCrawl(uri, process, json.loads(store.read_bytes(key)), tmp / "cache")
