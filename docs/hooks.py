"""MkDocs hook: the reference tables, generated from the code at build time.

A page asks for a table with a line ``<!-- generated: NAME -->``; ``on_page_markdown``
puts the table there. Names, defaults, types, options and help texts come from the
code; the plain-words meaning of a setting, field, status or reason comes from
``docs/reference/meanings.toml`` until the code carries it (issue 15's settings
schema). The build fails when the two disagree: something in the code without a
meaning, or a meaning for something the code no longer has.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MEANINGS = Path(__file__).resolve().parent / "reference" / "meanings.toml"

# Every import path the reference reads, in one place: a module moved in the code is
# one line here.
SOURCES = {
    "settings": "newsarchive.settings",  # the news project's own Scrapy settings
    "defaults": "newsarchive.defaults",  # every NEWSARCHIVE_* setting and its default
    "addon": "newsarchive.crawl.addon",  # the components and Scrapy settings it sets
    "cli": "newsarchive.cli",  # its click group is `main`
    "outcome": "newsarchive.crawl.outcome",
    "failures": "newsarchive.crawl.failures",
    "record_schema": "newsarchive.corpus.schema",  # SCHEMA: record fields in order, typed
    "manifest": "newsarchive.archive.manifest",
}
MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)


class ReferenceError(Exception):
    """The code and docs/reference/meanings.toml disagree."""


def source(name: str) -> Any:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # this checkout, not an installed copy elsewhere
    return importlib.import_module(SOURCES[name])


def documented(section: str) -> dict[str, str]:
    return tomllib.loads(MEANINGS.read_text(encoding="utf-8")).get(section, {})


def meanings(section: str, names: list[str]) -> dict[str, str]:
    """The meanings of ``names``; every name needs one, and nothing else may have one."""
    table = documented(section)
    missing = [n for n in names if n not in table]
    extra = sorted(set(table) - set(names))
    if missing or extra:
        raise ReferenceError(
            f"meanings.toml [{section}] out of step with the code: "
            f"no meaning for {missing}; meanings of things the code lacks: {extra}"
        )
    return table


def cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def show_value(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1024**2:
        for unit, size in (("GiB", 1024**3), ("MiB", 1024**2)):
            if value % size == 0:
                return f"`{value}` ({value // size} {unit})"
    return f"`{value!r}`"


def settings_rows() -> list[tuple[str, Any, str]]:
    """(name, default, meaning) of every NEWSARCHIVE_* setting. Today: defaults from
    newsarchive.defaults, meanings from meanings.toml; later: one settings schema."""
    module = source("defaults")
    names = [n for n in vars(module) if n.startswith("NEWSARCHIVE_")]
    meaning = meanings("settings", names)
    return [(n, getattr(module, n), meaning[n]) for n in names]


def gen_settings() -> str:
    return table(
        ("setting", "default", "meaning"),
        [(f"`{n}`", show_value(v), m) for n, v, m in settings_rows()],
    )


def gen_scrapy_settings() -> str:
    """Scrapy's own settings newsarchive changes: the add-on's (in any project), then
    the news project's settings module's."""
    from scrapy.settings import default_settings

    addon = source("addon")
    changed = [(n, v, "add-on") for n, v in addon.SCRAPY_DEFAULTS.items()]
    changed.append(("ROBOTSTXT_USER_AGENT", addon.ROBOTS_AGENT, "add-on, unless USER_AGENT is set"))
    changed += [
        (name, value, "`news` project")
        for name, value in vars(source("settings")).items()
        if name.isupper() and not name.startswith("NEWSARCHIVE_")
        and not isinstance(value, dict)
        and name not in {*addon.SCRAPY_DEFAULTS, "ROBOTSTXT_USER_AGENT"}
    ]
    rows = [
        (f"`{name}`", show_value(value), show_value(
            getattr(default_settings, name, "(not a Scrapy default)")), where)
        for name, value, where in changed
    ]
    return table(("setting", "newsarchive", "Scrapy's default", "set by"), rows)


def gen_components() -> str:
    """The middlewares, pipelines and extensions the add-on switches on or off."""
    rows = []
    for setting, components in source("addon").COMPONENTS.items():
        for path, order in components.items():
            if order is None:
                rows.append((setting, f"`{path}`", "off", "Scrapy's own, replaced"))
                continue
            # The module's opening paragraph: one concept per module says what it does.
            doc = inspect.getdoc(importlib.import_module(path.rpartition(".")[0])) or ""
            rows.append((setting, f"`{path}`", order, doc.split("\n\n")[0]))
    return table(("setting", "component", "order", "what it does"), rows)


def gen_cli() -> str:
    """Every command's --help, as `newsarchive … --help` prints it."""
    import click

    main = source("cli").main
    parts: list[str] = []

    def walk(command: click.Command, ctx: click.Context) -> None:
        parts.append(f"## `{ctx.command_path}`\n\n```text\n{command.get_help(ctx)}\n```\n")
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                walk(sub, click.Context(sub, info_name=name, parent=ctx))

    walk(main, click.Context(main, info_name="newsarchive", terminal_width=88))
    return "\n".join(parts)


def gen_commands() -> str:
    """One line per command: its name and the first sentence of its help."""
    import click

    main = source("cli").main
    rows: list[tuple[str, str]] = []

    def walk(group: click.Group, ctx: click.Context) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            sub = click.Context(command, info_name=name, parent=ctx)
            anchor = sub.command_path.replace(" ", "-")
            rows.append((f"[`{sub.command_path}`](#{anchor})", command.get_short_help_str(120)))
            if isinstance(command, click.Group):
                walk(command, sub)

    walk(main, click.Context(main, info_name="newsarchive"))
    return table(("command", "what it does"), rows)


def gen_exit_statuses() -> str:
    module = source("outcome")
    constants = {n: v for n, v in vars(module).items() if n.isupper() and type(v) is int}
    meaning = meanings("exit_status", list(constants))
    rows = [(v, f"`{n}`", meaning[n]) for n, v in constants.items()]
    return table(("status", "name in the code", "meaning"), sorted(rows))


def gen_failure_reasons() -> str:
    """failures.py's tables: the reason each error class or message stands for."""
    module = source("failures")
    by_reason: dict[str, list[str]] = {}
    for kind, reason in module._BY_TYPE.items():
        reason = "http-<status>" if reason == "http" else reason
        by_reason.setdefault(reason, []).append(f"`{kind}`")
    for needle, reason in (*module._BAD_HEAD, *module._IGNORED):
        by_reason.setdefault(reason, []).append(f'message "{needle}"')
    code = inspect.getsource(module)
    # Reasons failure_reason() returns itself, not through a table: its source says them.
    for reason in set(documented("failure_reasons")) - set(by_reason):
        if f'"{reason}"' not in code:
            raise ReferenceError(f"meanings.toml: failure reason {reason!r} is not in failures.py")
        by_reason[reason] = ["failure_reason() itself"]
    meaning = meanings("failure_reasons", list(by_reason))
    rows = [(f"`{r}`", meaning[r], ", ".join(by_reason[r])) for r in sorted(by_reason)]
    return table(("reason", "meaning", "from"), rows)


def gen_record() -> str:
    schema = source("record_schema").SCHEMA
    meaning = meanings("record", list(schema.names))
    rows = [(f"`{f.name}`", f"`{f.type}`", meaning[f.name]) for f in schema]
    return table(("field", "Parquet type", "meaning"), rows)


def gen_manifest() -> str:
    module = source("manifest")
    empty = module.build_manifest(crawl_id="", crawl={}, files=[], counts={}, settings={})
    meaning = meanings("manifest", list(empty))
    top = table(("key", "meaning"), [(f"`{k}`", meaning[k]) for k in empty])
    fields = dataclasses.fields(module.FileEntry)
    entry_meaning = meanings("manifest_file", [f.name for f in fields])
    entries = table(
        ("key", "type", "meaning"),
        [(f"`{f.name}`", f"`{f.type}`", entry_meaning[f.name]) for f in fields],
    )
    return (
        f"`format` is `{module.FORMAT}`.\n\n{top}\n\n"
        f"Each entry of `files`:\n\n{entries}"
    )


GENERATORS: dict[str, Callable[[], str]] = {
    "settings": gen_settings,
    "scrapy-settings": gen_scrapy_settings,
    "components": gen_components,
    "commands": gen_commands,
    "cli": gen_cli,
    "exit-statuses": gen_exit_statuses,
    "failure-reasons": gen_failure_reasons,
    "record": gen_record,
    "manifest": gen_manifest,
}


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    def generate(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise ReferenceError(f"{page.file.src_path}: no generator named {name!r}")
        return GENERATORS[name]()

    return MARKER.sub(generate, markdown)
