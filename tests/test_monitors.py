"""monitors.yaml: parsing with file and line, every metric and condition, the tests behind a
decline against reference values, min count, alerts stored with their spans, webhooks on
127.0.0.1 (delivered, retried, never blocking, the URL never stored)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from promptyard.cli import app
from promptyard.monitoring import (
    Deliverer,
    MonitorsError,
    deliverer_for,
    evaluate_monitor,
    list_alerts,
    load_monitors,
    parse_monitors,
    run_checks,
    t_two_sided_p,
    two_proportion_z_test,
    welch_t_test,
)
from promptyard.stats import t_critical
from promptyard.storage import db
from promptyard.versioning import Store
from promptyard.workspace import Workspace

HOUR = 3600 * 10**9
NOW = 1_800_000_000 * 10**9
SECRET_URL_PATH = "/services/T000/B000/s3cr3t-token"


def add_spans(ws: Workspace, rows: list[dict[str, Any]]) -> None:
    """Spans as the collector stores them (LLM spans unless said otherwise)."""
    base = {
        "parent_span_id": None, "name": "chat", "kind": "client", "service_name": "shop",
        "end_ns": 0, "duration_ms": 100.0, "status": "ok", "is_llm": True,
        "request_model": "sim-fast", "response_model": "sim-fast", "input_tokens": 10,
        "output_tokens": 5, "cost_usd": 0.001, "prompt_name": "summarize",
        "prompt_version": 1, "prompt_label": None, "attributes_json": "{}",
        "received_at": "2027-01-01 00:00:00",
    }  # fmt: skip
    db.get_engine(ws)
    ids = [f"{i:016x}" for i in range(len(rows))]

    def insert(s: Any) -> None:
        start = s.connection().execute(text("SELECT COUNT(*) FROM span")).scalar_one()
        for n, row in enumerate(rows):
            values = {**base, **row}
            values.setdefault("trace_id", f"{start + n:032x}")
            values.setdefault("span_id", f"{start + n:016x}")
            cols = ", ".join(values)
            s.connection().execute(
                text(f"INSERT INTO span ({cols}) VALUES ({', '.join(':' + k for k in values)})"),
                values,
            )

    del ids
    db.write(ws, insert)


def calls(n: int, start: int, **row: Any) -> list[dict[str, Any]]:
    """n spans spread over the hour that starts at `start`."""
    return [{"start_ns": start + i * (HOUR // max(n, 1)), **row} for i in range(n)]


def write_monitors(ws: Workspace, body: str, commit: bool = False) -> None:
    if commit:
        Store(ws).save("monitors.yaml", body, "monitors")
    else:
        (ws.root / "monitors.yaml").write_text(body, encoding="utf-8")


def one(body: str) -> str:
    return "monitors:\n" + body


# --- parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ("  - name: a\n    metric: happiness\n    window: 1h\n    condition: {above: 1}\n", 3,
         "unknown metric 'happiness'"),
        ("  - name: a\n    metric: error_rate\n    window: 1h\n    filter: {region: eu}\n"
         "    condition: {above: 1}\n", 5, "unknown filter 'region'"),
        ("  - name: a\n    metric: error_rate\n    window: soon\n    condition: {above: 1}\n", 4,
         "bad window 'soon'"),
        ("  - name: a\n    metric: error_rate\n    window: 1h\n    condition: {decline: last_year}\n",
         5, "decline against 'last_year'"),
        ("  - name: a\n    metric: pass_rate\n    window: 1h\n    condition: {below: 0.5}\n", 3,
         "needs 'evaluator:'"),
        ("  - name: a\n    metric: error_rate\n    window: 1h\n    condition: {above: 1}\n"
         "    threshold: 3\n", 6, "unknown key 'threshold'"),
    ],
)  # fmt: skip
def test_a_bad_monitor_names_the_file_and_line(body: str, line: int, words: str) -> None:
    with pytest.raises(MonitorsError) as info:
        parse_monitors(one(body))
    assert str(info.value).startswith(f"monitors.yaml:{line}: ")
    assert words in str(info.value)


def test_the_shipped_example_has_an_error_rate_and_a_p95_latency_monitor(
    workspace: Workspace,
) -> None:
    loaded = load_monitors(workspace)
    assert loaded.source == "working tree" and loaded.warning is None
    by_name = {m.name: m for m in loaded.monitors}
    rate = by_name["error-rate"]
    assert (rate.metric, rate.condition.threshold, rate.window_s, rate.min_count) == (
        "error_rate",
        0.2,
        3600,
        5,
    )
    assert by_name["latency-p95"].percentile == 95
    assert Store(workspace).history("monitors.yaml")  # committed by init


def test_a_bad_working_file_keeps_the_last_good_committed_monitors(
    workspace: Workspace,
) -> None:
    write_monitors(
        workspace, one("  - name: a\n    metric: nope\n    window: 1h\n    condition: {above: 1}\n")
    )
    loaded = load_monitors(workspace)
    assert [m.name for m in loaded.monitors] == ["error-rate", "latency-p95"]
    assert loaded.source == "v1"
    assert loaded.warning is not None and loaded.warning.startswith(
        "monitors.yaml:3: unknown metric"
    )
    # The same through the command: it says so and still evaluates the old monitors.
    result = CliRunner().invoke(app, ["monitor", "check", "--workspace", str(workspace.root)])
    assert result.exit_code == 0, result.output
    assert "using the last good v1" in result.output and "error-rate" in result.output


# --- metrics and conditions ------------------------------------------------------------


def monitor(body: str) -> Any:
    [m] = parse_monitors(one(body))
    return m


def test_error_rate_above_a_threshold_fires_with_the_failing_spans(workspace: Workspace) -> None:
    add_spans(
        workspace, calls(6, NOW - HOUR, status="ok") + calls(4, NOW - HOUR + 1, status="error")
    )
    m = monitor(
        "  - name: e\n    metric: error_rate\n    window: 1h\n    condition: {above: 0.2}\n    min_count: 5\n"
    )
    [r] = evaluate_monitor(workspace, m, NOW)
    assert r.fired and r.value == pytest.approx(0.4) and r.count == 10
    assert len(r.span_ids) == 4  # the four errors, not the six that went well


def test_min_count_keeps_a_handful_of_calls_from_firing(workspace: Workspace) -> None:
    add_spans(workspace, calls(3, NOW - HOUR, status="error"))
    m = monitor(
        "  - name: e\n    metric: error_rate\n    window: 1h\n    condition: {above: 0.2}\n    min_count: 5\n"
    )
    [r] = evaluate_monitor(workspace, m, NOW)
    assert not r.fired and r.value == 1.0 and "need 5" in r.message


def test_latency_percentile_is_nearest_rank(workspace: Workspace) -> None:
    add_spans(
        workspace, [{"start_ns": NOW - HOUR + i, "duration_ms": float(i + 1)} for i in range(20)]
    )
    m = monitor(
        "  - name: l\n    metric: latency_p95\n    window: 1h\n    condition: {above: 18.5}\n    min_count: 5\n"
    )
    [r] = evaluate_monitor(workspace, m, NOW)
    # ceil(0.95 * 20) = rank 19 of 1..20 ms: 19 ms (an interpolating percentile says 19.05)
    assert r.value == 19.0 and r.fired and set(r.span_ids) == {f"{18:016x}", f"{19:016x}"}


def test_cost_and_tokens_per_hour_and_the_filters(workspace: Workspace) -> None:
    add_spans(
        workspace,
        calls(10, NOW - 2 * HOUR, cost_usd=0.5, input_tokens=100, output_tokens=50)
        + calls(
            5,
            NOW - 2 * HOUR,
            cost_usd=9.0,
            service_name="other",
            request_model="sim-x",
            response_model="sim-x",
        ),
    )
    cost = monitor(
        "  - name: c\n    metric: cost_per_hour\n    window: 2h\n    filter: {service: shop, prompt: summarize}\n"
        "    condition: {above: 2}\n    min_count: 1\n"
    )
    [r] = evaluate_monitor(workspace, cost, NOW)
    assert r.value == pytest.approx(2.5) and r.fired  # $5 over 2 hours, "other" left out
    tokens = monitor(
        "  - name: t\n    metric: tokens_per_hour\n    window: 2h\n    filter: {model: sim-fast}\n"
        "    condition: {above: 1000}\n    min_count: 1\n"
    )
    [r] = evaluate_monitor(workspace, tokens, NOW)
    assert r.value == pytest.approx(750.0) and not r.fired


def test_mean_feedback_declines_against_the_window_before(workspace: Workspace) -> None:
    add_spans(workspace, calls(30, NOW - 2 * HOUR) + calls(30, NOW - HOUR))

    def feedback(s: Any) -> None:
        for i in range(60):
            value = (4.0 + (i % 3) * 0.5) if i < 30 else (2.0 + (i % 3) * 0.5)
            s.connection().execute(
                text(
                    "INSERT INTO trace_feedback (trace_id, name, value, source, created_at) "
                    "VALUES (:t, 'stars', :v, 'end_user', '2027-01-01')"
                ),
                {"t": f"{i:032x}", "v": value},
            )

    db.write(workspace, feedback)
    m = monitor(
        "  - name: f\n    metric: mean_feedback\n    feedback: stars\n    window: 1h\n"
        "    condition: {decline: previous_window}\n    min_count: 10\n"
    )
    [r] = evaluate_monitor(workspace, m, NOW)
    assert (r.value, r.baseline) == (pytest.approx(2.5), pytest.approx(4.5))
    assert r.fired and r.p_value is not None and r.p_value < 1e-10 and "Welch t" in r.message


def test_pass_rate_without_online_evaluation_is_no_data_not_a_crash(workspace: Workspace) -> None:
    add_spans(workspace, calls(10, NOW - HOUR))
    m = monitor(
        "  - name: p\n    metric: pass_rate\n    evaluator: x\n    window: 1h\n    condition: {below: 0.5}\n"
    )
    [r] = evaluate_monitor(workspace, m, NOW)
    assert not r.fired and r.count == 0


def test_error_rate_rising_after_a_new_version_fires_the_version_before_condition(
    workspace: Workspace,
) -> None:
    add_spans(
        workspace,
        calls(40, NOW - 3 * HOUR, prompt_version=1, status="ok")
        + calls(4, NOW - 3 * HOUR + 7, prompt_version=1, status="error")
        + calls(24, NOW - HOUR, prompt_version=2, status="ok")
        + calls(16, NOW - HOUR + 7, prompt_version=2, status="error"),
    )
    m = monitor(
        "  - name: v\n    metric: error_rate\n    window: 1h\n    filter: {prompt: summarize}\n"
        "    condition: {decline: previous_version, alpha: 0.01}\n    min_count: 20\n"
    )
    [r] = evaluate_monitor(workspace, m, NOW)
    expected = two_proportion_z_test(16, 40, 4, 44)
    assert r.fired and r.scope == {"prompt": "summarize", "version": 2, "baseline_version": 1}
    assert r.p_value == pytest.approx(expected.p_value)
    assert (r.value, r.baseline) == (pytest.approx(0.4), pytest.approx(4 / 44))


def test_an_improvement_or_noise_does_not_fire(workspace: Workspace) -> None:
    add_spans(
        workspace,
        calls(20, NOW - 2 * HOUR, status="error") + calls(20, NOW - 2 * HOUR + 3)
        + calls(2, NOW - HOUR, status="error") + calls(38, NOW - HOUR + 3),
    )  # fmt: skip
    m = monitor(
        "  - name: w\n    metric: error_rate\n    window: 1h\n    condition: {decline: previous_window}\n"
    )
    [r] = evaluate_monitor(workspace, m, NOW)
    assert not r.fired and r.p_value is not None and r.p_value < 0.001  # better, not worse


# --- the tests against reference values -----------------------------------------------


def test_two_proportion_z_test_matches_the_hand_computed_example() -> None:
    # 120/200 against 90/200: pooled p = 0.525, SE = sqrt(.525 * .475 * (1/200 + 1/200))
    # = 0.0499375, z = 0.15 / 0.0499375 = 3.00375, two-sided p = 0.00267 (normal tables).
    result = two_proportion_z_test(120, 200, 90, 200)
    assert result.statistic == pytest.approx(3.00375, abs=1e-4)
    assert result.p_value == pytest.approx(0.00267, abs=2e-5)
    assert two_proportion_z_test(0, 10, 0, 10).p_value is None  # no variance: undefined


def test_welch_t_test_matches_the_textbook_example() -> None:
    # Welch (1947) as worked on Wikipedia's "Welch's t-test", example 1:
    # t = -2.46, Welch-Satterthwaite dof = 25.0, two-sided p = 0.021.
    a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
    a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
    result = welch_t_test(a1, a2)
    assert result.statistic == pytest.approx(-2.46, abs=0.005)
    assert result.dof == pytest.approx(25.0, abs=0.05)
    assert result.p_value == pytest.approx(0.021, abs=0.0005)


@pytest.mark.parametrize("dof", [1, 2, 5, 10, 30, 200])
def test_the_t_tail_agrees_with_the_critical_values_table(dof: int) -> None:
    assert t_two_sided_p(t_critical(dof), dof) == pytest.approx(0.05, abs=2e-4)


# --- alerts and webhooks ---------------------------------------------------------------


class Receiver:
    """A webhook receiver on 127.0.0.1: answers `statuses` in turn (then 200), or holds each
    request until `release` is set when `hang` is on."""

    def __init__(self, statuses: list[int] | None = None, hang: bool = False) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.statuses = list(statuses or [])
        self.hang, self.release, self.arrived = hang, threading.Event(), threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.arrived.set()
                if receiver.hang:
                    receiver.release.wait(30)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if status == 200:
                    receiver.bodies.append(body)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}{SECRET_URL_PATH}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(statuses=[500, 503])
    yield r
    r.close()


FIRING = one(
    "  - name: errors\n    metric: error_rate\n    window: 1h\n    condition: {above: 0.2}\n"
    "    min_count: 5\n    webhook_env: ALERT_WEBHOOK_URL\n"
)


def test_an_alert_is_stored_with_its_spans_and_retried_to_the_webhook(
    workspace: Workspace, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALERT_WEBHOOK_URL", receiver.url)
    write_monitors(workspace, FIRING)
    add_spans(workspace, calls(5, NOW - HOUR, status="error") + calls(5, NOW - HOUR + 1))
    deliverer = deliverer_for(workspace, backoff_s=0.01)
    report = run_checks(workspace, now=NOW, deliverer=deliverer)
    assert [r.monitor for r in report.fired] == ["errors"]
    assert deliverer.wait(30)
    [body] = receiver.bodies  # two failures (500, 503), then delivered
    assert "errors" in body["text"] and body["blocks"][0]["type"] == "section"
    [alert] = list_alerts(workspace)
    assert alert.delivered and alert.delivery_error is None and alert.value == 0.5
    assert sorted(alert.span_ids) == [f"{i:016x}" for i in range(5)]
    # One alert per window: the next check still reports it but stores no second alert.
    again = run_checks(workspace, now=NOW, deliverer=deliverer)
    assert again.fired and again.alert_ids == [] and len(list_alerts(workspace)) == 1
    # The secret URL is nowhere in the database.
    raw = (workspace.data_dir / "promptyard.db").read_bytes()
    assert b"s3cr3t-token" not in raw and SECRET_URL_PATH.encode() not in raw


def test_a_hanging_webhook_never_blocks_evaluation(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    hanging = Receiver(hang=True)
    monkeypatch.setenv("ALERT_WEBHOOK_URL", hanging.url)
    write_monitors(workspace, FIRING)
    add_spans(workspace, calls(10, NOW - HOUR, status="error"))
    deliverer = deliverer_for(workspace, attempts=2, timeout_s=0.5, backoff_s=0.01)
    try:
        report = run_checks(workspace, now=NOW, deliverer=deliverer)
        assert report.fired
        assert hanging.arrived.wait(30)
        # The receiver still holds the request, and evaluation has already returned.
        assert not hanging.release.is_set()
        assert deliverer.wait(30)
    finally:
        hanging.close()
    [alert] = list_alerts(workspace)
    assert not alert.delivered and alert.delivery_error is not None
    assert "2 attempts failed" in alert.delivery_error and "s3cr3t" not in alert.delivery_error


def test_a_missing_webhook_variable_is_stored_as_the_reason(workspace: Workspace) -> None:
    delivered: list[tuple[int, bool, str | None]] = []
    deliverer = Deliverer(lambda *a: delivered.append(a))
    deliverer.send(7, "NO_SUCH_WEBHOOK_VAR", {"text": "x"})
    assert deliverer.wait(30)
    assert delivered == [(7, False, "environment variable NO_SUCH_WEBHOOK_VAR is not set")]


def test_monitor_check_json_exits_1_when_a_monitor_fires(workspace: Workspace) -> None:
    write_monitors(workspace, FIRING.replace("    webhook_env: ALERT_WEBHOOK_URL\n", ""))
    now = time.time_ns()
    add_spans(workspace, [{"start_ns": now - i * 10**9, "status": "error"} for i in range(6)])
    result = CliRunner().invoke(
        app, ["monitor", "check", "--json", "--workspace", str(workspace.root)]
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["fired"] == 1 and report["results"][0]["value"] == 1.0


def test_the_home_page_lists_a_stored_alert(workspace: Workspace) -> None:
    from streamlit.testing.v1 import AppTest

    write_monitors(workspace, FIRING.replace("    webhook_env: ALERT_WEBHOOK_URL\n", ""))
    add_spans(workspace, calls(6, NOW - HOUR, status="error"))
    run_checks(workspace, now=NOW)
    main = str(Path(__file__).resolve().parents[1] / "app" / "main.py")
    at = AppTest.from_file(main, default_timeout=90).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(s.value == "Alerts" for s in at.subheader)
    [warning] = [w for w in at.warning if "errors" in w.value]
    assert "error_rate 1 over the last 1h" in warning.value and "6 span(s)" in warning.value


def test_monitor_run_keeps_checking_on_a_schedule(workspace: Workspace) -> None:
    import os
    import subprocess
    import sys

    write_monitors(workspace, FIRING.replace("    webhook_env: ALERT_WEBHOOK_URL\n", ""))
    now = time.time_ns()
    add_spans(workspace, [{"start_ns": now - i * 10**9, "status": "error"} for i in range(6)])
    src = str(Path(__file__).resolve().parents[1] / "src")
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptyard", "monitor", "run", "--every", "1", "--workspace",
         str(workspace.root)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": src},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2)]  # two rounds, one monitor each
    finally:
        proc.terminate()
        proc.wait(30)
    assert all(line.startswith("FIRED errors:") for line in lines), lines
    assert len(list_alerts(workspace)) == 1  # one alert per window, however often it runs


def test_a_bad_commit_falls_back_to_the_newest_good_one(workspace: Workspace) -> None:
    good = one(
        "  - name: only\n    metric: error_rate\n    window: 2h\n    condition: {above: 0.5}\n"
    )
    write_monitors(workspace, good, commit=True)  # v2
    write_monitors(
        workspace, one("  - name: x\n    metric: error_rate\n    window: 0h\n"), commit=True
    )
    loaded = load_monitors(workspace)
    assert [m.name for m in loaded.monitors] == ["only"] and loaded.source == "v2"
    assert loaded.warning is not None and "using the last good v2" in loaded.warning


def test_a_bad_file_with_nothing_to_fall_back_on_exits_1_with_the_line(
    empty_workspace: Workspace,
) -> None:
    write_monitors(
        empty_workspace,
        one("  - name: a\n    metric: error_rate\n    window: 1y\n    condition: {above: 1}\n"),
    )
    result = CliRunner().invoke(app, ["monitor", "check", "--workspace", str(empty_workspace.root)])
    assert result.exit_code == 1
    assert "monitors.yaml:4: bad window '1y'" in result.output
    assert "no committed version parses" in result.output
