"""The same schema and writes on PostgreSQL (scripts/test.sh starts a throwaway server)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import select

from promptyard.storage import db
from promptyard.storage.migrations import MIGRATIONS
from promptyard.storage.tables import Cell, Run, Variant

pytestmark = pytest.mark.postgres


def test_migrations_apply_on_postgres(postgres_url: str) -> None:
    engine = db.get_engine(postgres_url)
    assert db.applied_migrations(engine) == sorted(name for name, _ in MIGRATIONS)
    tables = set(sa.inspect(engine).get_table_names())
    assert {"run", "variant", "cell", "rating", "pairwise_vote", "score"} <= tables


def test_runs_and_cells_round_trip_on_postgres(postgres_url: str) -> None:
    def add(session):  # type: ignore[no-untyped-def]
        run = Run(name="pg", dataset_name="tickets")
        session.add(run)
        session.flush()
        variant = Variant(
            run_id=run.id, prompt_name="summarize", prompt_version=2, model="sim-fast"
        )
        session.add(variant)
        session.flush()
        session.add(
            Cell(
                run_id=run.id,
                variant_id=variant.id,
                row_id="r1",
                output="ünïcode ✓",
                cost_usd=None,
                latency_ms=12.5,
                cached=False,
            )
        )
        return run.id

    run_id = db.write(postgres_url, add)
    with db.session(postgres_url) as session:
        cell = session.exec(select(Cell).where(Cell.run_id == run_id)).one()
    assert cell.output == "ünïcode ✓"
    assert cell.cost_usd is None  # unknown price stays unknown
    assert cell.latency_ms == 12.5


def test_a_run_and_its_dashboard_on_postgres(
    workspace, postgres_url: str, sim, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """PROMPTYARD_DATABASE_URL points the whole workbench at PostgreSQL."""
    from promptyard import runs
    from promptyard.reading import analytics

    monkeypatch.setenv("PROMPTYARD_DATABASE_URL", postgres_url)
    plan = runs.plan_run(
        workspace, [("summarize", None)], ["sim-fast"], ("summaries", None), slice="head:4"
    )
    run_id = runs.create_run(workspace, plan)
    summary = runs.run_sync(workspace, run_id)
    assert (summary.ok, summary.errors) == (4, 0)
    again = runs.run_sync(workspace, runs.create_run(workspace, plan))
    assert again.cached == 4  # the cache is read from PostgreSQL too
    board = analytics.leaderboard(workspace, analytics.Filters())
    assert board["n_cells"].sum() == 8
    # The runs list and Compare's header, counted along the indexes and from kept score sums.
    from promptyard.evals import stored_results
    from promptyard.reading import column_summaries

    listed = {r.run_id: r for r in runs.list_runs(workspace)}
    assert (listed[again.run_id].cached, listed[again.run_id].cost_usd) == (4, 0.0)
    assert listed[run_id].cost_usd == pytest.approx(summary.cost_usd)
    [column] = column_summaries(workspace, [run_id])
    assert (column.cells, column.scored, column.passed) == (4, 4, 4)
    assert column.p50_latency_ms is not None and column.cost_usd
    assert {r.suite for r in stored_results(workspace, run_id)} == {"default"}
