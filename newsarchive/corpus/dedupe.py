"""Duplicate removal for exports: exact (content hash) or near (MinHash LSH), keeping
the earliest copy (by published date, else fetch time).

Streaming output needs the keep/drop decisions before the first record is written,
so deduplication is a first pass over the selected records that keeps a few compact
numbers per record, never the records:

- exact: 8 bytes of the content hash, two 8-byte dates (published, fetched) and a
  4-byte id check (about 28 bytes per record; sorting briefly doubles it);
- near: the same, plus one 8-byte hash per LSH band (``b`` bands, 32 at the default
  threshold 0.5 and 128 permutations), an 8-byte cluster link and a flag, so about
  300 bytes per record in memory, and
  the MinHash signature (4 bytes × permutations) in a temporary file read back only
  for candidate pairs.

MinHash signatures come from datasketch; banding, candidate grouping and clustering
are done here over numpy arrays because datasketch's in-memory LSH index keeps Python
objects per band per record (hundreds of bytes each), which does not stay flat.
Near copies form clusters (union-find over candidate pairs whose estimated Jaccard
similarity of word shingles reaches the threshold); the earliest record of each
cluster is kept.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import zlib
from array import array
from dataclasses import dataclass
from typing import Any

import numpy as np

from newsarchive.corpus.filters import record_date
from newsarchive.errors import ConfigError, StorageError

logger = logging.getLogger(__name__)

MODES = ("none", "exact", "near")
_WORD = re.compile(r"\w+")
_UNDATED = np.iinfo(np.int64).max


@dataclass(frozen=True)
class DedupeOptions:
    mode: str = "none"
    threshold: float = 0.5  # estimated Jaccard similarity of word shingles
    shingle: int = 5  # words per shingle
    num_perm: int = 128  # MinHash permutations
    seed: int = 1

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"--dedupe {self.mode!r}: use one of {', '.join(MODES)}")
        if not 0.0 < self.threshold <= 1.0:
            raise ConfigError(f"--near-threshold {self.threshold!r} must be in (0, 1]")
        if self.shingle < 1 or self.num_perm < 16:
            raise ConfigError("near-duplicate shingles need ≥ 1 word and ≥ 16 permutations")

    def describe(self) -> dict[str, Any]:
        if self.mode == "none":
            return {"mode": "none"}
        described: dict[str, Any] = {
            "mode": self.mode, "keep": "earliest (published, else fetched)"
        }
        if self.mode == "near":
            described.update(
                method="MinHash LSH (datasketch MinHash, blake2b 32-bit shingle hashes)",
                threshold=self.threshold,
                shingle_words=self.shingle, num_perm=self.num_perm, seed=self.seed,
            )
        return described


def shingles(text: str, size: int) -> set[bytes]:
    words = _WORD.findall(text.lower())
    if not words:
        return set()
    if len(words) <= size:
        return {" ".join(words).encode()}
    return {" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)}


def _hash32(shingle: bytes) -> int:
    """32-bit shingle hash for MinHash: blake2b is ~2x faster here than datasketch's sha1."""
    return int.from_bytes(hashlib.blake2b(shingle, digest_size=4).digest(), "little")


def _id_check(record: dict[str, Any]) -> int:
    return zlib.crc32(str(record.get("id", "")).encode())


def _date_key(record: dict[str, Any], date_field: str) -> int:
    when = record_date(record, date_field)
    if when is None:
        return int(_UNDATED)
    return int(when.timestamp() * 1_000_000)


@dataclass
class DedupePlan:
    """Keep/drop decisions by ordinal (position among the records that match)."""

    options: DedupeOptions
    drop: np.ndarray
    checks: np.ndarray
    exact_dropped: int = 0
    near_dropped: int = 0
    clusters: int = 0  # groups of copies (2+ records) found
    largest_cluster: int = 0

    @property
    def seen(self) -> int:
        return int(len(self.drop))

    @property
    def dropped(self) -> int:
        return self.exact_dropped + self.near_dropped

    def keep(self, ordinal: int, record: dict[str, Any]) -> bool:
        if ordinal >= len(self.checks) or self.checks[ordinal] != _id_check(record):
            raise StorageError(
                "the archive changed while exporting (a record differs between the two "
                "passes); run the export again"
            )
        return not bool(self.drop[ordinal])

    def figures(self) -> dict[str, Any]:
        return {
            **self.options.describe(),
            "records_considered": self.seen,
            "dropped": self.dropped,
            "dropped_exact": self.exact_dropped,
            "dropped_near": self.near_dropped,
            "duplicate_groups": self.clusters,
            "largest_group": self.largest_cluster,
        }


class Planner:
    """Collects what deduplication needs from each record (first pass), then decides."""

    def __init__(self, options: DedupeOptions, tmpdir: str | None = None) -> None:
        if options.mode == "none":
            raise ValueError("no plan is needed without deduplication")
        self.options = options
        self._hashes = array("Q")
        self._dates = array("q")
        self._fetched = array("q")
        self._checks = array("I")
        self._bands = array("Q")
        self._shingled = array("b")
        self._sig_file: Any = None
        if options.mode == "near":
            from datasketch import MinHash, MinHashLSH

            # Bands chosen for recall (false negatives weigh 0.9): every candidate pair is
            # verified against the threshold afterwards, so false positives cost little.
            lsh = MinHashLSH(
                threshold=options.threshold, num_perm=options.num_perm, weights=(0.1, 0.9)
            )
            self.bands, self.rows = int(lsh.b), int(lsh.r)
            self._template = MinHash(num_perm=options.num_perm, seed=options.seed)
            self._minhash = MinHash
            self._sig_file = tempfile.TemporaryFile(dir=tmpdir, prefix="newsarchive-minhash-")

    def add(self, record: dict[str, Any]) -> None:
        digest = str(record.get("content_hash") or "")
        hex_part = digest.rsplit(":", 1)[-1][:16]
        try:
            value = int(hex_part, 16)
        except ValueError:  # no usable hash in the record: hash the text here
            value = int(hashlib.sha256(str(record.get("text") or "").encode()).hexdigest()[:16], 16)
        self._hashes.append(value)
        self._dates.append(_date_key(record, "published"))
        self._fetched.append(_date_key(record, "fetched"))
        self._checks.append(_id_check(record))
        if self.options.mode == "near":
            self._add_signature(str(record.get("text") or ""))

    def _add_signature(self, text: str) -> None:
        opts = self.options
        grams = shingles(text, opts.shingle)
        mh = self._minhash(
            num_perm=opts.num_perm, seed=opts.seed, permutations=self._template.permutations,
            scheme=self._template.scheme, hashfunc=_hash32,
        )
        if grams:
            mh.update_batch(list(grams))
        sig = np.asarray(mh.hashvalues, dtype=np.uint32)
        self._sig_file.write(sig.tobytes())
        for band in range(self.bands):
            chunk = sig[band * self.rows : (band + 1) * self.rows].tobytes()
            self._bands.append(int.from_bytes(hashlib.blake2b(chunk, digest_size=8).digest()))
        self._shingled.append(1 if grams else 0)

    def _signature(self, ordinal: int) -> np.ndarray:
        size = self.options.num_perm * 4
        data = os.pread(self._sig_file.fileno(), size, ordinal * size)
        return np.frombuffer(data, dtype=np.uint32)

    def finish(self) -> DedupePlan:
        if self._sig_file is not None:
            self._sig_file.flush()
        n = len(self._hashes)
        hashes = np.frombuffer(self._hashes, dtype=np.uint64) if n else np.zeros(0, np.uint64)
        # "Earliest": by published date (else fetch time), then fetch time, then position,
        # folded into one rank so that every sort below has a single date key.
        published = np.frombuffer(self._dates, dtype=np.int64) if n else np.zeros(0, np.int64)
        fetched = np.frombuffer(self._fetched, dtype=np.int64) if n else np.zeros(0, np.int64)
        ordinals = np.arange(n, dtype=np.int64)
        dates = np.empty(n, dtype=np.int64)
        dates[np.lexsort((ordinals, fetched, published))] = ordinals
        checks = np.array(self._checks, dtype=np.uint32)
        order = np.lexsort((dates, hashes))
        same = np.zeros(n, dtype=bool)
        if n > 1:
            same[1:] = hashes[order][1:] == hashes[order][:-1]
        exact_dropped = int(same.sum())
        if self.options.mode == "exact":
            drop = np.zeros(n, dtype=bool)
            drop[order[same]] = True
            groups, largest = _group_sizes(hashes)
            plan = DedupePlan(self.options, drop, checks, exact_dropped, 0, groups, largest)
        else:
            plan = self._near(n, hashes, dates, ordinals, order, same, checks, exact_dropped)
        logger.info(
            "dedupe %s: %d of %d records are copies", self.options.mode, plan.dropped, n
        )
        self.close()
        return plan

    def _near(
        self,
        n: int,
        hashes: np.ndarray,
        dates: np.ndarray,
        ordinals: np.ndarray,
        order: np.ndarray,
        same: np.ndarray,
        checks: np.ndarray,
        exact_dropped: int,
    ) -> DedupePlan:
        parent = array("q", range(n))

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def union(a: int, b: int) -> None:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[rb] = ra

        # Exact copies belong together whatever their signatures say.
        sorted_ords = ordinals[order]
        group_first = sorted_ords[0] if n else 0
        for pos in range(n):
            if same[pos]:
                union(int(group_first), int(sorted_ords[pos]))
            else:
                group_first = sorted_ords[pos]
        bands = (
            np.frombuffer(self._bands, dtype=np.uint64).reshape(n, self.bands)
            if n
            else np.zeros((0, self.bands), np.uint64)
        )
        shingled = np.frombuffer(self._shingled, dtype=np.int8).astype(bool) if n else None
        verified: dict[tuple[int, int], bool] = {}
        threshold = self.options.threshold
        for band in range(self.bands):
            column = bands[:, band]
            by_bucket = np.lexsort((ordinals, dates, column))
            col_sorted = column[by_bucket]
            follows = np.zeros(n, dtype=bool)
            if n > 1:
                follows[1:] = col_sorted[1:] == col_sorted[:-1]
            first = 0
            for pos in np.flatnonzero(follows | np.roll(follows, -1)):
                if not follows[pos]:
                    first = int(by_bucket[pos])
                    continue
                member = int(by_bucket[pos])
                if not (shingled[first] and shingled[member]) or find(first) == find(member):
                    continue
                pair = (first, member)
                if pair not in verified:
                    similarity = float(
                        np.mean(self._signature(first) == self._signature(member))
                    )
                    verified[pair] = similarity >= threshold
                if verified[pair]:
                    union(first, member)
        roots = np.fromiter((find(i) for i in range(n)), dtype=np.int64, count=n)
        keep_order = np.lexsort((ordinals, dates, roots))
        later = np.zeros(n, dtype=bool)
        if n > 1:
            later[1:] = roots[keep_order][1:] == roots[keep_order][:-1]
        drop = np.zeros(n, dtype=bool)
        drop[keep_order[later]] = True
        groups, largest = _group_sizes(roots)
        total = int(drop.sum())
        return DedupePlan(
            self.options, drop, checks, exact_dropped, total - exact_dropped, groups, largest
        )

    def close(self) -> None:
        if self._sig_file is not None:
            self._sig_file.close()
            self._sig_file = None


def _group_sizes(labels: np.ndarray) -> tuple[int, int]:
    """How many labels occur more than once, and the largest group's size."""
    if len(labels) == 0:
        return 0, 0
    _, counts = np.unique(labels, return_counts=True)
    multi = counts[counts > 1]
    return int(len(multi)), int(multi.max()) if len(multi) else 0
