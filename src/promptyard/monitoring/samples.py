"""The observations a monitor's metric is computed from, read from the span tables by SQL.

One observation per LLM span (per feedback for mean_feedback, per score for pass_rate): a
0/1 for the proportions, milliseconds, dollars or tokens for the others, with its span id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect, text

from promptyard.monitoring.config import HIGHER_IS_BETTER, PROPORTIONS, Metric, Monitor
from promptyard.monitoring.significance import nearest_rank_percentile
from promptyard.storage import db
from promptyard.workspace import Workspace

_FILTER_SQL = {
    "prompt": "s.prompt_name = :f_prompt",
    "label": "s.prompt_label = :f_label",
    "model": "(s.response_model = :f_model OR s.request_model = :f_model)",
    "service": "s.service_name = :f_service",
}
MAX_SPAN_IDS = 50


@dataclass
class Sample:
    """Observations in [t0_ns, t1_ns) and the span id behind each."""

    values: list[float] = field(default_factory=list)
    span_ids: list[str] = field(default_factory=list)
    hours: float = 1.0

    @property
    def count(self) -> int:
        return len(self.values)


def has_scores(ws: Workspace) -> bool:
    """Whether the span_score table (online evaluation, m014) exists in this database."""
    with db.get_engine(ws).connect() as conn:
        return inspect(conn).has_table("span_score")


def read_sample(
    ws: Workspace,
    monitor: Monitor,
    t0_ns: int,
    t1_ns: int,
    extra: str = "",
    extra_params: dict[str, Any] | None = None,
) -> Sample:
    """The observations of `monitor`'s metric over its filter in [t0_ns, t1_ns); `extra` is
    one more SQL condition on span `s` (a version, a model). Empty without span_score."""
    where = ["s.is_llm = :yes", "s.start_ns >= :t0", "s.start_ns < :t1"]
    params: dict[str, Any] = {"yes": True, "t0": t0_ns, "t1": t1_ns, **(extra_params or {})}
    for key, value in monitor.filter.items():
        where.append(_FILTER_SQL[key])
        params[f"f_{key}"] = value
    if extra:
        where.append(extra)
    cond = " AND ".join(where)
    metric = monitor.metric
    if metric is Metric.ERROR_RATE:
        sql = f"SELECT s.span_id, CASE WHEN s.status = 'error' THEN 1 ELSE 0 END FROM span s WHERE {cond}"
    elif metric is Metric.LATENCY:
        sql = f"SELECT s.span_id, s.duration_ms FROM span s WHERE {cond} AND s.status <> 'error'"
    elif metric is Metric.COST_PER_HOUR:
        sql = f"SELECT s.span_id, s.cost_usd FROM span s WHERE {cond} AND s.cost_usd IS NOT NULL"
    elif metric is Metric.TOKENS_PER_HOUR:
        sql = (
            "SELECT s.span_id, COALESCE(s.input_tokens, 0) + COALESCE(s.output_tokens, 0) "
            f"FROM span s WHERE {cond} AND "
            "(s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL)"
        )
    elif metric is Metric.PASS_RATE:
        if not has_scores(ws):
            return Sample(hours=(t1_ns - t0_ns) / 3.6e12)
        suite = " AND sc.suite = :suite" if monitor.suite else ""
        params.update(evaluator=monitor.evaluator, suite=monitor.suite)
        sql = (
            "SELECT s.span_id, CASE WHEN sc.passed THEN 1 ELSE 0 END FROM span_score sc "
            f"JOIN span s ON s.id = sc.span_row_id WHERE {cond} AND sc.evaluator = :evaluator"
            f" AND sc.passed IS NOT NULL{suite}"
        )
    else:  # mean feedback: one observation per feedback row on a trace in the filter
        params["feedback"] = monitor.feedback
        sql = (
            "SELECT MIN(s.span_id), f.value FROM trace_feedback f JOIN span s "
            f"ON s.trace_id = f.trace_id WHERE {cond} AND f.name = :feedback "
            "AND f.value IS NOT NULL GROUP BY f.id, f.value"
        )
    with db.session(ws) as session:
        rows = session.connection().execute(text(sql), params).all()
    return Sample(
        [float(r[1]) for r in rows], [str(r[0]) for r in rows], hours=(t1_ns - t0_ns) / 3.6e12
    )


def metric_value(monitor: Monitor, sample: Sample) -> float | None:
    """The metric over a sample: a share, a mean, a nearest-rank percentile or a per-hour
    total; None when the sample is empty."""
    if not sample.values:
        return None
    if monitor.metric is Metric.LATENCY:
        return nearest_rank_percentile(sample.values, monitor.percentile or 95)
    if monitor.metric in (Metric.COST_PER_HOUR, Metric.TOKENS_PER_HOUR):
        return sum(sample.values) / sample.hours
    return sum(sample.values) / len(sample.values)


def culprits(monitor: Monitor, sample: Sample, value: float | None) -> list[str]:
    """The span ids behind a bad value: errors, failed scores, the slowest, the costliest."""
    pairs = list(zip(sample.values, sample.span_ids, strict=True))
    if monitor.metric in PROPORTIONS:
        bad = 0.0 if monitor.metric in HIGHER_IS_BETTER else 1.0
        return [s for v, s in pairs if v == bad][:MAX_SPAN_IDS]
    if monitor.metric is Metric.LATENCY and value is not None and not math.isnan(value):
        pairs = [(v, s) for v, s in pairs if v >= value]
    reverse = monitor.metric not in HIGHER_IS_BETTER
    return [s for _, s in sorted(pairs, key=lambda p: p[0], reverse=reverse)][:MAX_SPAN_IDS]
