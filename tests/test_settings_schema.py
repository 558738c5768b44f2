"""The settings schema (newsarchive.settings_schema) is the one place a setting is
declared: every NEWSARCHIVE_* name the code uses is in it, the settings module's
defaults are its defaults, every value it is given parses or is refused with one line,
and the reference table is made from it."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import fields

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.settings import Settings

import newsarchive.settings as settings_module
from newsarchive.cluster.frontier import FrontierConfig
from newsarchive.config import Config
from newsarchive.errors import ConfigError
from newsarchive.settings_schema import (
    SCHEMA,
    SCRAPY_CHECKS,
    SETTINGS,
    defaults,
    read,
    reference_markdown,
    validate,
)
from newsarchive.storage.s3 import S3Options
from tests.helpers import ROOT

PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# A NEWSARCHIVE_ name, not a prefix followed by "*" ("the NEWSARCHIVE_S3_* settings").
NAME = re.compile(r"\bNEWSARCHIVE_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_*])")
CODE = ("newsarchive", "spiders", "pipelines")
# Python 3.12 splits f-strings into parts; 3.11 keeps them whole as STRING tokens.
TEXT_TOKENS = {tokenize.STRING, tokenize.COMMENT, getattr(tokenize, "FSTRING_MIDDLE", -1)}


def _environment_names(tree: ast.AST) -> set[str]:
    """NEWSARCHIVE_* names read from the environment (os.environ, os.getenv): not settings."""
    names = set()
    for node in ast.walk(tree):
        target = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = ast.unparse(node.func.value)
            if (owner.endswith("environ") and node.func.attr == "get") or (
                node.func.attr == "getenv"
            ):
                target = node.args[0] if node.args else None
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("environ"):
            target = node.slice
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            names.add(target.value)
    return names


def _names_in_code() -> tuple[dict[str, str], set[str]]:
    """Every NEWSARCHIVE_* name in the code's strings, docstrings and comments (with a
    file it is in), and the environment variables among them."""
    found: dict[str, str] = {}
    environment: set[str] = set()
    for folder in CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            environment |= _environment_names(ast.parse(source))
            for token in tokenize.generate_tokens(io.StringIO(source).readline):
                if token.type in TEXT_TOKENS:
                    for name in NAME.findall(token.string):
                        found.setdefault(name, str(path.relative_to(ROOT)))
    return found, environment


def test_every_newsarchive_setting_named_in_the_code_is_in_the_schema():
    found, environment = _names_in_code()
    # the scan sees names wherever they are written: read in code, in messages, in comments
    assert {"NEWSARCHIVE_STOP_TIMEOUT", "NEWSARCHIVE_REDIS_URL", "NEWSARCHIVE_SITES"} <= set(found)
    assert "NEWSARCHIVE_FAULT" in environment  # the fault-injection variable, not a setting
    missing = {n: where for n, where in found.items() if n not in SCHEMA and n not in environment}
    assert not missing, f"settings used but not in newsarchive.settings_schema.SETTINGS: {missing}"


def test_the_scan_would_see_a_setting_missing_from_the_schema():
    source = 'x = settings.get("NEWSARCHIVE_NOT_DECLARED")  # NEWSARCHIVE_ALSO_NOT\n'
    names = {n for t in tokenize.generate_tokens(io.StringIO(source).readline)
             for n in NAME.findall(t.string)}
    assert names == {"NEWSARCHIVE_NOT_DECLARED", "NEWSARCHIVE_ALSO_NOT"}
    assert NAME.findall("the NEWSARCHIVE_S3_* settings") == []


def test_the_settings_module_holds_exactly_the_schemas_defaults():
    module = {n: getattr(settings_module, n) for n in dir(settings_module)
              if n.startswith("NEWSARCHIVE_")}
    assert module == defaults()
    assert list(defaults()) == [s.name for s in SETTINGS] and len(SCHEMA) == len(SETTINGS)
    scrapy_settings = Settings()
    scrapy_settings.setmodule("newsarchive.settings")
    assert all(scrapy_settings.get(s.name) == s.default for s in SETTINGS)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_each_default_is_allowed_and_typed(setting):
    value = setting.parse(setting.default)
    assert isinstance(value, setting.type)
    assert value == setting.default or setting.default == ""
    assert setting.meaning and setting.meaning == setting.meaning.strip()


def test_an_unset_setting_reads_as_its_default():
    # a Scrapy project that does not load newsarchive.settings (or a plain mapping)
    assert read({}, "NEWSARCHIVE_STOP_TIMEOUT") == 60
    assert read(Settings(), "NEWSARCHIVE_WARC_VERSION") == "1.1"
    assert validate(Settings())["NEWSARCHIVE_ARCHIVE"] == "./archive"


def test_dataclass_defaults_are_the_schemas():
    """S3Options and FrontierConfig are also built directly (tests, `newsarchive enqueue`):
    their own defaults must be the settings' ones."""
    s3 = {f.name: f.default for f in fields(S3Options)}
    assert s3["addressing_style"] == SCHEMA["NEWSARCHIVE_S3_ADDRESSING_STYLE"].default
    assert s3["multipart_threshold"] == SCHEMA["NEWSARCHIVE_S3_MULTIPART_THRESHOLD"].default
    assert s3["multipart_chunksize"] == SCHEMA["NEWSARCHIVE_S3_MULTIPART_CHUNKSIZE"].default
    assert s3["max_attempts"] == SCHEMA["NEWSARCHIVE_S3_MAX_ATTEMPTS"].default
    assert FrontierConfig("redis://h") == FrontierConfig.from_settings(
        {"NEWSARCHIVE_REDIS_URL": "redis://h"}
    )


@pytest.mark.parametrize("name, value, message", [
    ("NEWSARCHIVE_EXTRACT", "maybe", "NEWSARCHIVE_EXTRACT must be true or false, got 'maybe'"),
    ("NEWSARCHIVE_UPLOAD_QUEUE", "0",
     "NEWSARCHIVE_UPLOAD_QUEUE must be at least 1 and at most 1000, got 0"),
    ("NEWSARCHIVE_UPLOAD_QUEUE", "4.5",
     "NEWSARCHIVE_UPLOAD_QUEUE must be a whole number, got '4.5'"),
    ("NEWSARCHIVE_MAX_ERROR_RATE", "1.5",
     "NEWSARCHIVE_MAX_ERROR_RATE must be a number from 0 to 1, got 1.5"),
    ("NEWSARCHIVE_STOP_TIMEOUT", "nan", "NEWSARCHIVE_STOP_TIMEOUT must be a number, got 'nan'"),
    ("NEWSARCHIVE_STOP_TIMEOUT", "0", "NEWSARCHIVE_STOP_TIMEOUT must be above 0, got 0"),
    ("NEWSARCHIVE_REDIS_BLOOM_ERROR_RATE", "1",
     "NEWSARCHIVE_REDIS_BLOOM_ERROR_RATE must be a number above 0 and below 1, got 1"),
    ("NEWSARCHIVE_S3_MULTIPART_CHUNKSIZE", "1024",
     "NEWSARCHIVE_S3_MULTIPART_CHUNKSIZE must be at least 5242880 (5 MiB), got 1024"),
    ("NEWSARCHIVE_WARC_VERSION", "2.0", "NEWSARCHIVE_WARC_VERSION must be 1.0 or 1.1, got '2.0'"),
    ("NEWSARCHIVE_REDIS_DUPEFILTER", "cuckoo",
     "NEWSARCHIVE_REDIS_DUPEFILTER must be set or bloom, got 'cuckoo'"),
    ("NEWSARCHIVE_ARCHIVE", "  ", "NEWSARCHIVE_ARCHIVE must be a folder path or a URI, got ''"),
    ("NEWSARCHIVE_WORKER_ID", "a b",
     "NEWSARCHIVE_WORKER_ID must be letters, digits, '-', '_' or '.' (at most 64), got 'a b'"),
])
def test_a_bad_value_is_one_line_naming_setting_value_and_what_is_allowed(name, value, message):
    with pytest.raises(ConfigError) as info:
        SCHEMA[name].parse(value)
    assert str(info.value) == message


@pytest.mark.parametrize("name, value, expected", [
    ("NEWSARCHIVE_EXTRACT", "False", False),
    ("NEWSARCHIVE_EXTRACT", "0", False),
    ("NEWSARCHIVE_WARC_VERSION", "WARC/1.0", "1.0"),
    ("NEWSARCHIVE_WARC_VERSION", "", "1.1"),  # empty: the default, as `or "1.1"` did
    ("NEWSARCHIVE_REDIS_DUPEFILTER", "BLOOM", "bloom"),
    ("NEWSARCHIVE_CONTACT", " https://example.org/ ", "https://example.org/"),
    ("NEWSARCHIVE_CRAWL_ID", "", ""),
    ("NEWSARCHIVE_S3_ENDPOINT_URL", "http://[::1]:9000", "http://[::1]:9000"),
])
def test_good_values(name, value, expected):
    assert SCHEMA[name].parse(value) == expected


@pytest.mark.parametrize("name, url", [
    ("NEWSARCHIVE_REDIS_URL", "http://user:s3cret@h:6379/0"),
    ("NEWSARCHIVE_S3_ENDPOINT_URL", "ftp://AKIAKEY:s3cret@h/"),
])
def test_a_refused_url_is_quoted_without_its_credentials(name, url):
    with pytest.raises(ConfigError, match=name) as info:
        SCHEMA[name].parse(url)
    assert "s3cret" not in str(info.value) and "AKIAKEY" not in str(info.value)


def test_unknown_names_are_refused_with_the_closest_known_one():
    with pytest.raises(ConfigError, match=r"unknown setting NEWSARCHIVE_STOP_TIMOUT \(did you "
                                          r"mean NEWSARCHIVE_STOP_TIMEOUT\?\)"):
        validate({"NEWSARCHIVE_STOP_TIMOUT": "5"})


# --- any value: a typed value or one line ---------------------------------------------

HOSTILE = (
    "", " ", "inf", "-inf", "nan", "1e400", "0x10", "1_000", "True", "false", "٣",
    "redis://[::1", "http://[", "http://h:99999/", "redis://u:p@h/0", "WARC/1.1",
    "\x00", "a\nb", "9" * 5000, 10**400, float("nan"),
    None,  # unset, as Scrapy's Settings say it: the default
)
VALUES = st.one_of(
    st.text(max_size=60),
    st.from_regex(r"\s?[-+]?\d{0,12}(\.\d{0,6})?([eE][-+]?\d{1,4})?\s?", fullmatch=True),
    st.sampled_from(HOSTILE),
    st.integers(), st.floats(), st.booleans(),
)


def _one_line(error: ConfigError, name: str) -> None:
    message = str(error)
    assert message.startswith(name) or message.startswith(f"unknown setting {name}")
    assert "\n" not in message and "\r" not in message and len(message) < 400


@pytest.mark.parametrize("setting", SETTINGS + SCRAPY_CHECKS, ids=lambda s: s.name)
@PROPERTY
@given(value=VALUES)
def test_any_value_parses_to_its_type_or_is_one_line(setting, value):
    _parses_or_one_line(setting, value)


@pytest.mark.parametrize("setting", SETTINGS + SCRAPY_CHECKS, ids=lambda s: s.name)
def test_each_hostile_value_parses_to_its_type_or_is_one_line(setting):
    """The values most likely to escape as another exception, every time (the property
    above samples them only now and then)."""
    for value in HOSTILE:
        _parses_or_one_line(setting, value)


def _parses_or_one_line(setting, value) -> None:
    try:
        parsed = setting.parse(value)
    except ConfigError as e:
        _one_line(e, setting.name)
        return
    assert isinstance(parsed, setting.type)
    assert setting.parse(str(parsed)) == parsed  # what it reads as, read again, is the same


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
@PROPERTY
@given(value=VALUES)
def test_any_value_through_the_start_up_checks_is_a_config_or_one_line(setting, value):
    """What `scrapy crawl` runs (Config, the frontier's settings), not only the schema:
    S3Options and the registry file check see the value too."""
    # (a mapping: Config reads settings with .get only, as it does Scrapy's Settings)
    given = {**defaults(), "NEWSARCHIVE_REDIS_URL": "redis://127.0.0.1:9/0", setting.name: value}
    try:
        Config.from_settings(given)
        FrontierConfig.from_settings(given)
    except ConfigError as e:
        message = str(e)
        assert setting.name in message or "BLOOM_CAPACITY/_ERROR_RATE" in message, message
        assert "\n" not in message and "\r" not in message and len(message) < 400


# --- the reference table ---------------------------------------------------------------

def test_reference_markdown_has_one_row_per_setting_in_order():
    lines = reference_markdown().splitlines()
    assert lines[0] == "| setting | type | default | allowed | meaning |"
    rows = lines[2:]
    assert [re.match(r"\| `(\w+)` \|", row).group(1) for row in rows] == [s.name for s in SETTINGS]
    for row in rows:  # five cells: a "|" inside a cell is escaped
        assert len(re.findall(r"(?<!\\)\|", row)) == 6, row
    table = reference_markdown()
    assert "| `NEWSARCHIVE_WARC_MAX_SIZE` | integer | `1073741824` (1 GiB) | a whole number " \
           "at least 1024 | roll over" in table
    assert "| `NEWSARCHIVE_REDIS_DUPEFILTER` | choice | `set` | set or bloom |" in table

