"""Counts read along the indexes equal the cells counted one by one, and the kept pass
rates follow the scores as they change."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from promptyard import runs
from promptyard.evals import Assertion, score_run, stored_results
from promptyard.evals.default_checks import DEFAULT_SUITE
from promptyard.reading import column_summaries
from promptyard.storage import db


def _run(ws: Any, models: list[str], head: int = 4) -> int:
    plan = runs.plan_run(
        ws, [("summarize", None)], models, ("summaries", None), slice=f"head:{head}"
    )
    run_id = runs.create_run(ws, plan)
    runs.run_sync(ws, run_id)
    return run_id


def _cells(ws: Any, run_id: int) -> list[Any]:
    with db.session(ws) as s:
        return list(
            s.execute(
                text(
                    "SELECT variant_id, status, cached, cost_usd, latency_ms FROM cell"
                    " WHERE run_id = :r"
                ),
                {"r": run_id},
            )
        )


def _ids(ws: Any, run_id: int) -> list[int]:
    with db.session(ws) as s:
        rows = s.execute(text("SELECT id FROM cell WHERE run_id = :r ORDER BY id"), {"r": run_id})
        return [int(r[0]) for r in rows]


def _mark(ws: Any, sql: str, **params: Any) -> None:
    db.write(ws, lambda s: s.execute(text(sql), params))


def test_runs_list_and_header_match_the_cells_counted_one_by_one(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    run_id = _run(workspace, ["sim-fast", "sim-smart"], head=6)
    # Every kind of cell at once: an error, a cache hit with the original call's cost, a
    # finished call of unknown price, and one not sent yet.
    ids = _ids(workspace, run_id)
    _mark(
        workspace,
        "UPDATE cell SET status = 'error', error_kind = 'timeout' WHERE id = :i",
        i=ids[0],
    )
    _mark(workspace, "UPDATE cell SET cached = :t WHERE id = :i", t=True, i=ids[1])
    _mark(workspace, "UPDATE cell SET cost_usd = NULL WHERE id = :i", i=ids[2])
    _mark(
        workspace,
        "UPDATE cell SET status = 'pending', cost_usd = NULL, latency_ms = NULL WHERE id = :i",
        i=ids[7],
    )
    cells = _cells(workspace, run_id)

    [summary] = runs.list_runs(workspace)
    made = [c for c in cells if not c.cached]
    assert summary.cells == len(cells) == 12
    assert (summary.ok, summary.errors, summary.pending, summary.cached) == (10, 1, 1, 1)
    # summed per variant first: equal up to the order of the additions
    assert summary.cost_usd == pytest.approx(
        sum(c.cost_usd for c in made if c.cost_usd is not None), rel=1e-12
    )
    assert summary.unknown_cost_cells == 1
    assert summary.errors_by_kind == {"timeout": 1}

    by_variant: dict[int, list[Any]] = {}
    for c in cells:
        by_variant.setdefault(c.variant_id, []).append(c)
    for column in column_summaries(workspace, [run_id]):
        mine = by_variant[column.variant_id]
        live = sorted(
            c.latency_ms
            for c in mine
            if c.status == "ok" and not c.cached and c.latency_ms is not None
        )
        assert column.cells == len(mine)
        assert column.errors == sum(c.status == "error" for c in mine)
        assert column.p50_latency_ms == live[(50 * len(live) + 99) // 100 - 1]
        spent = [c.cost_usd for c in mine if not c.cached and c.cost_usd is not None]
        assert column.cost_usd == pytest.approx(sum(spent), rel=1e-12)


def test_the_header_and_suite_results_follow_each_scoring(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    run_id = _run(workspace, ["sim-fast"], head=4)
    [before] = column_summaries(workspace, [run_id])
    assert (before.scored, before.passed) == (4, 4)

    # A second suite that every cell fails: the header's "passed every suite" drops.
    score_run(workspace, run_id, [Assertion("icontains", "zzz-never")])
    [strict] = column_summaries(workspace, [run_id])
    assert (strict.scored, strict.passed) == (4, 0)
    [adhoc] = [r for r in stored_results(workspace, run_id) if r.suite != DEFAULT_SUITE]
    assert (adhoc.cells, adhoc.passed) == (4, 0)

    # The same suite scored again, now passing: its old rows are deleted and the new ones
    # (SQLite reuses their ids) must still replace what was kept.
    score_run(workspace, run_id, [Assertion("not-icontains", "zzz-never")])
    [again] = column_summaries(workspace, [run_id])
    assert (again.scored, again.passed) == (4, 4)
    results = {r.suite: r for r in stored_results(workspace, run_id)}
    assert (results[adhoc.suite].cells, results[adhoc.suite].passed) == (4, 4)
