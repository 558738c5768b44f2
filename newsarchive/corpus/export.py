"""Exporting a corpus from an archive into a folder: filters, dedupe, writers, data card.

The output folder holds the data files, ``README.md`` + ``datacard.json`` and
``.export-state.json``, which records the arguments. Running the same export again
finds it complete and does nothing; an export that was interrupted is restarted
cleanly (its partial files removed first); an export with different arguments is
refused unless ``overwrite`` is given, so two exports never mix in one folder.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsarchive.corpus import datacard
from newsarchive.corpus.dedupe import DedupeOptions, DedupePlan, Planner
from newsarchive.corpus.filters import Filter, record_date
from newsarchive.corpus.reader import Archive, Shard
from newsarchive.corpus.schema import FIELDS
from newsarchive.corpus.writers import FORMATS, PARTITION_ROOT, Partitioned, SingleFile
from newsarchive.errors import ConfigError
from newsarchive.progress import Bar
from newsarchive.rights import takedowns

logger = logging.getLogger(__name__)

STATE = ".export-state.json"
CARD_JSON = "datacard.json"
CARD_MD = "README.md"
STATE_FORMAT = "newsarchive-export-state/1"


@dataclass(frozen=True)
class ExportOptions:
    format: str = "jsonl"
    fields: tuple[str, ...] = FIELDS
    filter: Filter = field(default_factory=Filter)
    dedupe: DedupeOptions = field(default_factory=DedupeOptions)
    partition: bool = False

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ConfigError(f"--format {self.format!r}: use one of {', '.join(FORMATS)}")
        if self.partition and self.format != "parquet":
            raise ConfigError("--partition writes Parquet partitions: use it with --format parquet")

    def describe(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "fields": list(self.fields),
            "partition": ["site", "date"] if self.partition else [],
            "filter": self.filter.describe(),
            "dedupe": self.dedupe.describe(),
        }


@dataclass
class ExportResult:
    out: Path
    status: str  # "exported", or "complete" when an identical export was already there
    read: int = 0
    filtered: int = 0
    duplicates: int = 0
    exported: int = 0
    seconds: float = 0.0
    files: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        if self.status == "complete":
            return (
                f"{self.out}: this export is already complete ({self.exported} records); "
                f"{self.note}"
            )
        return (
            f"exported {self.exported} records to {self.out} "
            f"(read {self.read}, filtered out {self.filtered}, duplicates {self.duplicates}) "
            f"in {self.seconds:.1f} s, {self.rate:,.0f} records/s; data card: "
            f"{self.out / CARD_MD}"
        )


# -- the output folder -------------------------------------------------------------
def _ours(out: Path) -> list[Path]:
    """What an export writes into its folder (and may remove again)."""
    names = [STATE, CARD_JSON, CARD_MD]
    found = [out / n for n in names if (out / n).exists()]
    found += sorted(out.glob("corpus.*"))
    if (out / PARTITION_ROOT).is_dir():
        found.append(out / PARTITION_ROOT)
    return found


def _clear(out: Path) -> None:
    for path in _ours(out):
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def _differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    keys = sorted(set(old) | set(new))
    found: list[str] = []
    for key in keys:
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            found.append(f"{prefix}{key}")
    return found


def prepare_output(out: Path, identity: dict[str, Any], overwrite: bool) -> dict[str, Any] | None:
    """Make ``out`` ready for this export; return the state of an identical complete one."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"output {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / STATE
    if not state_path.exists():
        if any(out.iterdir()):
            raise ConfigError(
                f"output folder {out} is not empty and holds no newsarchive export; "
                "choose a new or empty folder"
            )
        return None
    try:
        state = json.loads(state_path.read_text())
        old_identity = state["identity"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(
            f"{state_path} is unreadable; remove the folder {out} or export elsewhere"
        ) from None
    if old_identity != identity:
        if not overwrite:
            changed = ", ".join(_differences(old_identity, identity)) or "arguments"
            raise ConfigError(
                f"{out} holds an export made with different arguments ({changed}); "
                "export into another folder, or add --overwrite to replace it"
            )
        logger.info("replacing the export in %s", out)
        _clear(out)
        return None
    if state.get("status") == "complete" and not overwrite:
        return state
    if state.get("status") != "complete":
        logger.warning("%s holds an interrupted export with the same arguments: restarting it", out)
    _clear(out)
    return None


def _write_state(out: Path, identity: dict[str, Any], status: str, **extra: Any) -> None:
    doc = {"format": STATE_FORMAT, "status": status, "identity": identity, **extra}
    tmp = out / f"{STATE}.tmp"
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, out / STATE)


# -- the export --------------------------------------------------------------------
def plan_dedupe(
    archive: Archive,
    flt: Filter,
    shards: list[Shard],
    options: DedupeOptions,
    tmpdir: Path,
    progress: bool = False,
) -> DedupePlan:
    """First pass: the keep/drop decision for every record the filter selects."""
    planner = Planner(options, tmpdir=str(tmpdir))
    bar = Bar(progress, sum(s.records for s in shards), f"dedupe ({options.mode})")
    try:
        for _shard, record in archive.scan(flt, shards):
            bar.update()
            if record is not None:
                planner.add(record)
        return planner.finish()
    finally:
        planner.close()
        bar.close()


def export(
    archive: Archive,
    out: Path,
    options: ExportOptions,
    *,
    overwrite: bool = False,
    progress: bool = False,
) -> ExportResult:
    flt = options.filter
    identity = {"archive": archive.uri, **options.describe()}
    if archive.all_extractions:  # only then: earlier exports keep their identity
        identity["extractions"] = "all"
    shards = archive.shards(flt)  # validates the filter against the archive first
    done = prepare_output(out, identity, overwrite)
    crawls_read = sorted({s.crawl_id for s in shards})
    takedown_files = takedowns.manifests(archive.store) if archive.honour_takedowns else []
    if done is not None and done.get("takedowns", []) != takedown_files:
        # An article was withdrawn (or restored) since: the export must follow, unasked.
        logger.info("the takedown list of %s changed since %s was exported: exporting again",
                    archive.uri, out)
        _clear(out)
        done = None
    if done is not None:
        newer = sorted(set(archive.crawl_ids()) - set(done.get("crawls", [])))
        note = (
            f"{len(newer)} crawl(s) completed since; add --overwrite to export again"
            if newer
            else "nothing to do (add --overwrite to export again)"
        )
        return ExportResult(
            out, "complete", exported=int(done.get("exported", 0)), note=note,
            files=list(done.get("files", [])),
        )
    _write_state(out, identity, "running", crawls=archive.crawl_ids())
    started = time.monotonic()

    plan = None
    if options.dedupe.mode != "none":
        plan = plan_dedupe(archive, flt, shards, options.dedupe, out, progress)

    sink: SingleFile | Partitioned = (
        Partitioned(options.format, out, options.fields)
        if options.partition
        else SingleFile(options.format, out, options.fields)
    )
    result = ExportResult(out, "exported")
    per_site: Counter[str] = Counter()
    per_language: Counter[str] = Counter()
    per_month: Counter[str] = Counter()
    bar = Bar(progress, sum(s.records for s in shards), "export")
    ordinal = 0
    left_out: Counter[str] = Counter()
    signals: Counter[str] = Counter()
    try:
        for _shard, record in archive.scan(flt, shards, left_out):
            result.read += 1
            bar.update()
            if result.read % 5000 == 0:
                bar.postfix(
                    {"kept": result.exported, "filtered": result.filtered,
                     "dup": result.duplicates}
                )
            if record is None:
                result.filtered += 1
                continue
            if plan is not None:
                keep = plan.keep(ordinal, record)
                ordinal += 1
                if not keep:
                    result.duplicates += 1
                    continue
            when = record_date(record, flt.date_field)
            day = when.date().isoformat() if when else "unknown"
            sink.write(record, (str(record.get("site")), day))
            result.exported += 1
            per_site[str(record.get("site"))] += 1
            per_language[record.get("language") or "unknown"] += 1
            per_month[day[:7]] += 1
            signals.update(datacard.rights_signals(record))
    finally:
        bar.close()
        sink.close()
    result.seconds = time.monotonic() - started
    result.files = [
        {"path": f.path, "records": f.records, "bytes": f.bytes} for f in sink.files
    ]
    counts = {
        "read": result.read,
        "filtered": result.filtered,
        "duplicates": result.duplicates,
        "exported": result.exported,
        "shards_read": len(shards),
    }
    dedupe = plan.figures() if plan is not None else DedupeOptions().describe()
    card = datacard.build(
        archive=archive.uri,
        manifests=archive.manifests,
        crawls_read=crawls_read,
        export=options.describe(),
        counts=counts,
        per_site=per_site,
        per_language=per_language,
        per_month=per_month,
        dedupe=dedupe,
        files=result.files,
        rights={"filters": list(flt.rights), "exported": dict(sorted(signals.items())),
                "left_out": dict(sorted(left_out.items()))},
    )
    (out / CARD_JSON).write_text(datacard.dumps(card), encoding="utf-8")
    (out / CARD_MD).write_text(datacard.render(card), encoding="utf-8")
    _write_state(
        out, identity, "complete", crawls=archive.crawl_ids(), exported=result.exported,
        files=result.files, takedowns=takedown_files,
    )
    return result
