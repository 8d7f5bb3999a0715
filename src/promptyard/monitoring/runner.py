"""Evaluate every monitor once: store what fired (one alert per monitor per window), hand it
to the webhook thread, and report the changes in traffic."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from promptyard.monitoring.alerts import recently_fired, record_alert, set_delivery
from promptyard.monitoring.changes import ChangeReport, change_reports
from promptyard.monitoring.checks import CheckResult, evaluate_monitor, now_ns
from promptyard.monitoring.config import load_monitors
from promptyard.monitoring.webhooks import Deliverer, slack_body
from promptyard.workspace import Workspace


@dataclass
class CheckReport:
    """One evaluation of monitors.yaml."""

    results: list[CheckResult]
    changes: list[ChangeReport]
    source: str  # which monitors.yaml ran: "working tree", "vN" or "none"
    warning: str | None = None  # why the working tree's file did not run
    alert_ids: list[int] = field(default_factory=list)  # alerts stored by this evaluation

    @property
    def fired(self) -> list[CheckResult]:
        return [r for r in self.results if r.fired]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "warning": self.warning,
            "fired": len(self.fired),
            "alert_ids": self.alert_ids,
            "results": [r.to_dict() for r in self.results],
            "changes": [c.to_dict() for c in self.changes],
        }


def deliverer_for(ws: Workspace, **kwargs: Any) -> Deliverer:
    """A webhook deliverer that stores each outcome on its alert in `ws`."""
    return Deliverer(lambda i, ok, err: set_delivery(ws, i, ok, err), **kwargs)


def run_checks(
    ws: Workspace, now: int | None = None, deliverer: Deliverer | None = None
) -> CheckReport:
    """Evaluate every monitor in force at `now` (Unix ns). A fired monitor stores an alert
    unless it stored one within its window; alerts with `webhook_env` are queued on
    `deliverer` (returns without waiting for them)."""
    end = now if now is not None else now_ns()
    loaded = load_monitors(ws)
    results: list[CheckResult] = []
    for monitor in loaded.monitors:
        results.extend(evaluate_monitor(ws, monitor, end))
    ids: list[int] = []
    for result in results:
        if not result.fired or recently_fired(ws, result.monitor, result.window_s):
            continue
        pending = None if result.webhook_env else "no webhook_env"
        if result.webhook_env and deliverer is None:
            pending = "not sent: no deliverer"
        alert_id = record_alert(ws, result, pending)
        ids.append(alert_id)
        if result.webhook_env and deliverer is not None:
            deliverer.send(alert_id, result.webhook_env, slack_body(result, alert_id))
    changes = change_reports(ws, loaded.monitors, end)
    return CheckReport(results, changes, loaded.source, loaded.warning, ids)
