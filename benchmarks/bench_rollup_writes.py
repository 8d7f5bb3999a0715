"""What migration 025's triggers cost a writer: spans stored per second with and without
them, in alternating batches so both sides see the same machine load.

Two fresh SQLite databases get the same spans (those of bench_monitoring.py) in batches of
`--batch` rows, one executemany per batch, as the collector writes an OTLP request; on
one of them the four `span_rollup_*` triggers are dropped first.

    PYTHONPATH=src python benchmarks/bench_rollup_writes.py [--spans 100000] [--batch 500]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from benchmarks.bench_monitoring import _spans  # noqa: E402
from promptyard.storage import db  # noqa: E402
from promptyard.workspace import Workspace  # noqa: E402
from tests.monitoring_seed import HOUR_NS, hour_start, insert_rows  # noqa: E402

TRIGGERS = ("span_rollup_insert", "span_rollup_delete", "span_rollup_update_old",
            "span_rollup_update_new")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with_ws, without_ws = Workspace(Path(tmp) / "with"), Workspace(Path(tmp) / "without")
        for ws in (with_ws, without_ws):
            ws.root.mkdir()
            with db.get_engine(ws).begin() as conn:
                if ws is without_ws:
                    for name in TRIGGERS:
                        conn.execute(text(f"DROP TRIGGER {name}"))
        spent = {"with": 0.0, "without": 0.0}
        end = hour_start() + HOUR_NS
        rows = _spans(args.spans, end)
        while batch := list(islice(rows, args.batch)):
            for name, ws in (("with", with_ws), ("without", without_ws)):
                t0 = time.perf_counter()
                insert_rows(ws, batch)
                spent[name] += time.perf_counter() - t0
        print(f"{args.spans:,} spans in batches of {args.batch}")
        print(f"{'triggers':<10} {'seconds':>8} {'spans/s':>9}")
        for name, seconds in spent.items():
            print(f"{name:<10} {seconds:>8.2f} {args.spans / seconds:>9,.0f}")
        db.dispose_engines()


if __name__ == "__main__":
    main()
