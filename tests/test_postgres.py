"""The same schema and writes on PostgreSQL (scripts/test.sh starts a throwaway server)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlmodel import select

from promptyard import db
from promptyard.migrations import MIGRATIONS
from promptyard.tables import Cell, Run, Variant

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test."""
    server = os.environ.get("PROMPTYARD_TEST_POSTGRES_URL")
    if not server:
        pytest.skip("PROMPTYARD_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)")
    name = f"py_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    yield url
    db.dispose_engines()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


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
