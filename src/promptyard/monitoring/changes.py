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


Change = tuple[str, int, str, dict[str, Any], str, dict[str, Any]]


def _changes(ws: Workspace, t0: int, t1: int) -> list[Change]:
    """(label, first_ns, after-SQL, params, before-SQL, params) of changes first seen in
    [t0, t1). Candidates come from the window; their first appearance from an index seek."""
    out: list[Change] = []
    window = {"yes": True, "t0": t0, "t1": t1}
    with db.session(ws) as session:
        conn = session.connection()
        versions = conn.execute(
            text(
                "SELECT DISTINCT prompt_name, prompt_version FROM span WHERE is_llm = :yes "
                "AND start_ns >= :t0 AND start_ns < :t1 AND prompt_version IS NOT NULL"
            ),
            window,
        ).all()
        for name, version in versions:
            key = {"p": name, "v": version}
            first = conn.execute(
                text(
                    "SELECT MIN(start_ns) FROM span WHERE prompt_name = :p AND prompt_version = :v"
                ),
                key,
            ).scalar()
            if first is None or not t0 <= first < t1:
                continue
            prev = conn.execute(
                text(
                    "SELECT MAX(prompt_version) FROM span WHERE prompt_name = :p "
                    "AND prompt_version < :v"
                ),
                key,
            ).scalar()
            if prev is None:
                continue
            sql = "s.prompt_name = :cp AND s.prompt_version = :cv"
            label = f"prompt {name} v{version} (after v{prev})"
            after, before = {"cp": name, "cv": version}, {"cp": name, "cv": int(prev)}
            out.append((label, int(first), sql, after, sql, before))
        models = conn.execute(
            text(
                "SELECT DISTINCT request_model, response_model FROM span WHERE is_llm = :yes "
                "AND start_ns >= :t0 AND start_ns < :t1 AND response_model IS NOT NULL "
                "AND request_model IS NOT NULL"
            ),
            window,
        ).all()
        for requested, reported in models:
            key = {"rq": requested, "rs": reported}
            first = conn.execute(
                text(
                    "SELECT MIN(start_ns) FROM span WHERE request_model = :rq "
                    "AND response_model = :rs"
                ),
                key,
            ).scalar()
            if first is None or not t0 <= first < t1:
                continue
            older = conn.execute(
                text(
                    "SELECT 1 FROM span WHERE request_model = :rq AND response_model <> :rs "
                    "AND start_ns < :f LIMIT 1"
                ),
                {**key, "f": first},
            ).first()
            if older is None:
                continue
            a_sql = "s.request_model = :rq AND s.response_model = :rs"
            b_sql = "s.request_model = :rq AND s.response_model <> :rs"
            out.append((f"model {reported} (for {requested})", int(first), a_sql, key, b_sql, key))
    return out


def change_reports(ws: Workspace, monitors: list[Monitor], now: int) -> list[ChangeReport]:
    """For every change first seen within a monitor's window, that monitor's metric over the
    window before the change against the time since (each within the monitor's filter)."""
    reports: list[ChangeReport] = []
    if not monitors:
        return reports
    widest = max(m.window_s for m in monitors) * 1_000_000_000
    changes = _changes(ws, now - widest, now)
    for monitor in monitors:
        w = monitor.window_s * 1_000_000_000
        for label, first, a_sql, a_params, b_sql, b_params in changes:
            if first < now - w:
                continue
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
