"""Duplicate removal for exports: exact (content hash) or near (MinHash LSH), keeping
the earliest copy (by published date, else fetch time).

Streaming output needs the keep/drop decisions before the first record is written,
so deduplication is a first pass over the selected records that keeps a few compact
numbers per record, never the records:

- exact: 8 bytes of the content hash, two 8-byte dates (published, fetched) and a
  4-byte id check (about 28 bytes per record; sorting briefly doubles it);
- near: the same, plus one 4-byte hash per LSH band (``b`` bands, 32 at the default
  threshold 0.5 and 128 permutations), an 8-byte cluster link and a flag, so about
  170 bytes per record in memory, and
  the MinHash signature (4 bytes × permutations) in a temporary file read back only
  for candidate pairs.

MinHash and LSH banding are written here over numpy rather than taken from
datasketch, for memory: importing datasketch pulls in scipy (about 60 MB of resident
memory before any record), its MinHash hashes each shingle with one Python call, and
its in-memory LSH index keeps Python objects per band per record. The scheme is close
to datasketch's ``affine32`` one: 32-bit shingle hashes (word hashes combined and
mixed in numpy), ``a·h + b mod 2^32`` permutations with odd ``a`` followed by
murmur3's 32-bit finaliser, the minimum per permutation; bands and rows are chosen
the way datasketch's ``MinHashLSH`` does, with false negatives weighted 0.9. Near
copies form clusters (union-find over candidate pairs whose estimated Jaccard
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
                method="MinHash LSH (affine32 permutations, numpy)",
                threshold=self.threshold,
                shingle_words=self.shingle, num_perm=self.num_perm, seed=self.seed,
            )
        return described


# Odd 64-bit multipliers combining the words of a shingle (position matters).
_COMBINE = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
     0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
    dtype=np.uint64,
)


class MinHasher:
    """MinHash signatures of texts' word shingles, vectorised with numpy."""

    def __init__(self, num_perm: int, shingle: int, seed: int) -> None:
        if shingle > len(_COMBINE):
            raise ConfigError(f"shingles of at most {len(_COMBINE)} words")
        rng = np.random.default_rng(seed)
        self.a = (rng.integers(0, 1 << 31, num_perm, dtype=np.uint64) * 2 + 1).astype(np.uint32)
        self.b = rng.integers(0, 1 << 32, num_perm, dtype=np.uint64).astype(np.uint32)
        self.shingle = shingle

    def shingle_hashes(self, text: str) -> np.ndarray:
        """Distinct 32-bit hashes of the text's ``shingle``-word shingles (lowercased)."""
        words = _WORD.findall(text.lower())
        if not words:
            return np.zeros(0, dtype=np.uint32)
        ids = np.fromiter(
            (zlib.crc32(w.encode()) for w in words), dtype=np.uint64, count=len(words)
        )
        size = min(self.shingle, len(ids))
        count = len(ids) - size + 1
        mixed = np.zeros(count, dtype=np.uint64)
        for j in range(size):
            mixed += ids[j : j + count] * _COMBINE[j]
        mixed ^= mixed >> np.uint64(33)  # murmur3's 64-bit finaliser
        mixed *= np.uint64(0xFF51AFD7ED558CCD)
        mixed ^= mixed >> np.uint64(33)
        return np.unique((mixed >> np.uint64(32)).astype(np.uint32))

    def signature(self, text: str) -> np.ndarray | None:
        """The MinHash signature, or None for a text without words."""
        hashes = self.shingle_hashes(text)
        if not len(hashes):
            return None
        # An affine map mod 2^32 alone is a poor min-wise permutation (neighbouring
        # permutations' minima correlate); murmur3's 32-bit finaliser after it, itself a
        # bijection, makes the minima behave (estimates match true Jaccard).
        values = hashes[:, None] * self.a[None, :] + self.b[None, :]
        values ^= values >> np.uint32(16)
        values *= np.uint32(0x85EBCA6B)
        values ^= values >> np.uint32(13)
        values *= np.uint32(0xC2B2AE35)
        values ^= values >> np.uint32(16)
        return values.min(axis=0)


def lsh_bands(threshold: float, num_perm: int, fp_weight: float = 0.1) -> tuple[int, int]:
    """Bands and rows minimising weighted false positive + false negative probability."""
    grid = np.linspace(0.0, 1.0, 1001)
    best, chosen = float("inf"), (1, num_perm)
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            caught = 1.0 - (1.0 - grid**rows) ** bands
            low, high = grid <= threshold, grid >= threshold
            false_pos = np.trapezoid(caught[low], grid[low])
            false_neg = np.trapezoid(1.0 - caught[high], grid[high])
            error = fp_weight * false_pos + (1.0 - fp_weight) * false_neg
            if error < best:
                best, chosen = error, (bands, rows)
    return chosen


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
        self._bands = array("I")
        self._shingled = array("b")
        self._sig_file: Any = None
        if options.mode == "near":
            # Bands chosen for recall (false negatives weigh 0.9): every candidate pair is
            # verified against the threshold afterwards, so false positives cost little.
            self.bands, self.rows = lsh_bands(options.threshold, options.num_perm)
            self._hasher = MinHasher(options.num_perm, options.shingle, options.seed)
            rng = np.random.default_rng(options.seed + 1)
            self._row_mult = rng.integers(0, 1 << 63, self.rows, dtype=np.uint64) * np.uint64(2)
            self._row_mult += np.uint64(1)
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
        sig = self._hasher.signature(text)
        self._shingled.append(0 if sig is None else 1)
        if sig is None:
            sig = np.full(self.options.num_perm, 0xFFFFFFFF, dtype=np.uint32)
        self._sig_file.write(sig.tobytes())
        # One 32-bit hash per band of rows (a band matches when all its rows do).
        rows = sig[: self.bands * self.rows].reshape(self.bands, self.rows).astype(np.uint64)
        mixed = (rows * self._row_mult).sum(axis=1, dtype=np.uint64)
        mixed ^= mixed >> np.uint64(31)
        mixed *= np.uint64(0xBF58476D1CE4E5B9)
        mixed ^= mixed >> np.uint64(29)
        self._bands.extend((mixed >> np.uint64(32)).astype(np.uint32).tolist())

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
            np.frombuffer(self._bands, dtype=np.uint32).reshape(n, self.bands)
            if n
            else np.zeros((0, self.bands), np.uint32)
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
