"""The docs site builds (strict), and the quick start's commands exist as written."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import newsarchive.settings
from newsarchive.cli import main
from newsarchive.discovery.sites import load_registry
from tests.helpers import ROOT, unavailable

QUICKSTART = ROOT / "docs" / "quickstart.md"
SETTINGS = vars(newsarchive.settings)
SITES = load_registry(None)
DEV_EXTRA = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
    "optional-dependencies"
]["dev"]
# The two quick-start commands: README, docs and .ci/run say the same.
DEMO = 'pip install -e ".[dev]" && newsarchive demo'
TESTS = 'pip install -e ".[dev]" && pytest'


def _needs_mkdocs() -> None:
    for module in ("mkdocs", "material"):
        if importlib.util.find_spec(module) is None:
            unavailable(f"{module} is not installed (pip install -e '.[dev]')")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _needs_mkdocs()
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
         "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # Material's banner about MkDocs 2
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return out


def _text(page: Path) -> str:
    return re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8"))


def test_site_builds_strict_with_every_page(site: Path) -> None:
    nav_pages = re.findall(r":\s*([\w/-]+)\.md\s*$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert len(nav_pages) >= 18
    for page in nav_pages:
        built = site / ("index.html" if page == "index" else f"{page}/index.html")
        assert built.is_file(), page
    assert not (site / "hooks.py").exists()
    assert not (site / "reference" / "meanings.toml").exists()


def test_reference_is_generated_from_the_code(site: Path) -> None:
    settings = _text(site / "reference" / "settings" / "index.html")
    for name in (n for n in SETTINGS if n.startswith("NEWSARCHIVE_")):
        assert name in settings, name
    assert "generated:" not in settings  # every marker was replaced

    cli = _text(site / "reference" / "cli" / "index.html")
    for name, command in main.commands.items():
        assert f"Usage: newsarchive {name} " in cli, name
        for param in command.params:
            if getattr(param, "hidden", False):  # deprecated aliases (--archive)
                continue
            for opt in param.opts:
                if opt.startswith("--"):
                    assert opt in cli, (name, opt)
    assert "Usage: newsarchive sites check " in cli

    statuses = _text(site / "reference" / "exit-statuses" / "index.html")
    assert "NO_ARTICLES" in statuses and "TOO_MANY_ERRORS" in statuses
    reasons = _text(site / "reference" / "failure-reasons" / "index.html")
    assert "DownloadTimeoutError" in reasons and "robots-unreachable" in reasons
    records = _text(site / "reference" / "records" / "index.html")
    assert "timestamp[us, tz=UTC]" in records and "payload_digest" in records
    manifest = _text(site / "reference" / "manifest" / "index.html")
    assert "newsarchive-manifest/1" in manifest and "sha256" in manifest


def _commands(markdown: str) -> list[list[str]]:
    """The command lines of the page's ``sh`` blocks, split like a shell would."""
    lines: list[list[str]] = []
    for block in re.findall(r"```sh\n(.*?)```", markdown, re.S):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words:
                lines.append(words)
    return lines


def _parses(words: list[str]) -> None:
    """A newsarchive command line names a command and only options it has."""
    assert words[0] == "newsarchive"
    command, rest, name = main, words[1:], "newsarchive"
    while rest and hasattr(command, "commands") and rest[0] in command.commands:
        command, name = command.commands[rest[0]], f"{name} {rest[0]}"
        rest = rest[1:]
    assert command is not main, f"no such command: {' '.join(words)}"
    result = CliRunner().invoke(main, [*name.split()[1:], "--help"])
    assert result.exit_code == 0, (words, result.output)
    known = {opt for param in command.params for opt in param.opts}
    for word in rest:
        if word.startswith("-"):
            assert word.split("=")[0] in known, f"{name} has no option {word}"


@pytest.mark.parametrize("page", [QUICKSTART, ROOT / "README.md"], ids=lambda p: p.name)
def test_quickstart_commands_parse(page: Path) -> None:
    commands = _commands(page.read_text(encoding="utf-8"))
    seen = set()
    for line in commands:
        for part in " ".join(line).split(" && "):
            words = part.split()
            seen.add(words[0])
            if words[0] == "newsarchive":
                _parses(shlex.split(part))
            elif words[0] == "scrapy":
                assert words[1:3] == ["crawl", "news"], part
                for flag, value in zip(words[3::2], words[4::2], strict=False):
                    assert flag in ("-a", "-s"), part
                    key = value.split("=")[0]
                    if flag == "-a":
                        assert key in ("site", "url", "since"), part
                        if key == "site":
                            assert value.split("=", 1)[1] in SITES, part
                    else:
                        assert key in SETTINGS, part
            elif words[0] == "pip":
                assert words[1:] == ["install", "-e", ".[dev]"], part
            else:  # a tool the dev extra installs: pytest, ruff, mkdocs
                assert re.match(r"[a-z]+$", words[0]) and any(
                    re.match(rf"{words[0]}\b", dep) for dep in DEV_EXTRA
                ), part
    assert {"pip", "newsarchive", "scrapy", "pytest"} <= seen


def test_quick_start_is_the_same_in_readme_docs_and_ci() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = QUICKSTART.read_text(encoding="utf-8")
    for text in (readme, quickstart):
        assert f"```sh\n{DEMO}\n```" in text
        assert f"```sh\n{TESTS}\n```" in text
    ci = (ROOT / ".ci" / "run").read_text()
    assert TESTS in ci.splitlines()


def test_readme_is_short_and_its_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    links = re.findall(r"\]\((docs/[^)#]+)", readme)
    assert len(links) >= 15
    for link in links:
        assert (ROOT / link).is_file(), link
