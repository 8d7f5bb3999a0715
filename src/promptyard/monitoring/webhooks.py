"""Alert webhooks: a Slack-compatible JSON body POSTed on a background thread.

The URL is read from the environment variable a monitor names (`webhook_env:`) at send
time: never stored, never logged, scrubbed from any error text. A failure or a hang (each
attempt has a timeout) is retried with exponential backoff; evaluation never waits for it.
The outcome is stored on the alert (delivered, delivery_error).
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from promptyard.monitoring.checks import CheckResult

DEFAULT_ATTEMPTS = 4
DEFAULT_TIMEOUT_S = 5.0
DEFAULT_BACKOFF_S = 0.5


def slack_body(result: CheckResult, alert_id: int | None = None) -> dict[str, Any]:
    """The Slack-compatible body of an alert: {"text": ..., "blocks": [...]}."""
    title = f":rotating_light: Promptyard monitor *{result.monitor}* fired"
    fields = [
        f"*Metric*\n{result.metric}",
        f"*Value*\n{'n/a' if result.value is None else f'{result.value:.4g}'}",
        f"*Baseline*\n{'n/a' if result.baseline is None else f'{result.baseline:.4g}'}",
        f"*p-value*\n{'n/a' if result.p_value is None else f'{result.p_value:.3g}'}",
        f"*Count*\n{result.count}",
        f"*Scope*\n{json.dumps(result.scope, sort_keys=True) or '{}'}",
    ]
    return {
        "text": f"Promptyard monitor {result.monitor} fired: {result.message}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": title}},
            {"type": "section", "text": {"type": "mrkdwn", "text": result.message}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"alert {alert_id} · {len(result.span_ids)} span(s) stored",
                    }
                ],
            },
        ],
    }


def _scrub(message: str, url: str) -> str:
    return message.replace(url, "<webhook URL>") if url else message


def post_once(url: str, body: dict[str, Any], timeout_s: float) -> None:
    """One POST of `body`; raises OSError (URLError, HTTPError, a timeout) on failure."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
        response.read()


@dataclass
class _Job:
    alert_id: int
    env: str
    body: dict[str, Any]


class Deliverer:
    """Delivers alert webhooks on one daemon thread; `done(alert_id, ok, error)` records the
    outcome. `send` returns at once."""

    def __init__(
        self,
        done: Callable[[int, bool, str | None], None],
        attempts: int = DEFAULT_ATTEMPTS,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        backoff_s: float = DEFAULT_BACKOFF_S,
    ) -> None:
        self._done = done
        self.attempts, self.timeout_s, self.backoff_s = attempts, timeout_s, backoff_s
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="promptyard-webhooks", daemon=True)
        self._thread.start()

    def send(self, alert_id: int, env: str, body: dict[str, Any]) -> None:
        """Queue `body` for the URL in environment variable `env`."""
        self._queue.put(_Job(alert_id, env, body))

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait until every queued delivery is finished (True) or `timeout_s` passes (False)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while self._queue.unfinished_tasks:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is not None:
                    self._deliver(job)
            finally:
                self._queue.task_done()

    def _deliver(self, job: _Job) -> None:
        url = os.environ.get(job.env, "")
        if not url:
            self._record(job.alert_id, False, f"environment variable {job.env} is not set")
            return
        error = "not attempted"
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                post_once(url, job.body, self.timeout_s)
            except (OSError, ValueError) as exc:
                error = _scrub(f"{type(exc).__name__}: {exc}", url)
                continue
            self._record(job.alert_id, True, None)
            return
        self._record(job.alert_id, False, f"{self.attempts} attempts failed; last: {error}")

    def _record(self, alert_id: int, ok: bool, error: str | None) -> None:
        try:
            self._done(alert_id, ok, error)
        except Exception:  # noqa: BLE001 - a storage hiccup must not kill the delivery thread
            pass
