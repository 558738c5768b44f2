"""Peak memory and speed of `newsarchive export` on a synthetic archive (default 200k records).

Builds a synthetic archive (text shards + manifest, 2–4 KB of text per record) in a
temporary folder, then runs the real command line in a subprocess for each case and
reads that process's peak RSS from the kernel (wait4). Fails (exit 1) when a case goes
over the limit (300 MB by default).

    python benchmarks/export_memory.py                  # 200k records, the main cases
    python benchmarks/export_memory.py --records 50000 --near
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from newsarchive.corpus import synthetic

CASES = {
    "parquet": ["--format", "parquet"],
    "jsonl": ["--format", "jsonl"],
    "csv": ["--format", "csv"],
    "parquet-partitioned": ["--format", "parquet", "--partition"],
    "parquet-exact": ["--format", "parquet", "--dedupe", "exact"],
    "jsonl-lang-de": ["--format", "jsonl", "--lang", "de"],
}
NEAR = {"parquet-near": ["--format", "parquet", "--dedupe", "near"]}


def run_case(archive: Path, out: Path, args: list[str]) -> tuple[float, int, str]:
    command = [sys.executable, "-m", "newsarchive.cli", "export", str(archive), "-o", str(out),
               "--no-progress", *args]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    stdout = process.stdout.read().decode() if process.stdout else ""
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"export {' '.join(args)} failed:\n{stderr}")
    return seconds, usage.ru_maxrss * 1024, stdout.strip()  # ru_maxrss is in KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--limit-mb", type=float, default=300)
    parser.add_argument("--near", action="store_true", help="also near dedupe (slow: ~1 ms/record)")
    parser.add_argument("--only", help="run only this case")
    opts = parser.parse_args()
    cases = {**CASES, **(NEAR if opts.near else {})}
    if opts.only:
        cases = {opts.only: {**CASES, **NEAR}[opts.only]}
    with tempfile.TemporaryDirectory(prefix="newsarchive-bench-") as tmp:
        archive = Path(tmp) / "archive"
        started = time.monotonic()
        built = synthetic.build(archive, opts.records)
        size = sum(f.stat().st_size for f in archive.rglob("*.gz"))
        print(
            f"synthetic archive: {built.records} records ({built.exact_copies} exact, "
            f"{built.near_copies} near copies), {size / 2**20:.0f} MiB of gzip shards, "
            f"built in {time.monotonic() - started:.0f} s"
        )
        print(f"{'case':22} {'seconds':>8} {'records/s':>10} {'peak RSS MB':>12} {'output MB':>10}")
        failed = False
        for name, args in cases.items():
            out = Path(tmp) / f"out-{name}"
            seconds, peak, summary = run_case(archive, out, args)
            written = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
            over = peak > opts.limit_mb * 2**20
            failed |= over
            print(
                f"{name:22} {seconds:8.1f} {built.records / seconds:10,.0f} "
                f"{peak / 2**20:12.0f} {written / 2**20:10.0f}{'  OVER LIMIT' if over else ''}"
            )
            print(f"    {summary}")
    print(f"limit {opts.limit_mb:.0f} MB: {'FAILED' if failed else 'ok'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
