"""What the worker-pool tests share: a run of N distinct cells on the counting server,
worker processes, a trigger that counts every time a cell's result is stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from promptyard import runs
from promptyard.storage import db
from promptyard.storage.payloads import payload_sql
from tests.counting_server import CountingServer

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


def make_run(
    ws: Any,
    server: CountingServer,
    rows: int,
    *,
    concurrency: int = 8,
    rpm: int | None = None,
    max_cost: float | None = None,
) -> tuple[int, dict[int, str]]:
    """A run of `rows` cells of summarize on model `counted`; (run id, cell id -> key)."""
    from promptyard import get_prompt
    from promptyard.models import resolve_model

    (ws.root / "models.yaml").write_text(
        "models:\n  counted:\n    model: openai/counted\n"
        f"    api_base: {server.url}\n"
        "    input_cost_per_token: 0.000001\n    output_cost_per_token: 0.000002\n"
        + (f"    rpm: {rpm}\n" if rpm else "")
    )
    template = get_prompt("summarize", workspace=ws)
    plan = runs.build_plan(
        [runs.VariantSpec(template, resolve_model(ws, "counted"))],
        [runs.RowInput(f"r{i:05}", {"text": f"cell number {i:05}"}) for i in range(rows)],
    )
    run_id = runs.create_run(ws, plan, concurrency=concurrency, max_cost=max_cost)
    return run_id, cell_keys(ws, run_id)


def cell_keys(ws: Any, run_id: int) -> dict[int, str]:
    with db.session(ws) as s:
        rows = s.execute(
            text(f"SELECT id, {payload_sql().messages} FROM cell WHERE run_id = :r"), {"r": run_id}
        ).all()
    return {cid: json.loads(m)[-1]["content"] for cid, m in rows}


def count_stores(ws: Any) -> None:
    """Log every store of a cell's result (a change of finished_at to a result)."""
    engine = db.get_engine(ws.database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE store_log (cell_id INTEGER NOT NULL)"))
        if conn.dialect.name == "postgresql":
            conn.execute(
                text(
                    "CREATE FUNCTION log_store() RETURNS trigger AS $$ BEGIN "
                    "INSERT INTO store_log VALUES (NEW.id); RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER store_logged AFTER UPDATE ON cell FOR EACH ROW WHEN "
                    "(NEW.finished_at IS DISTINCT FROM OLD.finished_at AND NEW.status <> "
                    "'pending') EXECUTE FUNCTION log_store()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER store_logged AFTER UPDATE ON cell WHEN NEW.finished_at IS "
                    "NOT OLD.finished_at AND NEW.status != 'pending' BEGIN "
                    "INSERT INTO store_log VALUES (NEW.id); END"
                )
            )


def stores(ws: Any) -> dict[int, int]:
    with db.session(ws) as s:
        rows = s.execute(text("SELECT cell_id, COUNT(*) FROM store_log GROUP BY cell_id")).all()
    return {int(c): int(n) for c, n in rows}


def start_worker(ws: Any, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`promptyard worker --until-idle` in a process of its own."""
    full = {**os.environ, **env, "PROMPTYARD_HOME": str(ws.root)}
    full["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), full.get("PYTHONPATH")) if p)
    out = open(log, "ab")  # noqa: SIM115 - the child writes to it until it exits
    return subprocess.Popen(
        [sys.executable, "-c", "from promptyard.cli import main; main()", "worker",
         "--until-idle", "--poll", "0.3"],
        stdout=out, stderr=subprocess.STDOUT, env=full, cwd=str(ws.root),
    )  # fmt: skip


def wait(predicate: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def ok_count(ws: Any, run_id: int) -> int:
    return runs.run_progress(ws, run_id).ok


def held_by(ws: Any, run_id: int, pid: int) -> set[int]:
    """The cells a worker process held (claimed, not stored)."""
    with db.session(ws) as s:
        rows = s.execute(
            text(
                "SELECT id, lease_owner FROM cell WHERE run_id = :r "
                "AND lease_expires_at IS NOT NULL"
            ),
            {"r": run_id},
        ).all()
    return {cid for cid, owner in rows if owner.split(":")[-2] == str(pid)}


def lease_ends(ws: Any, cells: set[int]) -> dict[int, float]:
    """When each of `cells`' leases lapses (epoch seconds), as stored now."""
    with db.session(ws) as s:
        rows = s.execute(
            text("SELECT id, lease_expires_at FROM cell WHERE lease_expires_at IS NOT NULL")
        ).all()
    return {cid: float(until) for cid, until in rows if cid in cells}


def stored_by(ws: Any, run_id: int) -> dict[str, int]:
    """How many stored cells each worker pid stored."""
    with db.session(ws) as s:
        rows = s.execute(
            text("SELECT lease_owner, COUNT(*) FROM cell WHERE run_id = :r GROUP BY lease_owner"),
            {"r": run_id},
        ).all()
    return {str(o).split(":")[-2]: int(n) for o, n in rows if o}


def peak_before(server: CountingServer, moment: float) -> int:
    """The most requests at once among those that arrived before `moment`."""
    events: list[tuple[float, int]] = []
    with server.lock:
        for r in server.log:
            if r.started < moment:
                events.append((r.started, 1))
                events.append((r.answered or moment, -1))
    peak = now = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):
        now += step
        peak = max(peak, now)
    return peak


DELIVERY_GRACE_S = 1.0  # well under the tests' 3 s lease


def check_kill(
    ws: Any,
    run_id: int,
    server: CountingServer,
    keys: dict[int, str],
    killed_at: float,
    held: set[int],
    concurrency: int,
) -> set[str]:
    """Every cell stored exactly once; a cell sent twice was in flight on the killed worker."""
    summary = runs.run_summary(ws, run_id)
    assert summary.status == runs.RunStatus.COMPLETED, summary
    assert summary.ok == len(keys)
    assert stores(ws) == {cid: 1 for cid in keys}, "a cell was stored more than once"
    counts = server.counts()
    assert set(counts) == set(keys.values()), "a cell was never sent"
    twice = {k for k, n in counts.items() if n > 1}
    # Honest: the killed worker's calls in flight reached the server, and answers it had
    # not stored yet (the writer stores every 0.5 s) were lost with it; those cells are
    # sent again once its lease lapses. They are among the cells it held when it died;
    # every other cell is sent exactly once.
    held_keys = {keys[c] for c in held}
    assert twice <= held_keys, (len(twice - held_keys), len(twice))
    # Sent again, not twice by the living: a cell's first send was the killed worker's.
    # Its last requests can reach the server a moment after the kill (they were in its
    # socket), but no living worker may take its cells before its lease (3 s) lapses.
    sent_before = {r.key for r in server.log if r.started <= killed_at + DELIVERY_GRACE_S}
    assert twice <= sent_before
    assert all(n <= 2 for n in counts.values())
    return twice
