"""The one writer of gzip JSON-lines files (text shards, state snapshots), and that every
part of newsarchive that writes one goes through it."""

from __future__ import annotations

import ast
import gzip
import json
from pathlib import Path

import pytest

from newsarchive.archive import jsonl
from newsarchive.archive.salvage import whole_lines
from newsarchive.archive.shards import ShardWriter
from newsarchive.archive.state import ArticleState, SiteState, parse_snapshot

ROOT = Path(__file__).resolve().parent.parent
RECORDS = [
    {"site": "s", "fetched_at": "2026-01-01T00:00:00Z", "n": n, "text": "Zürich – «ok»"}
    for n in range(5)
]


def test_records_read_back_one_compact_line_each(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    assert jsonl.write_file(path, RECORDS) == 5
    lines = gzip.decompress(path.read_bytes()).split(b"\n")
    assert lines[-1] == b"" and [json.loads(line) for line in lines[:-1]] == RECORDS
    assert "Zürich – «ok»".encode() in lines[0]  # UTF-8 as is, not \u escapes
    assert b", " not in lines[0] and b": " not in lines[0]


def test_the_same_records_give_the_same_bytes(tmp_path):
    jsonl.write_file(tmp_path / "a.jsonl.gz", RECORDS)
    jsonl.write_file(tmp_path / "b.jsonl.gz", RECORDS)
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()


def test_a_file_already_there_is_never_overwritten(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        jsonl.write_file(path, RECORDS)
    assert path.read_bytes() == b"keep"


def test_replace_file_swaps_the_whole_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    jsonl.write_file(path, RECORDS)
    assert jsonl.replace_file(path, RECORDS[:2]) == 2
    assert [json.loads(x) for x in gzip.decompress(path.read_bytes()).splitlines()] == RECORDS[:2]
    assert [p.name for p in tmp_path.iterdir()] == ["a.jsonl.gz"]


def test_flushed_records_survive_a_file_never_closed(tmp_path):
    """What a killed crawl leaves: every flushed line is readable, the file is not whole."""
    path = tmp_path / "a.jsonl.gz"
    out = jsonl.GzipJsonLines(path)
    for record in RECORDS:
        out.write(record)
        out.flush()
    assert whole_lines(path) == (RECORDS, False)
    out.abandon()  # no gzip trailer written
    assert whole_lines(path) == (RECORDS, False)
    out.close()  # nothing more once abandoned
    assert whole_lines(path) == (RECORDS, False)


def test_the_crawls_shards_and_state_snapshots_are_written_by_it(tmp_path):
    closed: list = []
    writer = ShardWriter("c", tmp_path / "spool", 100, lambda *a: closed.append(a))
    for record in RECORDS:
        writer.write(record)
    writer.close()
    ((shard, _, count),) = closed
    jsonl.write_file(tmp_path / "same.jsonl.gz", RECORDS)
    same = (tmp_path / "same.jsonl.gz").read_bytes()
    # The same lines and gzip header; the deflate blocks differ (a flush per record).
    assert count == 5 and gzip.decompress(shard.read_bytes()) == gzip.decompress(same)
    assert shard.read_bytes()[:10] == same[:10]

    entry = ArticleState(url="https://e.org/a", fetched_at="2026-01-01T00:00:00Z",
                         record_id="<urn:uuid:1>", payload_digest="sha1:X")
    state = SiteState("s", {"e.org/a": entry})
    assert state.write(tmp_path / "state.jsonl.gz") == 1
    assert parse_snapshot((tmp_path / "state.jsonl.gz").read_bytes()) == state.entries
    row = {"key": "e.org/a", **{k: v for k, v in vars(entry).items()}}
    jsonl.write_file(tmp_path / "row.jsonl.gz", [dict(sorted(row.items()))])
    assert (tmp_path / "state.jsonl.gz").read_bytes() == (tmp_path / "row.jsonl.gz").read_bytes()


def _gzip_writes(tree: ast.AST) -> list[int]:
    """Lines where gzip.open / gzip.GzipFile is called with a writing mode."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("open", "GzipFile")
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "gzip"):
            continue
        modes = [kw.value for kw in node.keywords if kw.arg == "mode"] + node.args[1:2]
        if any(isinstance(m, ast.Constant) and set(str(m.value)) & set("wax") for m in modes):
            found.append(node.lineno)
    return found


def test_no_other_module_writes_gzip_files():
    """A second writer would bring back a second encoding, level or header."""
    writers = {
        path.relative_to(ROOT).as_posix(): lines
        for folder in ("newsarchive", "spiders", "pipelines")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (lines := _gzip_writes(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert list(writers) == ["newsarchive/archive/jsonl.py"], writers
