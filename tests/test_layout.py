"""The package's parts and which may import which (docs/architecture.md draws them).

Why a test: the layout only tells a newcomer the architecture while the arrows stay
one-way. An import that breaks a rule fails here, naming the file and line, instead of
slowly turning the parts back into one tangle.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Shared vocabulary any part may import.
LEAVES = {
    "newsarchive", "newsarchive.errors", "newsarchive.archive.layout",
    "newsarchive.progress",  # the progress bar of long commands (tqdm only)
}

# part -> the parts it may import (besides itself and LEAVES). Lower parts know nothing
# of the ones above them; only cli imports everything, and nothing imports cli.
ALLOWED: dict[str, set[str]] = {
    "__init__": {"corpus", "crawl"},  # the package's lazy re-exports (Corpus, the add-on)
    "errors": set(),
    "settings_schema": {"storage"},  # S3's addressing styles, storage classes, part size
    "defaults": {"settings_schema"},  # the schema's defaults as module names
    "settings": {"defaults"},  # the news project states the NEWSARCHIVE_* defaults
    "progress": set(),
    "sample_site": set(),
    "storage": set(),
    "discovery": set(),
    "extract": set(),
    "warc": {"storage"},
    "config": {"settings_schema", "storage"},
    "archive": {"config", "settings_schema", "storage", "warc", "discovery", "extract"},
    "corpus": {"archive", "storage", "warc", "discovery", "rights"},
    "cluster": {"archive", "config", "settings_schema", "storage", "warc", "discovery"},
    "rights": {"discovery", "storage"},
    "crawl": {
        "archive", "cluster", "config", "defaults", "settings", "settings_schema", "storage",
        "warc", "discovery", "extract", "rights",
        "spiders",  # the crawl command checks the spider's arguments
    },
    "spiders": {"archive", "cluster", "config", "crawl", "discovery", "extract", "rights",
                "storage"},
    "pipelines": {"archive", "cluster", "config", "crawl", "discovery", "extract", "storage",
                  "warc"},
    "tools": {"archive", "config", "corpus", "discovery", "extract", "rights", "sample_site",
              "settings", "storage", "warc"},
    "cli": {"archive", "cluster", "config", "corpus", "crawl", "discovery", "extract",
            "rights", "sample_site", "settings", "spiders", "storage", "tools", "warc"},
}

# Parts that run inside a Scrapy crawl; everything else must work without Scrapy loaded
# (extraction, WARC, storage and corpus code is used by tools and researchers' notebooks).
SCRAPY_PARTS = {"crawl", "cluster", "spiders", "pipelines", "tools", "cli"}


def _part(module: str) -> str | None:
    """The part a dotted newsarchive module belongs to (None for outside modules)."""
    bits = module.split(".")
    if bits[0] in {"spiders", "pipelines"}:
        return bits[0]
    if bits[0] != "newsarchive" or len(bits) == 1:
        return None
    return bits[1].removesuffix(".py")


def _sources() -> list[tuple[Path, str]]:
    files = [(p, _part("newsarchive." + ".".join(p.relative_to(ROOT / "newsarchive").parts)))
             for p in (ROOT / "newsarchive").rglob("*.py")]
    files += [(p, p.parent.name) for top in ("spiders", "pipelines")
              for p in (ROOT / top).glob("*.py")]
    return [(p, part.removesuffix(".py")) for p, part in files if part != "__init__.py"]


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every absolute import in path, as (line, module): `from a import b` counts as a.b
    when b is a module of this project, else as a."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.append((node.lineno, sub if _is_module(sub) else node.module))
    return found


def _is_module(dotted: str) -> bool:
    bits = dotted.split(".")
    if bits[0] == "newsarchive" and len(bits) > 1 and bits[1] in {"spiders", "pipelines"}:
        bits = bits[1:]  # installed inside the namespace, kept at the top in the checkout
    path = ROOT / Path(*bits)
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_parts_import_only_what_the_rules_allow() -> None:
    broken = []
    for path, part in _sources():
        assert part in ALLOWED, f"{path}: part {part!r} has no import rule in this test"
        for line, name in _imports(path):
            target = _part(name)
            if target is None or target == part or name in LEAVES:
                continue
            if target not in ALLOWED[part]:
                broken.append(f"{path.relative_to(ROOT)}:{line}: {part} imports {name}")
    assert not broken, "imports against docs/architecture.md's rules:\n" + "\n".join(broken)


def test_scrapy_stays_in_the_crawl_parts() -> None:
    broken = [
        f"{path.relative_to(ROOT)}:{line}: {part} imports {name}"
        for path, part in _sources() if part not in SCRAPY_PARTS
        for line, name in _imports(path)
        if name.split(".")[0] in {"scrapy", "twisted", "scrapy_redis"}
    ]
    assert not broken, "Scrapy/Twisted outside the crawl's parts:\n" + "\n".join(broken)


def test_nothing_imports_the_cli() -> None:
    broken = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path, part in _sources() if part != "cli"
        for line, name in _imports(path) if _part(name) == "cli"
    ]
    assert not broken, "\n".join(broken)


def test_every_part_has_a_rule_and_is_installed() -> None:
    """pyproject.toml lists the packages by hand (spiders/ and pipelines/ install inside
    the newsarchive namespace): a new folder missing there would be left out of a wheel."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(project["packages"])
    folders = {
        "newsarchive." + ".".join(p.parent.relative_to(ROOT / "newsarchive").parts)
        for p in (ROOT / "newsarchive").rglob("__init__.py")
    }
    folders = {f.removesuffix(".") for f in folders} | {
        "newsarchive.spiders", "newsarchive.pipelines"
    }
    assert listed == folders
    assert project["package-dir"] == {
        "newsarchive.spiders": "spiders", "newsarchive.pipelines": "pipelines"
    }
    parts = {_part(name) for name in folders if name != "newsarchive"}
    assert parts <= set(ALLOWED)


@pytest.mark.parametrize("name", ["spiders", "pipelines"])
def test_no_top_level_spiders_or_pipelines_package(name: str) -> None:
    """Installed, these would sit at the top of site-packages and clash with any other
    Scrapy project's; they are reached as newsarchive.spiders / newsarchive.pipelines."""
    import importlib

    module = importlib.import_module(f"newsarchive.{name}")
    assert Path(module.__file__).parent == ROOT / name
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {imported}"
        for path, _ in _sources() for line, imported in _imports(path)
        if imported.split(".")[0] == name
    ] + [
        f"{path.relative_to(ROOT)}:{line}: {imported}"
        for path in (ROOT / "tests").rglob("*.py") for line, imported in _imports(path)
        if imported.split(".")[0] == name
    ]
    assert not offenders, "\n".join(offenders)
