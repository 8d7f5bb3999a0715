"""Evaluate a monitor once: its metric over the last window against a threshold, the window
before it, or the prompt version before the newest one in traffic.

A decline is tested: a proportion (pass rate, error rate) by the two-proportion z-test, any
other metric by Welch's t-test on its per-call values (latency in ms, cost, tokens, the
feedback values). It fires only in the bad direction, with p < alpha, and with at least
`min_count` observations on each side; an absolute threshold also needs `min_count`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from promptyard.monitoring.config import (
    HIGHER_IS_BETTER,
    PROPORTIONS,
    ConditionKind,
    Monitor,
)
from promptyard.monitoring.samples import Sample, culprits, metric_value, read_sample
from promptyard.monitoring.significance import TestResult, two_proportion_z_test, welch_t_test
from promptyard.storage import db
from promptyard.workspace import Workspace


@dataclass
class CheckResult:
    """What one monitor found: fired or not, the value, its baseline and the p-value."""

    monitor: str
    metric: str
    fired: bool
    value: float | None
    count: int
    message: str
    baseline: float | None = None
    baseline_count: int | None = None
    p_value: float | None = None
    scope: dict[str, Any] = field(default_factory=dict)  # the filter, plus a prompt version
    span_ids: list[str] = field(default_factory=list)
    webhook_env: str | None = None
    window_s: int = 3600

    def to_dict(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in ("monitor", "metric", "fired", "value", "count", "baseline")
            + ("baseline_count", "p_value", "scope", "message", "span_ids")
        }


def now_ns() -> int:
    """The current time in Unix nanoseconds, the span table's clock."""
    return time.time_ns()


def compare(monitor: Monitor, current: Sample, baseline: Sample) -> TestResult:
    """The test of `current` against `baseline`: z for a proportion, Welch's t otherwise."""
    if monitor.metric in PROPORTIONS:
        return two_proportion_z_test(
            round(sum(current.values)),
            current.count,
            round(sum(baseline.values)),
            baseline.count,
        )
    return welch_t_test(current.values, baseline.values)


def is_worse(monitor: Monitor, value: float, baseline: float) -> bool:
    """Whether `value` is worse than `baseline` for this metric."""
    return value < baseline if monitor.metric in HIGHER_IS_BETTER else value > baseline


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def evaluate_monitor(ws: Workspace, monitor: Monitor, now: int | None = None) -> list[CheckResult]:
    """The results of `monitor` at `now` (Unix ns): one, or one per prompt for a decline
    against the previous version."""
    end = now if now is not None else now_ns()
    w = monitor.window_s * 1_000_000_000
    base: dict[str, Any] = {"monitor": monitor.name, "metric": monitor.metric_label}
    base.update(webhook_env=monitor.webhook_env, window_s=monitor.window_s)
    kind = monitor.condition.kind
    if kind is ConditionKind.DECLINE_VS_PREVIOUS_VERSION:
        return [
            _vs_version(ws, monitor, end, w, name, v, base)
            for name, v in _newest(ws, monitor, end - w, end)
        ]
    current = read_sample(ws, monitor, end - w, end)
    value = metric_value(monitor, current)
    scope = dict(monitor.filter)
    if kind in (ConditionKind.ABOVE, ConditionKind.BELOW):
        threshold = monitor.condition.threshold or 0.0
        if current.count < monitor.min_count:
            msg = f"{current.count} observations in the last {monitor.window}, need {monitor.min_count}"
            return [
                CheckResult(
                    **base, fired=False, value=value, count=current.count, message=msg, scope=scope
                )
            ]
        assert value is not None
        fired = value > threshold if kind is ConditionKind.ABOVE else value < threshold
        verb = "is" if fired else "is not"
        msg = (
            f"{monitor.metric_label} {_fmt(value)} over the last {monitor.window} "
            f"({current.count} observations) {verb} {kind.value} {threshold:g}"
        )
        ids = culprits(monitor, current, value) if fired else []
        return [
            CheckResult(
                **base,
                fired=fired,
                value=value,
                count=current.count,
                message=msg,
                scope=scope,
                baseline=threshold,
                span_ids=ids,
            )
        ]
    previous = read_sample(ws, monitor, end - 2 * w, end - w)
    return [_decline(monitor, current, previous, "the window before", base, scope)]


def _decline(
    monitor: Monitor,
    current: Sample,
    baseline: Sample,
    against: str,
    base: dict[str, Any],
    scope: dict[str, Any],
) -> CheckResult:
    value, before = metric_value(monitor, current), metric_value(monitor, baseline)
    common = dict(base, value=value, count=current.count, baseline=before, scope=scope)
    common["baseline_count"] = baseline.count
    if min(current.count, baseline.count) < monitor.min_count:
        msg = (
            f"{current.count} observations now and {baseline.count} in {against}, "
            f"need {monitor.min_count} on each side"
        )
        return CheckResult(**common, fired=False, message=msg)
    test = compare(monitor, current, baseline)
    assert value is not None and before is not None
    worse = is_worse(monitor, value, before)
    fired = worse and test.p_value is not None and test.p_value < monitor.condition.alpha
    name = "two-proportion z" if monitor.metric in PROPORTIONS else "Welch t"
    p = "undefined" if test.p_value is None else f"{test.p_value:.3g}"
    msg = (
        f"{monitor.metric_label} {_fmt(value)} ({current.count}) against {_fmt(before)} "
        f"({baseline.count}) in {against}: {name} p = {p}"
        + (" — a significant decline" if fired else "")
    )
    ids = culprits(monitor, current, value) if fired else []
    return CheckResult(**common, fired=fired, p_value=test.p_value, message=msg, span_ids=ids)


def _newest(ws: Workspace, monitor: Monitor, t0: int, t1: int) -> list[tuple[str, int]]:
    """(prompt, newest version) of the prompts in the monitor's traffic over [t0, t1)."""
    where = ["is_llm = :yes", "start_ns >= :t0", "start_ns < :t1"]
    params: dict[str, Any] = {"yes": True, "t0": t0, "t1": t1}
    if "prompt" in monitor.filter:
        where.append("prompt_name = :p")
        params["p"] = monitor.filter["prompt"]
    sql = (
        "SELECT prompt_name, MAX(prompt_version) FROM span WHERE "
        + " AND ".join(where)
        + " AND prompt_version IS NOT NULL GROUP BY prompt_name ORDER BY prompt_name"
    )
    with db.session(ws) as session:
        return [(str(r[0]), int(r[1])) for r in session.connection().execute(text(sql), params)]


def _vs_version(
    ws: Workspace, monitor: Monitor, end: int, w: int, name: str, version: int, base: dict[str, Any]
) -> CheckResult:
    # The version before: the newest lower version of the prompt seen in traffic, over the
    # window that ends with its last span (it may have stopped, or still share traffic).
    # Two index seeks on (prompt_name, prompt_version, start_ns), not a scan of the prompt.
    prev_sql = "SELECT MAX(prompt_version) FROM span WHERE prompt_name = :p AND prompt_version < :v"
    last_sql = (
        "SELECT MAX(start_ns) FROM span WHERE prompt_name = :p AND prompt_version = :pv "
        "AND start_ns < :end"
    )
    row: tuple[int, int] | None = None
    with db.session(ws) as session:
        conn = session.connection()
        prev_v = conn.execute(text(prev_sql), {"p": name, "v": version}).scalar()
        if prev_v is not None:
            last_ns = conn.execute(text(last_sql), {"p": name, "pv": prev_v, "end": end}).scalar()
            if last_ns is not None:
                row = (int(prev_v), int(last_ns))
    scope = dict(monitor.filter, prompt=name, version=version)
    pv = "s.prompt_name = :vp AND s.prompt_version = :vv"
    current = read_sample(ws, monitor, end - w, end, pv, {"vp": name, "vv": version})
    if row is None:
        value = metric_value(monitor, current)
        msg = f"{name} v{version} has no earlier version in traffic to compare with"
        return CheckResult(
            **base, fired=False, value=value, count=current.count, message=msg, scope=scope
        )
    prev, last = int(row[0]), int(row[1])
    baseline = read_sample(ws, monitor, last + 1 - w, last + 1, pv, {"vp": name, "vv": prev})
    scope["baseline_version"] = prev
    return _decline(monitor, current, baseline, f"{name} v{prev}", base, scope)
