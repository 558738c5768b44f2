"""W3C TDMRep's site-wide file, ``/.well-known/tdmrep.json``: which paths are reserved.

The file is a JSON array of rules ``{"location": "/path/*", "tdm-reservation": 0|1,
"tdm-policy": URL}``, locations written as robots.txt paths; a page's own header or
``<meta>`` overrides it, and the first rule whose location matches the page's path
applies. A file that is
not such an array states nothing: rights are recorded as found, never guessed.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

PATH = "/.well-known/tdmrep.json"
MAX_RULES = 1000


def parse(body: bytes) -> list[dict[str, Any]]:
    """The file's valid rules, in order ([] for anything else)."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return []
    if not isinstance(data, list):
        return []
    rules = []
    for item in data[:MAX_RULES]:
        if not isinstance(item, dict) or not isinstance(item.get("location"), str):
            continue
        reservation = item.get("tdm-reservation")
        if reservation not in (0, 1, "0", "1"):
            continue
        rule: dict[str, Any] = {"location": item["location"], "tdm-reservation": int(reservation)}
        if isinstance(item.get("tdm-policy"), str):
            rule["tdm-policy"] = item["tdm-policy"]
        rules.append(rule)
    return rules


@functools.lru_cache(maxsize=MAX_RULES)  # each page is matched against its host's rules
def _pattern(location: str) -> re.Pattern[str]:
    # robots.txt's path syntax, as TDMRep uses it: a prefix, `*` any run of characters,
    # a final `$` the end of the path ("/" is the whole site).
    anchored = location.endswith("$")
    body = ".*".join(re.escape(part) for part in location.removesuffix("$").split("*"))
    return re.compile(body + ("" if anchored else ".*"), re.DOTALL)


def rule_for(rules: list[dict[str, Any]], path: str) -> dict[str, Any] | None:
    """The first rule whose location matches path (None: the file says nothing of it)."""
    for rule in rules:
        location = rule["location"]
        if not location.startswith("/"):
            location = "/" + location
        if _pattern(location).fullmatch(path or "/"):
            return rule
    return None


def apply(rights: dict[str, Any], rules: list[dict[str, Any]], path: str) -> dict[str, Any]:
    """rights with the site file's reservation for path, where the page stated none."""
    if rights.get("tdm_reservation") is not None:
        return rights
    rule = rule_for(rules, path)
    if rule is None:
        return rights
    rights["tdm_reservation"] = rule["tdm-reservation"]
    rights["sources"]["tdm_reservation"] = PATH
    if rights.get("tdm_policy") is None and "tdm-policy" in rule:
        rights["tdm_policy"] = rule["tdm-policy"]
        rights["sources"]["tdm_policy"] = PATH
    return rights
