"""Migration m027: the Monitoring page's figures per bucket and user, session or attribute.

No rollup kept by triggers can sum by every span attribute, and a session or user rollup
per hour holds nearly a row per span; so these segments' figures (calls, errors, known
token and cost sums with their known counts, exact nearest-rank percentiles) are computed
from a bucket's spans once, the first time the bucket is viewed so segmented, and kept in
`span_segment`, one row per bucket, with a stamp: the sum of `span_rollup.changes` (m025)
over the bucket's hours, as the percentile cache does. Nothing to fill in for the spans
stored before: a bucket not kept is computed on its next view.

m025's triggers bump `changes` for the columns its sums read; the figures here also read
`session_id`, `attributes_json`, `duration_ms` and `ttft_ms`, so one more trigger bumps the
span's rollup row when an update names one of those (ingest gives a child its parent's
session), and a kept bucket is never used after its spans changed.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from promptyard.storage.migrations_rollups import _KEYS, HOUR_NS  # the rollups' keys

_TOUCHED = ("session_id", "attributes_json", "duration_ms", "ttft_ms")


def _bump(row: str) -> str:
    """Count a change on span `row`'s own rollup row (it exists: the span is summed in it)."""
    none = {k: "-1" if k == "prompt_version" else "''" for k in _KEYS}  # m025's NULL keys
    keys = " AND ".join(f"{k} = COALESCE({row}.{k}, {none[k]})" for k in _KEYS)
    return (
        f"UPDATE span_rollup SET changes = changes + 1"
        f" WHERE hour = {row}.start_ns / {HOUR_NS} AND {keys}"
    )


def m027_segment_cache(conn: Connection) -> None:
    big = "BIGINT"
    blob = "BYTEA" if conn.dialect.name == "postgresql" else "BLOB"
    # One row per kept bucket piece: its segments' names (a JSON list) and their figures
    # (float64 rows, monitoring.segment_figures.STORED, NaN where none), read and written whole.
    conn.execute(
        text(
            f"CREATE TABLE span_segment (segment_kind TEXT NOT NULL, lo_ns {big} NOT NULL,"
            f" hi_ns {big} NOT NULL, stamp {big} NOT NULL, segments TEXT NOT NULL,"
            f" figures {blob} NOT NULL, PRIMARY KEY (segment_kind, lo_ns, hi_ns))"
        )
    )
    columns = ", ".join(_TOUCHED)
    if conn.dialect.name == "postgresql":
        # The same transaction lock as m025's trigger: rollup rows are locked in one order.
        conn.execute(
            text(
                "CREATE FUNCTION span_segment_touch() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                "BEGIN\n"
                "  PERFORM pg_advisory_xact_lock(250025);\n"
                f"  IF OLD.is_llm THEN\n    {_bump('OLD')};\n  END IF;\n"
                "  RETURN NULL;\n"
                "END $$"
            )
        )
        conn.execute(
            text(
                f"CREATE TRIGGER span_segment_touch AFTER UPDATE OF {columns} ON span"
                " FOR EACH ROW EXECUTE FUNCTION span_segment_touch()"
            )
        )
    else:
        conn.execute(
            text(
                f"CREATE TRIGGER span_segment_touch AFTER UPDATE OF {columns} ON span"
                f" WHEN OLD.is_llm BEGIN {_bump('OLD')}; END"
            )
        )
