"""The response cache: a cell is served from an earlier ok cell with the same cache key.

The key (`promptyard.runs.planning.cache_key`) covers the model, its endpoint, the
parameters, the repeat index and the rendered messages, so a cached answer is one the
same call would have been given.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from promptyard.storage import db
from promptyard.storage.tables import CellStatus, utcnow
from promptyard.workspace import Workspace

_CACHE_COLUMNS = (
    "output",
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "latency_ms",
    "ttft_ms",
    "raw_response_json",
    "tool_calls_json",
    "output_truncated",
    "guardrail_json",
)


def serve_from_cache(ws: Workspace, run_id: int) -> int:
    """Fill the run's unfinished cells from earlier ok cells with the same cache key.

    One statement (SQLite 3.33+ and PostgreSQL both have UPDATE ... FROM). The unary `+`
    keeps SQLite from driving the join by the run_id index (a scan per cache key).
    """
    sets = ", ".join(f"{c} = src.{c}" for c in _CACHE_COLUMNS)
    sql = text(
        f"""
        UPDATE cell SET {sets}, status = :ok, cached = :yes, attempts = 0,
               error_kind = NULL, error_message = NULL,
               started_at = :now, finished_at = :now
        FROM (
            SELECT cache_key AS key, MIN(id) AS id FROM cell
            WHERE status = :ok AND cache_key IN (
                SELECT cache_key FROM cell WHERE run_id = :run AND status != :ok
            )
            GROUP BY cache_key
        ) AS pick
        JOIN cell AS src ON src.id = pick.id
        WHERE cell.cache_key = pick.key AND +cell.run_id = :run AND cell.status != :ok
        """
    )
    now = utcnow()

    def apply(s: Session) -> int:
        result = s.execute(sql, {"ok": CellStatus.OK, "yes": True, "now": now, "run": run_id})
        return int(getattr(result, "rowcount", 0) or 0)

    return db.write(ws, apply)
