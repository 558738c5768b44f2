"""The Python API: ``Corpus(archive).filter(...)`` iterates typed articles.

A Corpus is an immutable query over an archive (folder or ``s3://``): ``filter`` and
``dedupe`` return new ones; iterating streams records; ``to_arrow``/``to_pandas``
build a table in memory (choose ``fields`` to keep it small); ``export`` writes files
with a data card, like the command line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsarchive.corpus.article import Article
from newsarchive.corpus.dedupe import DedupeOptions
from newsarchive.corpus.filters import Filter
from newsarchive.corpus.reader import Archive
from newsarchive.corpus.schema import arrow_row, arrow_schema, select_fields

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from newsarchive.corpus.export import ExportResult
    from newsarchive.storage import Store


class Corpus:
    """Articles of an archive that match a filter, optionally without duplicates."""

    def __init__(
        self,
        archive: str | Store | Archive,
        *,
        workers: int = 4,
        all_extractions: bool = False,
        _filter: Filter | None = None,
        _dedupe: DedupeOptions | None = None,
    ) -> None:
        # Each capture once, with its latest extraction (a re-extraction supersedes the
        # crawl it re-extracted); all_extractions=True reads every one.
        self.archive = archive if isinstance(archive, Archive) else Archive(
            archive, workers, all_extractions=all_extractions
        )
        self._filter = _filter or Filter()
        self._dedupe = _dedupe or DedupeOptions()

    def __repr__(self) -> str:
        return f"Corpus({self.archive.uri!r}, filter={self._filter}, dedupe={self._dedupe.mode!r})"

    @property
    def filter_spec(self) -> Filter:
        return self._filter

    def filter(
        self,
        *,
        site: str | Iterable[str] | None = None,
        lang: str | Iterable[str] | None = None,
        since: str | date | datetime | None = None,
        until: str | date | datetime | None = None,
        date_field: str | None = None,
        crawl: str | Iterable[str] | None = None,
        min_words: int | None = None,
        rights: str | Iterable[str] | None = None,
    ) -> Corpus:
        """A corpus narrowed further; ``until`` includes that whole day. ``rights``
        honours what publishers stated (``"allow-tdm"``: no TDM reservation, no noai).
        Articles on the archive's takedown list are never part of a corpus."""
        narrowed = self._filter.refine(
            site=site, lang=lang, since=since, until=until, date_field=date_field,
            crawl=crawl, min_words=min_words, rights=rights,
        )
        self.archive.check(narrowed)
        return Corpus(self.archive, _filter=narrowed, _dedupe=self._dedupe)

    def dedupe(self, mode: str = "exact", threshold: float = 0.5) -> Corpus:
        """A corpus without copies: ``exact`` (content hash) or ``near`` (MinHash LSH)."""
        options = replace(self._dedupe, mode=mode, threshold=threshold)
        return Corpus(self.archive, _filter=self._filter, _dedupe=options)

    def records(self) -> Iterator[dict[str, Any]]:
        """Matching records as plain dicts, exactly as archived."""
        shards = self.archive.shards(self._filter)
        if self._dedupe.mode == "none":
            yield from self.archive.records(self._filter, shards)
            return
        import tempfile

        from newsarchive.corpus.export import plan_dedupe

        with tempfile.TemporaryDirectory(prefix="newsarchive-") as tmp:
            plan = plan_dedupe(self.archive, self._filter, shards, self._dedupe, Path(tmp))
        for ordinal, record in enumerate(self.archive.records(self._filter, shards)):
            if plan.keep(ordinal, record):
                yield record

    def __iter__(self) -> Iterator[Article]:
        for record in self.records():
            yield Article.from_record(record)

    def count(self) -> int:
        return sum(1 for _ in self.records())

    def to_arrow(self, fields: str | Sequence[str] | None = None) -> pa.Table:
        """The matching records as a pyarrow Table with the documented schema."""
        import pyarrow as pa

        names = select_fields(fields)
        schema = arrow_schema(names)
        batches: list[pa.RecordBatch] = []
        rows: list[dict[str, Any]] = []
        for record in self.records():
            rows.append(arrow_row(record, names))
            if len(rows) >= 5000:
                batches.append(pa.RecordBatch.from_pylist(rows, schema=schema))
                rows = []
        if rows or not batches:
            batches.append(pa.RecordBatch.from_pylist(rows, schema=schema))
        return pa.Table.from_batches(batches, schema=schema)

    def to_pandas(self, fields: str | Sequence[str] | None = None) -> pd.DataFrame:
        """The matching records as a pandas DataFrame (timestamps are UTC-aware)."""
        return self.to_arrow(fields).to_pandas()

    def export(
        self,
        out: str | Path,
        format: str = "parquet",
        *,
        fields: str | Sequence[str] | None = None,
        partition: bool = False,
        overwrite: bool = False,
        progress: bool = False,
    ) -> ExportResult:
        """Write the corpus into the folder ``out`` with a data card (see the CLI)."""
        from newsarchive.corpus.export import ExportOptions, export

        options = ExportOptions(
            format=format, fields=select_fields(fields), filter=self._filter,
            dedupe=self._dedupe, partition=partition,
        )
        return export(self.archive, Path(out), options, overwrite=overwrite, progress=progress)
