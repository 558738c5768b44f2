"""The suite's own rule: a test never reaches the internet (tests/conftest.py)."""

from __future__ import annotations

import socket
import urllib.request

import pytest


@pytest.mark.parametrize("host", ["93.184.216.34", "2606:2800:220:1::1", "example.org"])
def test_a_connection_off_loopback_fails_at_once(host: str) -> None:
    with pytest.raises(OSError, match="loopback addresses only"):
        socket.create_connection((host, 80), timeout=1)


def test_a_library_fetch_off_loopback_fails_too() -> None:
    with pytest.raises(OSError, match="loopback addresses only"):
        urllib.request.urlopen("http://93.184.216.34/", timeout=1)


def test_loopback_is_allowed() -> None:
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", 9)) != 0  # refused by the system, not the rule
