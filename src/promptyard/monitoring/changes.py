"""Before/after comparisons at a change in traffic: a new prompt version or a new
provider-reported model first seen within a monitor's window gets every monitored metric
compared, before against after, with the same tests as a decline (they never fire; they
are reported)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from promptyard.monitoring.checks import compare, is_worse
from promptyard.monitoring.config import Monitor
from promptyard.monitoring.samples import metric_value, read_sample
from promptyard.storage import db
from promptyard.workspace import Workspace


@dataclass
class ChangeReport:
    """One metric before and after one change."""

    change: str  # "prompt summarize v3" or "model gpt-4o-2024-08-06 (for gpt-4o)"
    first_seen_ns: int
    monitor: str
    metric: str
    before: float | None
    after: float | None
    before_count: int
    after_count: int
    p_value: float | None
    worse: bool
    scope: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _changes(
    ws: Workspace, t0: int, t1: int
) -> list[tuple[str, int, str, dict[str, Any], str, dict[str, Any]]]:
    """(label, first_ns, after-SQL, params, before-SQL, params) of changes first seen in [t0, t1)."""
    out: list[tuple[str, int, str, dict[str, Any], str, dict[str, Any]]] = []
    with db.session(ws) as session:
        conn = session.connection()
        versions = conn.execute(
            text(
                "SELECT prompt_name, prompt_version, MIN(start_ns) FROM span WHERE is_llm = :yes "
                "AND prompt_version IS NOT NULL GROUP BY prompt_name, prompt_version "
                "HAVING MIN(start_ns) >= :t0 AND MIN(start_ns) < :t1"
            ),
            {"yes": True, "t0": t0, "t1": t1},
        ).all()
        for name, version, first in versions:
            prev = conn.execute(
                text(
                    "SELECT MAX(prompt_version) FROM span WHERE is_llm = :yes AND "
                    "prompt_name = :p AND prompt_version < :v AND start_ns < :f"
                ),
                {"yes": True, "p": name, "v": version, "f": first},
            ).scalar()
            if prev is None:
                continue
            sql = "s.prompt_name = :cp AND s.prompt_version = :cv"
            out.append(
                (
                    f"prompt {name} v{version} (after v{prev})",
                    int(first),
                    sql,
                    {"cp": name, "cv": version},
                    sql,
                    {"cp": name, "cv": int(prev)},
                )
            )
        models = conn.execute(
            text(
                "SELECT request_model, response_model, MIN(start_ns) FROM span WHERE is_llm = :yes "
                "AND response_model IS NOT NULL GROUP BY request_model, response_model "
                "HAVING MIN(start_ns) >= :t0 AND MIN(start_ns) < :t1"
            ),
            {"yes": True, "t0": t0, "t1": t1},
        ).all()
        for requested, reported, first in models:
            older = conn.execute(
                text(
                    "SELECT 1 FROM span WHERE is_llm = :yes AND request_model = :rq AND "
                    "response_model <> :rs AND start_ns < :f LIMIT 1"
                ),
                {"yes": True, "rq": requested, "rs": reported, "f": first},
            ).first()
            if older is None:
                continue
            after = "s.request_model = :rq AND s.response_model = :rs"
            before = "s.request_model = :rq AND s.response_model <> :rs"
            params = {"rq": requested, "rs": reported}
            out.append(
                (f"model {reported} (for {requested})", int(first), after, params, before, params)
            )
    return out


def change_reports(ws: Workspace, monitors: list[Monitor], now: int) -> list[ChangeReport]:
    """For every change first seen within a monitor's window, that monitor's metric over the
    window before the change against the time since (each within the monitor's filter)."""
    reports: list[ChangeReport] = []
    for monitor in monitors:
        w = monitor.window_s * 1_000_000_000
        for label, first, a_sql, a_params, b_sql, b_params in _changes(ws, now - w, now):
            after = read_sample(ws, monitor, first, now, a_sql, a_params)
            before = read_sample(ws, monitor, first - w, first, b_sql, b_params)
            a, b = metric_value(monitor, after), metric_value(monitor, before)
            if after.count == 0 or before.count == 0:
                continue
            test = compare(monitor, after, before)
            reports.append(
                ChangeReport(
                    change=label,
                    first_seen_ns=first,
                    monitor=monitor.name,
                    metric=monitor.metric_label,
                    before=b,
                    after=a,
                    before_count=before.count,
                    after_count=after.count,
                    p_value=test.p_value,
                    worse=a is not None and b is not None and is_worse(monitor, a, b),
                    scope=dict(monitor.filter),
                )
            )
    return reports
