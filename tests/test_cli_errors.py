"""Every `newsarchive` command, given what a person gets wrong, ends in one line.

Missing and non-archive paths, a damaged manifest, busy ports and unwritable outputs:
each command must say `newsarchive: error: …` (exit 2; `verify` exits 1 for problems it
found in an archive) and never print a traceback. The table below must name every
command, so a new one cannot be added without its bad inputs.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator

import click
import pytest

from newsarchive.cli import main

pytestmark = pytest.mark.e2e  # one `newsarchive` process per case

MISSING = "/no/such/archive"


def _commands(group: click.Group = main, prefix: str = "") -> Iterator[str]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}"


@pytest.fixture(scope="module")
def places(tmp_path_factory) -> Iterator[dict[str, str]]:
    root = tmp_path_factory.mktemp("bad")
    empty = root / "not-an-archive"
    empty.mkdir()
    (empty / "notes.txt").write_text("a folder, but no archive\n")
    damaged = root / "damaged"
    (damaged / "crawls").mkdir(parents=True)
    (damaged / "crawls" / "20260101T000000Z-abc123.json").write_text("{not json")
    registry = root / "sites.toml"
    registry.write_text("[[site]]\nname = \n")
    with socket.socket() as busy:  # held for the module's tests: a port in use
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield {"empty": str(empty), "damaged": str(damaged), "registry": str(registry),
               "port": str(busy.getsockname()[1]), "file": str(registry),
               "out": str(root / "no-such-folder" / "out")}


# (command, arguments with {placeholders}, expected exit status)
CASES: list[tuple[str, tuple[str, ...], int]] = [
    ("summary", (MISSING,), 2),
    ("summary", ("{empty}",), 2),
    ("summary", ("{damaged}",), 2),
    ("verify", (MISSING,), 2),
    ("verify", ("{empty}",), 2),
    ("verify", ("{damaged}",), 1),
    ("stats", (MISSING,), 2),
    ("stats", ("{empty}",), 2),
    ("stats", ("{damaged}",), 2),
    ("export", (MISSING, "-o", "{out}"), 2),
    ("export", ("{damaged}", "-o", "{out}"), 2),
    ("show", (MISSING, "https://news.example/a.html"), 2),
    ("show", ("{empty}", "deadbeefcafe"), 2),
    ("show", ("{damaged}", "deadbeefcafe"), 2),
    ("wacz", (MISSING, "somecrawl", "-o", "{out}.wacz"), 2),
    ("wacz", ("{damaged}", "20260101T000000Z-abc123", "-o", "{out}.wacz"), 2),
    ("reextract", (MISSING,), 2),
    ("reextract", ("{damaged}",), 2),
    ("replay", (MISSING,), 2),
    ("replay", ("{empty}", "--port", "{port}"), 2),
    ("replay", (MISSING, "--port", "{port}"), 2),
    ("takedown", (MISSING, "--list"), 2),
    ("takedown", ("{damaged}", "https://news.example/a.html", "--reason", "x"), 2),
    ("upload-pending", (MISSING,), 2),
    ("demo", ("{file}", "--port", "0"), 2),  # a file where the archive folder goes
    ("sample-site", ("--port", "{port}"), 2),
    ("sites list", ("/no/such/sites.toml",), 2),
    ("sites check", ("{registry}",), 2),
    ("enqueue", ("--redis", "redis://127.0.0.1:9/0", "--url", "https://news.example/"), 2),
    ("enqueue", ("--redis", "not-a-url", "--url", "https://news.example/"), 2),
    ("finalize", ("--redis", "redis://127.0.0.1:9/0", "somecrawl"), 2),
]


def test_the_table_names_every_command() -> None:
    assert set(_commands()) == {command for command, _, _ in CASES}


@pytest.mark.parametrize(("command", "args", "status"), CASES,
                         ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_bad_input_is_one_line_never_a_traceback(command, args, status, places) -> None:
    argv = [*command.split(), *(a.format(**places) for a in args)]
    result = subprocess.run([sys.executable, "-m", "newsarchive.cli", *argv],
                            capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-2000:]
    assert result.returncode == status, (argv, result.stdout[-500:], result.stderr[-1000:])
    if status == 2:
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith("newsarchive: error:")]
        assert len(errors) == 1, result.stderr
        assert len(errors[0]) < 400
