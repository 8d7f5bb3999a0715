"""Dataset import at scale: peak memory and time of `promptyard dataset import`.

Run: PYTHONPATH=src .venv/bin/python benchmarks/bench_import.py [--sizes 100000:0,1000000:195]
     [--src OTHER_CHECKOUT/src]   (to measure another version of the code the same way)
Each size is ROWS:MB (MB 0: the ~50 MB-per-100k-rows shape of bench_datasets). The CSV is
written to a temp dir, then imported by the real command in a fresh subprocess (so the
numbers include interpreter start-up and the git commit): first with derived ids and with
an id column, then again after 10 rows were edited. Prints a markdown table: file size,
rows, the import process's peak RSS (VmHWM), the peak of it plus git (sampled every 10 ms)
and wall seconds. The target: under 500 MB for a 195 MB file, under 10 s for 100,000 rows.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import git
import psutil

ROOT = Path(__file__).resolve().parent.parent

from bench_datasets import WORDS  # noqa: E402  (the same vocabulary as the datasets benchmark)


def write_csv(path: Path, rows: int, target_mb: float, seed: int = 1) -> None:
    """A support-ticket CSV of about `target_mb`: quoted fields, commas and newlines inside."""
    rng = random.Random(seed)
    per_row = int(target_mb * 1024 * 1024 / rows)
    words = max(8, round((per_row - 26) / 7.25))  # 7.25: a word and its space, on average
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticket_id", "customer_name", "product", "message", "expected"])
        for i in range(rows):
            message = " ".join(rng.choices(WORDS, k=words * 2 // 3))
            expected = " ".join(rng.choices(WORDS, k=words // 3))
            if i % 10 == 0:
                message = message.replace(" ", ",\n", 1)
            writer.writerow(
                [f"T-{i:06d}", f"Customer {i % 997}", rng.choice(WORDS), message, expected]
            )


# The import's own high-water mark (VmHWM), read by the child at exit: the kernel's
# ru_maxrss of a child starts from the RSS of whoever forked it.
_LAUNCH = """
import atexit, sys
def _peak():
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    sys.stderr.write(f"peak-rss-kb {peak}\\n")
atexit.register(_peak)
sys.argv = ["promptyard", *sys.argv[1:]]
from promptyard.cli import main
main()
"""


def _sample_tree(proc: psutil.Process, peak: list[int], stop: threading.Event) -> None:
    """Keep the highest summed RSS of `proc` and its children (git), sampled every 10 ms."""
    while not stop.is_set():
        try:
            total = proc.memory_info().rss
            for child in proc.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            break
        peak[0] = max(peak[0], total)
        stop.wait(0.01)


def run_import(src: Path, ws: Path, csv_path: Path, *args: str) -> dict[str, float]:
    """`promptyard dataset import CSV ARGS` from `src` in a subprocess: peak MB and seconds."""
    env = {**os.environ, "PYTHONPATH": str(src), "PROMPTYARD_HOME": str(ws)}
    cmd = [sys.executable, "-c", _LAUNCH, "dataset", "import", str(csv_path), *args]
    start, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.Popen(cmd, env=env, cwd=ws, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak, stop = [0], threading.Event()
    sampler = threading.Thread(target=_sample_tree, args=(psutil.Process(proc.pid), peak, stop))
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"import failed: {out.decode()} {err.decode()}")
    own = int(err.decode().split("peak-rss-kb ")[-1].split()[0]) / 1024
    cpu = _children_cpu() - cpu
    return {"seconds": seconds, "cpu": cpu, "peak_mb": own, "tree_mb": peak[0] / 2**20}


def _children_cpu() -> float:
    """CPU seconds of finished children (the import and its git): wall time on an idle core."""
    t = os.times()
    return t.children_user + t.children_system


def _workspace(path: Path) -> Path:
    path.mkdir()
    repo = git.Repo.init(path, initial_branch="main")
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "Bench")
        cfg.set_value("user", "email", "bench@example.com")
    return path


def _edit_rows(path: Path, count: int) -> None:
    """Change the product of `count` rows spread over the file, streaming it."""
    edited = path.with_suffix(".edited")
    step = max(1, sum(1 for _ in path.open("rb")) // (count + 1))
    with path.open("rb") as source, edited.open("wb") as out:
        for number, line in enumerate(source):
            if number and number % step == 0 and count:
                line = line.replace(b",Customer ", b",Client ", 1)
                count -= 1
            out.write(line)
    edited.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000:0,1000000:195", help="ROWS:MB,...")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the code to measure")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in args.sizes.split(","):
            rows_text, mb_text = spec.split(":")
            rows, mb = int(rows_text), float(mb_text) or int(rows_text) / 100_000 * 50
            csv_path = Path(tmp) / f"tickets_{rows}.csv"
            write_csv(csv_path, rows, mb)
            size_mb = csv_path.stat().st_size / 2**20
            ws = _workspace(Path(tmp) / f"ws_{rows}")
            steps = [
                ("first import, derived ids", ["-n", "derived"]),
                ("first import, id column", ["-n", "by_id", "--id-column", "ticket_id"]),
            ]
            for step, extra in steps:
                results.append((size_mb, rows, step, run_import(args.src, ws, csv_path, *extra)))
            _edit_rows(csv_path, 10)
            for step, extra in steps:
                step = "re-import, 10 rows edited" + step.removeprefix("first import")
                results.append((size_mb, rows, step, run_import(args.src, ws, csv_path, *extra)))
            shutil.rmtree(ws)
            csv_path.unlink()
    print(f"\n{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; code: {args.src}\n")
    print("| CSV file | rows | step | peak RSS, import | peak RSS, import + git | wall s | CPU s |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for size_mb, rows, step, r in results:
        print(
            f"| {size_mb:.0f} MB | {rows:,} | {step} | {r['peak_mb']:.0f} MB "
            f"| {r['tree_mb']:.0f} MB | {r['seconds']:.1f} | {r['cpu']:.1f} |"
        )


if __name__ == "__main__":
    main()
