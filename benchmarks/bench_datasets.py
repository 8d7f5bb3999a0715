"""Dataset speed: import a 100,000-row, ~50 MB CSV, load it, show its first page.

Run: PYTHONPATH=src .venv/bin/python benchmarks/bench_datasets.py [--rows 100000]
Prints a markdown table (the target: import < 10 s, first page < 2 s).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import git

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "app"))

from promptyard import datasets as ds  # noqa: E402
from promptyard.workspace import Workspace  # noqa: E402

WORDS = [
    "order",
    "refund",
    "lamp",
    "desk",
    "kettle",
    "band",
    "delivery",
    "invoice",
    "broken",
    "charge",
    "twice",
    "firmware",
    "update",
    "wifi",
    "motor",
    "grinding",
    "replacement",
    "warranty",
    "battery",
    "screen",
    "strap",
    "sync",
    "app",
    "account",
    "password",
    "please",
    "thanks",
    "hello",
    "urgent",
    "customer",
    "support",
    "receipt",
    "shipping",
    "address",
    "return",
    "exchange",
]


def make_csv(rows: int, target_mb: float, seed: int = 1) -> bytes:
    """A realistic support-ticket CSV: quoted fields, commas and newlines inside fields."""
    rng = random.Random(seed)
    per_row = int(target_mb * 1024 * 1024 / rows)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["ticket_id", "customer_name", "product", "message", "expected"])
    for i in range(rows):
        words = max(8, (per_row - 60) // 7)
        message = " ".join(rng.choice(WORDS) for _ in range(words * 2 // 3))
        expected = " ".join(rng.choice(WORDS) for _ in range(words // 3))
        if i % 10 == 0:
            message = message.replace(" ", ",\n", 1)
        writer.writerow([f"T-{i:06d}", f"Customer {i % 997}", rng.choice(WORDS), message, expected])
    return out.getvalue().encode("utf-8")


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (git): wall time on an idle core."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


Timing = tuple[list[float], list[float]]  # wall seconds, CPU seconds, one per run


def timed(fn: Callable[[], Any], repeats: int = 1) -> tuple[Timing, Any]:
    """Run `fn` `repeats` times; the wall and CPU seconds of each run, and the last value."""
    walls, cpus = [], []
    value = None
    for _ in range(repeats):
        cpu, start = cpu_seconds(), time.perf_counter()
        value = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - cpu)
    return (walls, cpus), value


def page_runs(root: Path, name: str, repeats: int) -> tuple[Timing, Timing, Timing]:
    """Seconds of the Datasets page's script run in a fresh session, first and next page.

    Each fresh session starts with an empty dataset cache (as after a server start), so
    the first number includes parsing the file.
    """
    import state
    from streamlit.testing.v1 import AppTest

    os.environ["PROMPTYARD_HOME"] = str(root)
    page = str(ROOT / "app" / "views" / "datasets.py")
    first: Timing = ([], [])
    second: Timing = ([], [])
    filtered: Timing = ([], [])

    def clock(into: Timing, step: Callable[[], Any]) -> None:
        cpu, start = cpu_seconds(), time.perf_counter()
        step()
        into[0].append(time.perf_counter() - start)
        into[1].append(cpu_seconds() - cpu)

    # Warm-up: the first script run of a process imports pandas, pyarrow and the page's
    # modules; a running server has done that before any user arrives.
    ds.import_dataset(Workspace(root.resolve()), "warmup", b"q\na\n", "w.csv")
    warm = AppTest.from_file(page, default_timeout=120)
    warm.session_state[state.DATASET_SELECTED] = "warmup"
    warm.run()
    for _ in range(repeats):
        import streamlit as st

        st.cache_resource.clear()
        at = AppTest.from_file(page, default_timeout=120)
        at.session_state[state.DATASET_SELECTED] = name
        clock(first, at.run)
        if at.exception:
            raise RuntimeError(str(at.exception))

        def next_page(at: AppTest = at) -> None:
            at.number_input(key=state.DATASET_PAGE).set_value(2).run()

        def type_filter(at: AppTest = at) -> None:
            at.text_input(key=state.DATASET_FILTER).input("product == lamp").run()

        clock(second, next_page)
        clock(filtered, type_filter)
        if "matching the filter" not in " ".join(str(c.value) for c in at.caption):
            raise RuntimeError("the filter did not apply")
    return first, second, filtered


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-page", action="store_true", help="skip the AppTest page timing")
    args = parser.parse_args()
    n = args.repeats

    data = make_csv(args.rows, args.mb)
    cols = ["customer_name", "product", "message", "expected"]
    results: list[tuple[str, Timing, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        root.mkdir()
        repo = git.Repo.init(root, initial_branch="main")
        with repo.config_writer() as cfg:
            cfg.set_value("user", "name", "Bench")
            cfg.set_value("user", "email", "bench@example.com")
        ws = Workspace(root.resolve())
        size = f"{len(data) / 1024 / 1024:.1f} MB"

        t, table = timed(lambda: ds.parse_table(data, "tickets.csv"), n)
        results.append(("parse CSV only (no write)", t, f"{len(table.rows):,} rows"))

        def fresh_import(name: str, **kw: Any) -> Any:
            def run() -> Any:
                target = root / "datasets" / f"{name}.jsonl"
                if target.exists():  # each repeat is a first import
                    ds.delete_dataset(ws, name)
                return ds.import_dataset(ws, name, data, "tickets.csv", **kw)

            return run

        t, _ = timed(fresh_import("big", id_column="ticket_id"), n)
        results.append(("**import CSV, id column** (parse, validate, write, commit)", t, size))
        t, _ = timed(fresh_import("big_noid", columns=cols), n)
        results.append(("**import CSV, derived ids**", t, size))
        edited = data.replace(b"Customer 5,", b"Client 5,", 3)
        versions = iter([edited, data] * n)
        t, v2 = timed(
            lambda: ds.import_dataset(ws, "big_noid", next(versions), "tickets.csv", columns=cols),
            n,
        )
        summary = v2.change.summary() if v2.change else "-"
        results.append(("re-import, 3 rows edited (ids kept)", t, summary))
        t, loaded = timed(lambda: ds.load_dataset(ws, "big"), n)
        results.append(("load_dataset (working tree)", t, f"{len(loaded):,} rows"))
        t, _ = timed(
            lambda: ds.load_dataset(
                ws, "big", ds.dataset_history(ws, "big", changes=False)[-1].sha
            ),
            n,
        )
        results.append(("load_dataset at a version (from git)", t, ""))
        t, info = timed(lambda: ds.list_datasets(ws), n)
        results.append(("list_datasets", t, f"{len(info)} datasets"))
        spec = ds.SliceSpec.parse("filter:message contains refund and product == lamp")
        t, picked = timed(lambda: ds.select_rows(loaded, spec), n)
        results.append(("filter slice over all rows", t, f"{len(picked):,} rows match"))
        t, picked = timed(lambda: ds.select_rows(loaded, ds.SliceSpec("random", n=500, seed=1)), n)
        results.append(("random 500 rows with a seed", t, ""))
        if not args.no_page:
            first, second, filtered = page_runs(root, "big", n)
            results.append(
                ("**Datasets page, first page** (fresh session, AppTest)", first, "100 rows shown")
            )
            results.append(("Datasets page, next page", second, ""))
            results.append(("Datasets page, type a filter (parses all rows once)", filtered, ""))

    print(
        f"\n{args.rows:,} rows, {size} CSV; {os.cpu_count()} cores; load average "
        f"{os.getloadavg()[0]:.1f}; {n} runs each\n"
    )
    print("| step | wall s (median) | wall s (min) | CPU s (median) | notes |")
    print("|---|---:|---:|---:|---|")
    for step, (walls, cpus), note in results:
        print(
            f"| {step} | {statistics.median(walls):.2f} | {min(walls):.2f} "
            f"| {statistics.median(cpus):.2f} | {note} |"
        )


if __name__ == "__main__":
    main()
