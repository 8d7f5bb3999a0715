"""Monitoring of live traffic: monitors.yaml, alerts on decline, webhooks.

`load_monitors` reads monitors.yaml (falling back to the last good committed version when
the working tree's is bad), `run_checks` evaluates every monitor once (checks, samples,
significance), stores fired ones as alerts (`list_alerts`) and hands them to the webhook
thread (webhooks); `change_reports` compares metrics before and after a new prompt version
or provider-reported model.
"""

from promptyard.monitoring.alerts import Alert, list_alerts, record_alert, set_delivery
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
from promptyard.monitoring.runner import CheckReport, deliverer_for, run_checks
from promptyard.monitoring.significance import (
    TestResult,
    t_two_sided_p,
    two_proportion_z_test,
    welch_t_test,
)
from promptyard.monitoring.webhooks import Deliverer, slack_body

__all__ = [
    "MONITORS_FILE",
    "Alert",
    "ChangeReport",
    "CheckReport",
    "CheckResult",
    "Condition",
    "ConditionKind",
    "Deliverer",
    "Metric",
    "Monitor",
    "Monitors",
    "MonitorsError",
    "TestResult",
    "change_reports",
    "deliverer_for",
    "evaluate_monitor",
    "list_alerts",
    "load_monitors",
    "parse_monitors",
    "parse_window",
    "record_alert",
    "run_checks",
    "set_delivery",
    "slack_body",
    "t_two_sided_p",
    "two_proportion_z_test",
    "welch_t_test",
]
