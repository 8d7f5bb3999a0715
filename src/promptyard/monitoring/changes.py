"""Before/after comparisons at a change in traffic: a new prompt version or a new
provider-reported model first seen within a monitor's window gets every monitored metric
compared, before against after, with the same tests as a decline (they never fire; they
are reported)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from promptyard.monitoring.appearances import ChangeKind, first_appearances
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
    [t0, t1): a prompt version against the highest earlier version before it, a reported
    model against the other models of the same requested model."""
    out: list[Change] = []
    with db.session(ws) as session:
        conn = session.connection()
        versions = first_appearances(conn, ChangeKind.PROMPT_VERSION, t0, t1)
        models = first_appearances(conn, ChangeKind.RESPONSE_MODEL, t0, t1)
    for seen in versions:
        older = [v for v in seen.earlier if v < seen.value]
        if not older:
            continue
        name, version, prev = seen.scope, int(seen.value), int(max(older))
        sql = "s.prompt_name = :cp AND s.prompt_version = :cv"
        label = f"prompt {name} v{version} (after v{prev})"
        after, before = {"cp": name, "cv": version}, {"cp": name, "cv": prev}
        out.append((label, seen.first_ns, sql, after, sql, before))
    for seen in models:
        key = {"rq": seen.scope, "rs": seen.value}
        a_sql = "s.request_model = :rq AND s.response_model = :rs"
        b_sql = "s.request_model = :rq AND s.response_model <> :rs"
        label = f"model {seen.value} (for {seen.scope})"
        out.append((label, seen.first_ns, a_sql, key, b_sql, key))
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
