"""Ordered, named schema migrations, recorded in the `_migrations` table.

The workbench's own tables are made here; the tables of production traffic (traces,
monitoring) in `migrations_production`. MIGRATIONS lists them all in order.

Each migration is a function of a SQLAlchemy connection. A migration never changes once
it has shipped: a schema change is a new function appended to MIGRATIONS. The DDL keeps
to types SQLite and PostgreSQL both understand.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from promptyard.storage.ddl import Migration, primary_key
from promptyard.storage.migrations_alerts import m016_alerts
from promptyard.storage.migrations_guardrails import m022_guardrails
from promptyard.storage.migrations_mapping import m020_run_mapping
from promptyard.storage.migrations_online import m014_online_eval
from promptyard.storage.migrations_payloads import m024_payloads
from promptyard.storage.migrations_playground import m021_playground_calls
from promptyard.storage.migrations_production import (
    m012_traces,
    m013_trace_indexes,
    m015_monitoring_indexes,
)
from promptyard.storage.migrations_robustness import m023_robustness
from promptyard.storage.migrations_rollups import m025_span_rollups
from promptyard.storage.migrations_score_stats import m026_variant_score_stats
from promptyard.storage.migrations_segments import m027_segment_cache
from promptyard.storage.migrations_team import m019_team
from promptyard.storage.migrations_workers import m017_workers

_V1_TABLES = """
CREATE TABLE run (
    id {pk},
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    status TEXT NOT NULL,
    dataset_name TEXT,
    dataset_sha TEXT,
    slice_json TEXT NOT NULL,
    repeats INTEGER NOT NULL,
    concurrency INTEGER NOT NULL,
    max_cost_usd DOUBLE PRECISION,
    use_cache BOOLEAN NOT NULL,
    total_cells INTEGER NOT NULL,
    wall_s DOUBLE PRECISION,
    worker_pid INTEGER,
    heartbeat_at TIMESTAMP,
    cancel_requested BOOLEAN NOT NULL,
    message TEXT,
    kind TEXT NOT NULL
);
CREATE INDEX ix_run_created_at ON run (created_at);
CREATE INDEX ix_run_status ON run (status);
CREATE TABLE variant (
    id {pk},
    run_id INTEGER NOT NULL REFERENCES run (id),
    position INTEGER NOT NULL,
    prompt_name TEXT NOT NULL,
    prompt_sha TEXT,
    prompt_version INTEGER,
    template_text TEXT,
    model TEXT NOT NULL,
    parameters_json TEXT NOT NULL
);
CREATE INDEX ix_variant_run_id ON variant (run_id);
CREATE TABLE cell (
    id {pk},
    run_id INTEGER NOT NULL REFERENCES run (id),
    variant_id INTEGER NOT NULL REFERENCES variant (id),
    row_id TEXT NOT NULL,
    row_index INTEGER NOT NULL,
    repeat INTEGER NOT NULL,
    inputs_json TEXT NOT NULL,
    reference TEXT,
    messages_json TEXT NOT NULL,
    status TEXT NOT NULL,
    output TEXT,
    finish_reason TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    cost_usd DOUBLE PRECISION,
    latency_ms DOUBLE PRECISION,
    ttft_ms DOUBLE PRECISION,
    error_kind TEXT,
    error_message TEXT,
    raw_response_json TEXT,
    cached BOOLEAN NOT NULL,
    attempts INTEGER NOT NULL,
    cache_key TEXT,
    started_at TIMESTAMP,
    finished_at TIMESTAMP
);
CREATE INDEX ix_cell_run_id ON cell (run_id);
CREATE INDEX ix_cell_variant_id ON cell (variant_id);
CREATE INDEX ix_cell_status ON cell (status);
CREATE INDEX ix_cell_cache_key ON cell (cache_key);
CREATE UNIQUE INDEX ux_cell_identity ON cell (variant_id, row_id, repeat);
CREATE TABLE labeling_session (
    id {pk},
    run_id INTEGER NOT NULL REFERENCES run (id),
    kind TEXT NOT NULL,
    scheme TEXT,
    raters_per_cell INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT
);
CREATE INDEX ix_labeling_session_run_id ON labeling_session (run_id);
CREATE TABLE rating (
    id {pk},
    cell_id INTEGER NOT NULL REFERENCES cell (id),
    run_id INTEGER NOT NULL REFERENCES run (id),
    scheme TEXT NOT NULL,
    scheme_version TEXT,
    rater TEXT NOT NULL,
    value_json TEXT NOT NULL,
    score DOUBLE PRECISION,
    comment TEXT,
    created_at TIMESTAMP NOT NULL,
    superseded_by INTEGER,
    session_id INTEGER
);
CREATE INDEX ix_rating_cell_id ON rating (cell_id);
CREATE INDEX ix_rating_run_id ON rating (run_id);
CREATE TABLE pairwise_vote (
    id {pk},
    run_id INTEGER NOT NULL REFERENCES run (id),
    row_id TEXT NOT NULL,
    cell_a_id INTEGER NOT NULL REFERENCES cell (id),
    cell_b_id INTEGER NOT NULL REFERENCES cell (id),
    variant_a_id INTEGER NOT NULL REFERENCES variant (id),
    variant_b_id INTEGER NOT NULL REFERENCES variant (id),
    a_shown_left BOOLEAN NOT NULL,
    choice TEXT NOT NULL,
    rater TEXT NOT NULL,
    session_id INTEGER,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ix_pairwise_vote_run_id ON pairwise_vote (run_id);
CREATE INDEX ix_pairwise_vote_variant_a_id ON pairwise_vote (variant_a_id);
CREATE INDEX ix_pairwise_vote_variant_b_id ON pairwise_vote (variant_b_id);
CREATE TABLE score (
    id {pk},
    cell_id INTEGER NOT NULL REFERENCES cell (id),
    run_id INTEGER NOT NULL REFERENCES run (id),
    evaluator TEXT NOT NULL,
    name TEXT NOT NULL,
    suite TEXT,
    value DOUBLE PRECISION,
    passed BOOLEAN,
    reason TEXT,
    judge_cost_usd DOUBLE PRECISION,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ix_score_cell_id ON score (cell_id);
CREATE INDEX ix_score_run_id ON score (run_id);
"""


def _statements(ddl: str, conn: Connection) -> list[str]:
    pk = primary_key(conn)
    return [s.strip() for s in ddl.format(pk=pk).split(";") if s.strip()]


def m001_initial(conn: Connection) -> None:
    for statement in _statements(_V1_TABLES, conn):
        conn.execute(text(statement))


def m002_rating_indexes(conn: Connection) -> None:
    conn.execute(text("CREATE INDEX ix_rating_current ON rating (run_id, scheme, superseded_by)"))
    conn.execute(text("CREATE INDEX ix_score_run_name ON score (run_id, name)"))


def m003_labeling_session_options(conn: Connection) -> None:
    # Which variants a pairwise session compares (and other per-session choices), as JSON.
    conn.execute(
        text("ALTER TABLE labeling_session ADD COLUMN options_json TEXT NOT NULL DEFAULT '{}'")
    )


def m004_dashboard_indexes(conn: Connection) -> None:
    # Covering indexes for the dashboard's aggregates (analytics.py): per-variant cell
    # sums, nearest-rank latency walks, and current ratings grouped by cell.
    conn.execute(
        text(
            "CREATE INDEX ix_cell_stats ON cell"
            " (variant_id, status, prompt_tokens, completion_tokens, cost_usd)"
        )
    )
    conn.execute(
        text("CREATE INDEX ix_cell_latency ON cell (status, cached, variant_id, latency_ms)")
    )
    conn.execute(
        text(
            "CREATE INDEX ix_rating_by_cell ON rating (superseded_by, cell_id, run_id, scheme, score)"
        )
    )


def m005_compare_indexes(conn: Connection) -> None:
    # Compare pages by distinct row ids (a covering index walks them in order) and the
    # next labeling cell walks a run in dataset order, stopping at the first one due.
    conn.execute(
        text("CREATE INDEX ix_cell_run_row ON cell (run_id, row_id, row_index, status, repeat)")
    )
    conn.execute(
        text("CREATE INDEX ix_cell_run_order ON cell (run_id, row_index, variant_id, repeat)")
    )
    conn.execute(
        text(
            "CREATE INDEX ix_rating_raters ON rating (run_id, scheme, superseded_by, cell_id, rater)"
        )
    )


def m006_cell_variant_of(conn: Connection) -> None:
    # cell id -> variant without reading the wide cell row: the dashboard joins ratings
    # and evaluator scores to their variant through it.
    conn.execute(text("CREATE INDEX ix_cell_variant_of ON cell (id, variant_id)"))


def m007_variant_stats(conn: Connection) -> None:
    # The dashboard's per-variant summary (promptyard.analytics.refresh_variant_stats):
    # cell counts and sums, latency count, sum, nearest-rank percentiles and a small
    # sample, valid while `signature` (run id, status, finished_at) matches the run.
    # No foreign key: deleting a run must not trip over its summary.
    conn.execute(
        text(
            """CREATE TABLE variant_stats (
                variant_id INTEGER PRIMARY KEY,
                run_id INTEGER NOT NULL,
                signature TEXT NOT NULL,
                n_ok INTEGER NOT NULL,
                n_error INTEGER NOT NULL,
                prompt_tokens_sum DOUBLE PRECISION,
                n_prompt_tokens INTEGER NOT NULL,
                completion_tokens_sum DOUBLE PRECISION,
                n_completion_tokens INTEGER NOT NULL,
                cost_ok_sum DOUBLE PRECISION,
                n_cost_ok INTEGER NOT NULL,
                cost_sum DOUBLE PRECISION,
                n_latency INTEGER NOT NULL,
                latency_sum DOUBLE PRECISION,
                latency_p50 DOUBLE PRECISION,
                latency_p95 DOUBLE PRECISION,
                latency_p99 DOUBLE PRECISION,
                latency_sample_json TEXT NOT NULL,
                computed_at TIMESTAMP NOT NULL
            )"""
        )
    )


def m008_variant_rating_stats(conn: Connection) -> None:
    # Current human ratings summed per variant and scheme ('*' = every scheme pooled), per
    # run; the row with variant_id 0 holds the run's rating signature (count, max id).
    conn.execute(
        text(
            """CREATE TABLE variant_rating_stats (
                run_id INTEGER NOT NULL,
                variant_id INTEGER NOT NULL,
                scheme TEXT NOT NULL,
                signature TEXT NOT NULL,
                n_rated INTEGER NOT NULL,
                n_ratings INTEGER NOT NULL,
                score_sum DOUBLE PRECISION NOT NULL,
                score_sum_sq DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (run_id, variant_id, scheme)
            )"""
        )
    )


def m009_jobs(conn: Connection) -> None:
    # Background jobs besides runs (scoring a run with a suite): status, progress, the
    # worker's pid and heartbeat, a cancel request. No foreign key, like variant_stats.
    conn.execute(
        text(
            f"""CREATE TABLE job (
                id {primary_key(conn)},
                kind TEXT NOT NULL,
                run_id INTEGER,
                params_json TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at TIMESTAMP NOT NULL,
                started_at TIMESTAMP,
                finished_at TIMESTAMP,
                heartbeat_at TIMESTAMP,
                worker_pid INTEGER,
                cancel_requested BOOLEAN NOT NULL,
                done INTEGER NOT NULL,
                total INTEGER NOT NULL,
                cost_usd DOUBLE PRECISION NOT NULL,
                message TEXT,
                result_json TEXT NOT NULL
            )"""
        )
    )
    conn.execute(text("CREATE INDEX ix_job_run_id ON job (run_id)"))
    conn.execute(text("CREATE INDEX ix_job_status ON job (status)"))


def m010_cell_output_truncated(conn: Connection) -> None:
    # An output over the run's cap is stored cut; the flag tells the page and the CLI so.
    conn.execute(
        text("ALTER TABLE cell ADD COLUMN output_truncated BOOLEAN NOT NULL DEFAULT FALSE")
    )


def m011_cell_tool_calls(conn: Connection) -> None:
    # The tool calls a model answered with (OpenAI format, JSON), beside its text output.
    conn.execute(text("ALTER TABLE cell ADD COLUMN tool_calls_json TEXT"))


MIGRATIONS: list[tuple[str, Migration]] = [
    ("001_initial", m001_initial),
    ("002_rating_indexes", m002_rating_indexes),
    ("003_labeling_session_options", m003_labeling_session_options),
    ("004_dashboard_indexes", m004_dashboard_indexes),
    ("005_compare_indexes", m005_compare_indexes),
    ("006_cell_variant_of", m006_cell_variant_of),
    ("007_variant_stats", m007_variant_stats),
    ("008_variant_rating_stats", m008_variant_rating_stats),
    ("009_jobs", m009_jobs),
    ("010_cell_output_truncated", m010_cell_output_truncated),
    ("011_cell_tool_calls", m011_cell_tool_calls),
    ("012_traces", m012_traces),
    ("013_trace_indexes", m013_trace_indexes),
    ("014_online_eval", m014_online_eval),
    ("015_monitoring_indexes", m015_monitoring_indexes),
    ("016_alerts", m016_alerts),
    ("020_run_mapping", m020_run_mapping),
    ("021_playground_calls", m021_playground_calls),
    ("022_guardrails", m022_guardrails),
    ("023_robustness", m023_robustness),
    ("017_workers", m017_workers),
    ("019_team", m019_team),
    ("024_payloads", m024_payloads),
    ("025_span_rollups", m025_span_rollups),
    ("026_variant_score_stats", m026_variant_score_stats),
    ("027_segment_cache", m027_segment_cache),
]
