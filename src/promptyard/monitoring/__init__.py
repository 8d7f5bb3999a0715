"""Monitoring of live traffic: metrics and charts, monitors.yaml, alerts on decline, webhooks.

`metrics` computes volume, error rate, nearest-rank latency and time to first token,
tokens, cost (unknown kept apart), end-user feedback and online evaluators' pass rates per
hour or day and segment, for the Monitoring page; `appearances` finds where new prompt
versions and provider models first appeared (the page's markers and the monitors' change
reports), `traffic` draws them as markers and ranks the top consumers. `load_monitors` reads
monitors.yaml (falling back to the last good committed version when the working tree's is
bad), `run_checks` evaluates every monitor once (checks, samples, significance), stores
fired ones as alerts (`list_alerts`) and hands them to the webhook thread (webhooks);
`change_reports` compares metrics before and after a new prompt version or
provider-reported model.
"""

from __future__ import annotations

from promptyard.monitoring.alerts import Alert, list_alerts, record_alert, set_delivery
from promptyard.monitoring.appearances import Appearance, ChangeKind, first_appearances
from promptyard.monitoring.changes import ChangeReport, change_reports
from promptyard.monitoring.checks import CheckResult, evaluate_monitor
from promptyard.monitoring.config import (
    MONITORS_FILE,
    Condition,
    ConditionKind,
    Metric,
    Monitor,
    Monitors,
    MonitorsError,
    load_monitors,
    parse_monitors,
    parse_window,
)
from promptyard.monitoring.metrics import (
    NO_SEGMENT,
    SEGMENT_TITLES,
    SERIES_COLUMNS,
    Granularity,
    MetricsError,
    MetricsQuery,
    Segment,
    feedback_series,
    pass_rate_series,
    span_attribute_keys,
    span_series,
    time_bounds,
)
from promptyard.monitoring.runner import CheckReport, deliverer_for, run_checks
from promptyard.monitoring.series import metric_series
from promptyard.monitoring.significance import (
    TestResult,
    t_two_sided_p,
    two_proportion_z_test,
    welch_t_test,
)
from promptyard.monitoring.traffic import (
    CONSUMER_COLUMNS,
    ChangeMarker,
    ConsumerKind,
    change_markers,
    top_consumers,
)
from promptyard.monitoring.webhooks import Deliverer, slack_body

__all__ = [
    "CONSUMER_COLUMNS",
    "MONITORS_FILE",
    "NO_SEGMENT",
    "SEGMENT_TITLES",
    "SERIES_COLUMNS",
    "Alert",
    "Appearance",
    "ChangeKind",
    "ChangeMarker",
    "ChangeReport",
    "CheckReport",
    "CheckResult",
    "Condition",
    "ConditionKind",
    "ConsumerKind",
    "Deliverer",
    "Granularity",
    "Metric",
    "MetricsError",
    "MetricsQuery",
    "Monitor",
    "Monitors",
    "MonitorsError",
    "Segment",
    "TestResult",
    "change_markers",
    "change_reports",
    "deliverer_for",
    "evaluate_monitor",
    "first_appearances",
    "feedback_series",
    "list_alerts",
    "load_monitors",
    "metric_series",
    "parse_monitors",
    "parse_window",
    "pass_rate_series",
    "record_alert",
    "run_checks",
    "set_delivery",
    "slack_body",
    "span_series",
    "span_attribute_keys",
    "t_two_sided_p",
    "time_bounds",
    "top_consumers",
    "two_proportion_z_test",
    "welch_t_test",
]
