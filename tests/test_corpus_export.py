"""`newsarchive export` and the Corpus API over a real crawl of the sample site, read back
with pyarrow, pandas and DuckDB; the same tests run on a folder and on an S3 endpoint."""

from __future__ import annotations

import gzip
import json
import shutil
from collections import Counter
from datetime import UTC, datetime

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from newsarchive.cli import main
from newsarchive.corpus.reader import Archive
from newsarchive.sample_site import SampleSite


def sql(query: str) -> list[tuple]:
    """DuckDB in memory, reading the files with its own readers (no help from us)."""
    with duckdb.connect() as con:
        return con.execute(query).fetchall()


def run(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def archived(archive_crawl) -> list[dict]:
    """Every text record of the crawl, read straight from the shards."""
    records = []
    for key in archive_crawl.keys("text"):
        lines = gzip.decompress(archive_crawl.read(key)).splitlines()
        records += [json.loads(line) for line in lines]
    return records


@pytest.fixture(scope="module")
def wire_pair():
    """The syndicated wire story the sample site publishes twice, earliest first."""
    copies = sorted(
        (a for a in SampleSite().articles if a.syndication_id), key=lambda a: a.published
    )
    assert len(copies) == 2
    return copies


def test_parquet_export_reads_back_typed_in_pyarrow_pandas_and_duckdb(archive_crawl, tmp_path):
    out = tmp_path / "out"
    result = run("export", archive_crawl.uri, "-o", str(out), "--format", "parquet")
    assert result.exit_code == 0, result.output
    records = archived(archive_crawl)
    assert f"exported {len(records)} records" in result.output

    table = pq.read_table(out / "corpus.parquet")
    assert table.num_rows == len(records)
    schema = table.schema
    assert schema.field("fetched_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("published").type == pa.timestamp("us", tz="UTC")
    assert schema.field("authors").type == pa.list_(pa.string())
    assert schema.field("tags").type == pa.list_(pa.string())
    assert pa.types.is_struct(schema.field("warc").type)
    by_id = {r["id"]: r for r in records}
    for row in table.to_pylist():
        rec = by_id[row["id"]]
        assert row["authors"] == rec["authors"]
        assert row["text"] == rec["text"]
        assert row["fetched_at"] == datetime.fromisoformat(rec["fetched_at"]).astimezone(UTC)
        assert row["warc"]["offset"] == rec["warc"]["offset"]

    frame = pd.read_parquet(out / "corpus.parquet")
    assert len(frame) == len(records)
    assert str(frame["published"].dtype) == "datetime64[us, UTC]"
    assert set(frame["language"]) == {"en", "de", "fr", "es", "ru"}

    rows = sql(f"select language, count(*) from read_parquet('{out}/corpus.parquet') group by 1")
    assert dict(rows) == dict(Counter(r["language"] for r in records))
    (kind,) = sql(
        "select typeof(published), typeof(authors) "
        f"from read_parquet('{out}/corpus.parquet') limit 1"
    )
    assert kind == ("TIMESTAMP WITH TIME ZONE", "VARCHAR[]")


def test_filters_each_select_what_they_say(archive_crawl, tmp_path):
    records = archived(archive_crawl)
    site = records[0]["site"]
    cases = {
        ("--lang", "de"): [r for r in records if r["language"] == "de"],
        ("--lang", "de,fr"): [r for r in records if r["language"] in ("de", "fr")],
        ("--site", site): records,
        ("--min-words", "200"): [r for r in records if r["word_count"] >= 200],
        ("--since", "2026-10-01", "--until", "2026-10-31"): [
            r for r in records
            if "2026-10-01" <= datetime.fromisoformat(r["published"]).astimezone(UTC)
            .date().isoformat() <= "2026-10-31"
        ],
        ("--crawl", archive_crawl.manifest["crawl_id"]): records,
    }
    for number, (args, expected) in enumerate(cases.items()):
        out = tmp_path / f"out{number}"
        result = run("export", archive_crawl.uri, "-o", str(out), *args)
        assert result.exit_code == 0, (args, result.output)
        got = [json.loads(line) for line in (out / "corpus.jsonl").read_text().splitlines()]
        assert sorted(r["id"] for r in got) == sorted(r["id"] for r in expected), args
        assert len(got) > 0, args
    # fetch dates: everything was fetched today, nothing before 2000
    fetched = records[0]["fetched_at"][:10]
    out = tmp_path / "fetched"
    assert run("export", archive_crawl.uri, "-o", str(out), "--date-field", "fetched",
               "--since", fetched, "--until", fetched).exit_code == 0
    assert len((out / "corpus.jsonl").read_text().splitlines()) == len(records)
    out = tmp_path / "none"
    assert run("export", archive_crawl.uri, "-o", str(out), "--date-field", "fetched",
               "--until", "2000-01-01").exit_code == 0
    assert (out / "corpus.jsonl").read_text() == ""


def test_near_dedupe_drops_the_later_wire_copy_exact_keeps_both(
    archive_crawl, tmp_path, wire_pair
):
    first, second = wire_pair
    out = tmp_path / "near"
    result = run("export", archive_crawl.uri, "-o", str(out), "--dedupe", "near",
                 "--fields", "id,url,title,published")
    assert result.exit_code == 0, result.output
    urls = [json.loads(line)["url"] for line in (out / "corpus.jsonl").read_text().splitlines()]
    assert any(u.endswith(first.path) for u in urls)
    assert not any(u.endswith(second.path) for u in urls)
    card = json.loads((out / "datacard.json").read_text())
    assert card["dedupe"]["mode"] == "near"
    assert card["dedupe"]["dropped_near"] == 1
    assert card["dedupe"]["duplicate_groups"] == 1
    assert card["counts"]["duplicates"] == 1

    out = tmp_path / "exact"
    assert run("export", archive_crawl.uri, "-o", str(out), "--dedupe", "exact").exit_code == 0
    urls = [json.loads(line)["url"] for line in (out / "corpus.jsonl").read_text().splitlines()]
    assert any(u.endswith(second.path) for u in urls)  # small edits: not an exact copy


def test_corpus_api_filters_and_builds_frames(archive_crawl):
    from newsarchive import Corpus

    corpus = Corpus(archive_crawl.uri).filter(lang="de", since="2026-01-01")
    articles = list(corpus)
    assert len(articles) == 6
    assert all(a.language == "de" and a.published.tzinfo is not None for a in articles)
    assert all(isinstance(a.authors, tuple) and a.warc.length > 0 for a in articles)
    frame = corpus.to_pandas(fields=["id", "title", "published", "authors"])
    assert list(frame.columns) == ["id", "title", "published", "authors"]
    assert len(frame) == 6 and str(frame["published"].dtype) == "datetime64[us, UTC]"
    table = Corpus(archive_crawl.uri).dedupe("near").to_arrow()
    assert table.num_rows == len(archived(archive_crawl)) - 1


def test_partitioned_parquet_and_csv_read_back(archive_crawl, tmp_path):
    records = archived(archive_crawl)
    out = tmp_path / "parts"
    result = run("export", archive_crawl.uri, "-o", str(out), "--format", "parquet",
                 "--partition", "--fields", "id,site,published,title,authors,text")
    assert result.exit_code == 0, result.output
    days = {datetime.fromisoformat(r["published"]).astimezone(UTC).date().isoformat()
            for r in records}
    site = records[0]["site"]
    assert {p.parent.name for p in out.glob("corpus/site=*/date=*/*.parquet")} == {
        f"date={d}" for d in days
    }
    frame = pd.read_parquet(out / "corpus")
    assert len(frame) == len(records) and set(frame["site"].astype(str)) == {site}
    assert pq.read_table(out / "corpus").num_rows == len(records)
    (count,) = sql(
        f"select count(*), count(distinct site) from read_parquet('{out}/corpus/**/*.parquet',"
        " hive_partitioning=true)"
    )
    assert count == (len(records), 1)

    out = tmp_path / "csv"
    assert run("export", archive_crawl.uri, "-o", str(out), "--format", "csv").exit_code == 0
    frame = pd.read_csv(out / "corpus.csv")
    assert len(frame) == len(records)
    assert json.loads(frame["authors"][0]) == next(
        r["authors"] for r in records if r["id"] == frame["id"][0]
    )
    assert sql(f"select count(*) from read_csv('{out}/corpus.csv')") == [(len(records),)]


def test_data_card_figures_match_the_export(archive_crawl, tmp_path):
    records = archived(archive_crawl)
    out = tmp_path / "out"
    assert run("export", archive_crawl.uri, "-o", str(out), "--lang", "en,fr").exit_code == 0
    card = json.loads((out / "datacard.json").read_text())
    chosen = [r for r in records if r["language"] in ("en", "fr")]
    assert card["archive"] == archive_crawl.uri
    assert [c["crawl_id"] for c in card["crawls"]] == [archive_crawl.manifest["crawl_id"]]
    assert card["counts"]["read"] == len(records)
    assert card["counts"]["exported"] == len(chosen)
    assert card["counts"]["filtered"] == len(records) - len(chosen)
    languages = Counter(r["language"] for r in chosen)
    assert card["counts"]["per_language"] == dict(sorted(languages.items()))
    assert card["counts"]["per_site"] == {chosen[0]["site"]: len(chosen)}
    months = Counter(
        datetime.fromisoformat(r["published"]).astimezone(UTC).strftime("%Y-%m") for r in chosen
    )
    assert card["counts"]["per_month"] == dict(sorted(months.items()))
    assert card["export"]["filter"]["languages"] == ["en", "fr"]
    assert card["dedupe"] == {"mode": "none"}
    assert {"python", "newsarchive", "pyarrow"} <= set(card["software"])
    assert card["crawls"][0]["software"]["scrapy"]
    assert "responsibility" in card["terms"]
    assert card["files"] == [
        {"path": "corpus.jsonl", "records": len(chosen),
         "bytes": (out / "corpus.jsonl").stat().st_size}
    ]
    readme = (out / "README.md").read_text()
    assert archive_crawl.manifest["crawl_id"] in readme
    assert "Terms and licensing" in readme and f"exported: {len(chosen)}" in readme


def test_rerun_is_complete_other_arguments_refused_interrupted_restarts(archive_crawl, tmp_path):
    out = tmp_path / "out"
    first = run("export", archive_crawl.uri, "-o", str(out), "--lang", "de")
    assert first.exit_code == 0
    data = (out / "corpus.jsonl").read_bytes()
    again = run("export", archive_crawl.uri, "-o", str(out), "--lang", "de")
    assert again.exit_code == 0 and "already complete" in again.output
    other = run("export", archive_crawl.uri, "-o", str(out), "--lang", "fr")
    assert other.exit_code == 2
    assert "different arguments (filter.languages)" in other.stderr
    assert (out / "corpus.jsonl").read_bytes() == data  # untouched

    # An interrupted run (state "running", a partial file) is restarted from scratch.
    state = json.loads((out / ".export-state.json").read_text())
    (out / ".export-state.json").write_text(json.dumps({**state, "status": "running"}))
    (out / "corpus.jsonl").write_bytes(data[: len(data) // 3])
    (out / "datacard.json").unlink()
    resumed = run("export", archive_crawl.uri, "-o", str(out), "--lang", "de")
    assert resumed.exit_code == 0, resumed.output
    assert (out / "corpus.jsonl").read_bytes() == data

    replaced = run("export", archive_crawl.uri, "-o", str(out), "--lang", "fr", "--overwrite")
    assert replaced.exit_code == 0
    langs = {json.loads(x)["language"] for x in (out / "corpus.jsonl").read_text().splitlines()}
    assert langs == {"fr"}

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    refused = run("export", archive_crawl.uri, "-o", str(foreign))
    assert refused.exit_code == 2 and "holds no newsarchive export" in refused.stderr
    assert (foreign / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("archive_crawl", ["folder"], indirect=True)
def test_bad_input_is_one_clear_line_and_exit_2(archive_crawl, tmp_path):
    uri = archive_crawl.uri
    out = str(tmp_path / "out")
    empty = tmp_path / "empty"
    (empty / "crawls").mkdir(parents=True)
    cases = [
        (("export", str(tmp_path / "missing"), "-o", out), "does not exist"),
        (("export", str(empty), "-o", out), "no complete crawl"),
        (("export", uri, "-o", out, "--since", "2026-13-01"), "--since '2026-13-01' is not a date"),
        (("export", uri, "-o", out, "--until", "yesterday"), "--until 'yesterday' is not a date"),
        (("export", uri, "-o", out, "--lang", "German"), "not a language code"),
        (("export", uri, "-o", out, "--fields", "id,body"), "unknown field 'body'; fields are: id"),
        (("export", uri, "-o", out, "--site", "nosuch"), "--site 'nosuch': no such site"),
        (("export", uri, "-o", out, "--crawl", "nosuch"), "--crawl 'nosuch': no complete crawl"),
        (("export", uri, "-o", out, "--format", "csv", "--partition"), "--partition"),
        (("export", uri, "-o", out, "--since", "2026-10-02", "--until", "2026-10-01"),
         "--since must be before --until"),
        (("stats", str(tmp_path / "missing")), "does not exist"),
        (("show", uri, "00000000-dead"), "no article"),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("newsarchive: error: "), (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()  # nothing written for refused arguments
    bad_format = run("export", uri, "-o", out, "--format", "xml")
    assert bad_format.exit_code == 2 and "xml" in bad_format.stderr
    # Typed options are refused by click itself, naming the option.
    words = run("export", uri, "-o", out, "--min-words", "many")
    assert words.exit_code == 2 and "Invalid value for '--min-words'" in words.stderr


@pytest.mark.parametrize("archive_crawl", ["folder"], indirect=True)
def test_partial_crawls_are_invisible_and_corrupt_shards_refused(archive_crawl, tmp_path):
    archive = tmp_path / "archive"
    shutil.copytree(archive_crawl.uri, archive)
    key = archive_crawl.keys("text")[0]
    # A crashed crawl left a shard with no manifest: readers must not see it.
    orphan = archive / key.replace(archive_crawl.manifest["crawl_id"], "20990101T000000Z-dead00")
    shutil.copy(archive / key, orphan)
    assert Archive(str(archive)).crawl_ids() == [archive_crawl.manifest["crawl_id"]]
    out = tmp_path / "out"
    assert run("export", str(archive), "-o", str(out)).exit_code == 0
    assert len((out / "corpus.jsonl").read_text().splitlines()) == len(archived(archive_crawl))
    # A shard whose bytes differ from the manifest is an error, not silently used.
    (archive / key).write_bytes(gzip.compress(b'{"id": "x"}\n'))
    result = run("export", str(archive), "-o", str(tmp_path / "out2"))
    assert result.exit_code == 2 and "does not match its manifest" in result.stderr
