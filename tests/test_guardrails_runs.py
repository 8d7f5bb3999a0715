"""Guardrails where they apply: runs (`--guardrails`), the Playground, `promptyard.guard`,
online evaluation and the dashboard's rates. What reaches the model is read off the
simulator's request log or a counting server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlmodel import select
from typer.testing import CliRunner

import promptyard
from promptyard import runs
from promptyard.cli import app
from promptyard.datasets import import_dataset
from promptyard.guardrails import guardrail_rates
from promptyard.models import SimulatorHandle
from promptyard.prompts import save_prompt
from promptyard.storage import db
from promptyard.storage.tables import Cell, Run
from tests.cli import run_cli

EMAILS = ["dana.k@example.com", "m.ortiz@example.org"]
CARDS = ["4111 1111 1111 1111", "5500-0000-0000-0004"]
ROWS = [
    {"id": "r1", "message": f"Refund me at {EMAILS[0]}, card {CARDS[0]}, call +1 415-555-2671."},
    {"id": "r2", "message": f"My address is {EMAILS[1]} and my card is {CARDS[1]}."},
    {"id": "r3", "message": "No personal data here, just a question about the lamp."},
]
ECHO_PROMPT = """---
name: echo_msg
model:
  id: echo
inputs:
  - name: message
    kind: string
---
user:
{{ message }}
"""
JSON_PROMPT = """---
name: extract
model:
  id: echo
inputs:
  - name: message
    kind: string
outputs:
  - name: name
    kind: string
    required: true
  - name: total
    kind: float
    required: true
---
user:
{{ message }}
"""
POLICIES = """policies:
  json-fix:
    output:
      - check: json
        schema: prompt
        action: repair
        retries: 2
  json-retry:
    output:
      - check: json
        action: retry
        retries: 2
"""


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _cells(ws: Any, run_id: int) -> list[Cell]:
    with db.session(ws) as s:
        return list(s.exec(select(Cell).where(Cell.run_id == run_id).order_by(Cell.row_index)))


@pytest.fixture
def pii_rows(workspace: Any) -> Any:
    save_prompt("echo_msg", ECHO_PROMPT, "Add an echo prompt", workspace=workspace)
    data = "\n".join(json.dumps(r) for r in ROWS)
    import_dataset(workspace, "contacts", data, "contacts.jsonl")
    return workspace


def _sent_text(sim: SimulatorHandle) -> str:
    return json.dumps(list(sim.requests))


def test_init_ships_the_pii_policy(workspace: Any) -> None:
    policy = promptyard.guardrails.load_policy(workspace, "pii")
    assert policy.restore and policy.source == "working tree"
    [check] = policy.input
    assert check.kind == "pii" and check.action == "mask"
    assert set(check.options["kinds"]) == {"email", "phone", "card"}
    assert (workspace.root / "prompts" / "guardrail_judge.prompty").is_file()


def test_a_masking_run_sends_no_email_or_card_and_restores_them(
    pii_rows: Any, sim: SimulatorHandle
) -> None:
    result = _cli(
        "run", "-p", "echo_msg", "-m", "echo", "-d", "contacts", "--guardrails", "pii", "--json"
    )
    assert result.exit_code == 0, result.output
    run_id = json.loads(result.stdout)["run_id"]
    sent = _sent_text(sim)
    assert sim.calls == 3
    for value in [*EMAILS, *CARDS, "415-555-2671"]:
        assert value not in sent
    assert "[EMAIL_1]" in sent and "[CARD_1]" in sent
    cells = _cells(pii_rows, run_id)
    # echo answers with what it was sent: the placeholders, which the policy restores.
    assert cells[0].output == ROWS[0]["message"] and cells[1].output == ROWS[1]["message"]
    record = json.loads(cells[0].guardrail_json or "{}")
    assert record["masked"] == {"email": 1, "card": 1, "phone": 1} and record["restored"] == 3
    assert record["passed"] is True
    stored = json.dumps(record)
    assert all(v not in stored for v in [*EMAILS, *CARDS])
    with db.session(pii_rows) as s:
        assert s.get(Run, run_id).guardrail_policy == "pii"  # type: ignore[union-attr]
    from promptyard.reading import cell_trace

    assert cell_trace(pii_rows, cells[0].id).guardrail == record  # type: ignore[arg-type]


def test_without_a_policy_the_values_reach_the_model(pii_rows: Any, sim: SimulatorHandle) -> None:
    result = _cli("run", "-p", "echo_msg", "-m", "echo", "-d", "contacts", "--json")
    assert result.exit_code == 0, result.output
    assert EMAILS[0] in _sent_text(sim)  # the test above would fail on the old code


def test_a_guarded_run_is_not_served_an_unguarded_cached_answer(
    pii_rows: Any, sim: SimulatorHandle
) -> None:
    assert _cli("run", "-p", "echo_msg", "-m", "echo", "-d", "contacts").exit_code == 0
    sim.requests.clear()
    out = json.loads(
        _cli("run", "-p", "echo_msg", "-m", "echo", "-d", "contacts", "--guardrails", "pii",
             "--json").stdout
    )  # fmt: skip
    assert out["cached"] == 0 and len(sim.requests) == 3
    again = json.loads(
        _cli("run", "-p", "echo_msg", "-m", "echo", "-d", "contacts", "--guardrails", "pii",
             "--json").stdout
    )  # fmt: skip
    assert again["cached"] == 3  # the same policy: served from the cache
    text = (pii_rows.root / "guardrails.yaml").read_text()
    (pii_rows.root / "guardrails.yaml").write_text(text.replace("[email, phone, card]", "[email]"))
    changed = json.loads(
        _cli("run", "-p", "echo_msg", "-m", "echo", "-d", "contacts", "--guardrails", "pii",
             "--json").stdout
    )  # fmt: skip
    assert changed["cached"] == 0  # the policy changed: its answers are made again


def test_an_unknown_policy_is_refused_before_the_run(pii_rows: Any, sim: SimulatorHandle) -> None:
    result = run_cli(
        "run", "-p", "echo_msg", "-m", "echo", "-d", "contacts", "--guardrails", "nope"
    )
    assert result.returncode == 1
    assert "no guardrail policy 'nope'" in result.stderr and "pii" in result.stderr
    assert sim.calls == 0 and runs.list_runs(pii_rows) == []


def test_invalid_json_from_the_model_is_repaired_and_recorded(
    workspace: Any, sim: SimulatorHandle
) -> None:
    (workspace.root / "guardrails.yaml").write_text(POLICIES)
    save_prompt("extract", JSON_PROMPT, "Add extract", workspace=workspace)
    rows = [{"id": "a", "message": "{'name': 'Northwind', 'total': 12.5,}"}]
    import_dataset(workspace, "broken", "\n".join(json.dumps(r) for r in rows), "broken.jsonl")
    out = json.loads(
        _cli("run", "-p", "extract", "-m", "echo", "-d", "broken", "--guardrails", "json-fix",
             "--json").stdout
    )  # fmt: skip
    [cell] = _cells(workspace, out["run_id"])
    assert cell.status == "ok" and json.loads(cell.output or "") == {
        "name": "Northwind",
        "total": 12.5,
    }
    record = json.loads(cell.guardrail_json or "{}")
    assert record["repaired"] == ["json"] and record["retries"] == 0 and not record["passed"]
    assert sim.calls == 1


def test_json_the_schema_rejects_is_retried_then_blocked(
    workspace: Any, sim: SimulatorHandle
) -> None:
    (workspace.root / "guardrails.yaml").write_text(POLICIES)
    save_prompt("extract", JSON_PROMPT, "Add extract", workspace=workspace)
    rows = [{"id": "a", "message": '{"name": "Northwind", "total": "a lot"}'}]
    import_dataset(workspace, "wrong", "\n".join(json.dumps(r) for r in rows), "wrong.jsonl")
    out = json.loads(
        _cli("run", "-p", "extract", "-m", "echo", "-d", "wrong", "--guardrails", "json-fix",
             "--json").stdout
    )  # fmt: skip
    [cell] = _cells(workspace, out["run_id"])
    record = json.loads(cell.guardrail_json or "{}")
    # echo repeats everything it is sent, so no retry gives valid JSON: 1 call + 2 retries.
    assert sim.calls == 3 and record["retries"] == 2
    assert record["blocked"]["check"] == "json" and "after 2 retries" in (cell.error_message or "")
    assert cell.status == "error" and cell.error_kind == "guardrail"
    retry = list(sim.requests)[1]["messages"]
    assert retry[-1]["role"] == "user"
    assert "does not match the schema at total" in retry[-1]["content"]


class _Flaky(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that answers prose first, then JSON; it keeps bodies."""

    bodies: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append(body)
        text = "Sorry, here it is" if len(type(self).bodies) == 1 else '{"name": "x", "total": 1}'
        payload = json.dumps(
            {
                "id": "c1", "object": "chat.completion", "created": 0, "model": "flaky",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
            }
        ).encode()  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def flaky() -> Iterator[str]:
    _Flaky.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_retry_with_the_error_fed_back_fixes_the_answer(workspace: Any, flaky: str) -> None:
    (workspace.root / "guardrails.yaml").write_text(POLICIES)
    (workspace.root / "models.yaml").write_text(
        f"models:\n  flaky:\n    model: openai/flaky\n    api_base: {flaky}\n"
    )
    save_prompt("echo_msg", ECHO_PROMPT, "Add an echo prompt", workspace=workspace)
    import_dataset(workspace, "one", '{"id": "a", "message": "Give me JSON"}', "one.jsonl")
    out = json.loads(
        _cli("run", "-p", "echo_msg", "-m", "flaky", "-d", "one", "--guardrails", "json-retry",
             "--json").stdout
    )  # fmt: skip
    [cell] = _cells(workspace, out["run_id"])
    assert cell.status == "ok" and json.loads(cell.output or "") == {"name": "x", "total": 1}
    record = json.loads(cell.guardrail_json or "{}")
    assert record["retries"] == 1 and record["blocked"] is None
    assert len(_Flaky.bodies) == 2
    second = _Flaky.bodies[1]["messages"]
    assert second[-2] == {"role": "assistant", "content": "Sorry, here it is"}
    assert "not valid JSON" in second[-1]["content"]
    assert cell.prompt_tokens == 10  # both calls counted


def test_guard_for_applications_masks_before_the_app_calls_its_model(workspace: Any) -> None:
    seen: list[list[dict[str, Any]]] = []

    def my_model(messages: list[dict[str, Any]]) -> str:
        seen.append(messages)
        return "I will write to " + messages[0]["content"].split()[-1]

    g = promptyard.guard("pii", workspace=workspace)
    result = g.call(f"Contact {EMAILS[0]}", my_model)
    assert EMAILS[0] not in json.dumps(seen)
    assert result.text == f"I will write to {EMAILS[0]}" and not result.blocked
    safe = g.input([{"role": "user", "content": f"card {CARDS[0]}"}])
    assert CARDS[0] not in json.dumps(safe.messages)
    assert g.output("charged [CARD_1]", safe).text == f"charged {CARDS[0]}"


def test_playground_applies_a_policy(pii_rows: Any, sim: SimulatorHandle) -> None:
    columns = [runs.PlaygroundColumn("echo_msg", "echo"), runs.PlaygroundColumn("echo_msg", "echo")]
    session = runs.start_playground(
        pii_rows, columns, {"message": ROWS[0]["message"]}, guardrails="pii"
    )
    snap = runs.wait_playground(session)
    assert snap.finished and all(c.text == ROWS[0]["message"] for c in snap.columns)
    assert all(
        c.guardrail and "masked 1 card, 1 email, 1 phone" in c.guardrail for c in snap.columns
    )
    assert EMAILS[0] not in _sent_text(sim)


def test_dashboard_rates_per_version_and_model(workspace: Any, sim: SimulatorHandle) -> None:
    (workspace.root / "guardrails.yaml").write_text(POLICIES)
    save_prompt("extract", JSON_PROMPT, "Add extract", workspace=workspace)
    rows = [
        {"id": "ok", "message": '{"name": "a", "total": 1}'},
        {"id": "fix", "message": "{'name': 'b', 'total': 2,}"},
        {"id": "bad", "message": "not json at all"},
    ]
    import_dataset(workspace, "mix", "\n".join(json.dumps(r) for r in rows), "mix.jsonl")
    _cli("run", "-p", "extract", "-m", "echo", "-d", "mix", "--guardrails", "json-fix")
    [rates] = guardrail_rates(workspace)
    assert (rates.prompt_name, rates.model, rates.policy, rates.cells) == (
        "extract",
        "echo",
        "json-fix",
        3,
    )
    assert rates.pass_rate == pytest.approx(1 / 3) and rates.repair_rate == pytest.approx(1 / 3)
    assert rates.block_rate == pytest.approx(1 / 3)


ONLINE_SUITE = """\
prompts: [summarize]
online:
  sample: 1.0
assert:
  - type: guardrail
    value: leaks
    name: no-leaks
"""
LEAKS = """policies:
  leaks:
    input:
      - check: pii
        action: mask
    output:
      - check: pii
        kinds: [email, card]
        action: block
"""


def test_online_evaluation_grades_traces_with_a_policy(workspace: Any) -> None:
    from promptyard.evals.online import score_pending_now
    from promptyard.traces import span_scores, start_collector
    from tests.test_online_eval import llm_span, rows, send

    (workspace.root / "guardrails.yaml").write_text(LEAKS)
    (workspace.evals_dir / "live.yaml").write_text(ONLINE_SUITE)
    collector = start_collector(workspace)
    try:
        send(collector, [llm_span(0, f"Mail {EMAILS[0]}", {}), llm_span(1, "All good.", {})])
    finally:
        collector.stop()
    report = score_pending_now(workspace)
    assert report.scores == 2, report.line()
    ids = {r["span_id"]: r["id"] for r in rows(workspace, "SELECT id, span_id FROM span")}
    scores = span_scores(workspace, ids.values())
    [leaked] = scores[ids[f"{1:016x}"]]
    [clean] = scores[ids[f"{2:016x}"]]
    assert (leaked.evaluator, leaked.passed, clean.passed) == ("no-leaks", False, True)
    assert leaked.reason == "leaks: flagged pii (1 email)"  # kinds and counts, not the address


def test_the_dashboard_shows_guardrail_rates(pii_rows: Any, sim: SimulatorHandle) -> None:
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    page = str(Path(__file__).resolve().parent.parent / "app" / "views" / "dashboard.py")
    before = AppTest.from_file(page, default_timeout=60)
    before.run()
    assert not before.exception and "Guardrails" not in [s.value for s in before.subheader]
    _cli("run", "-p", "echo_msg", "-m", "echo", "-d", "contacts", "--guardrails", "pii")
    at = AppTest.from_file(page, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert "Guardrails" in [s.value for s in at.subheader]
    [table] = [d.value for d in at.dataframe if "policy" in d.value.columns]
    row = table.iloc[0]
    assert (row["prompt"], row["model"], row["policy"], row["calls"]) == (
        "echo_msg",
        "echo",
        "pii",
        3,
    )
    assert row["passed"] == "100%" and row["masked"] == "2 card, 2 email, 1 phone"


JUDGED = """policies:
  on-topic:
    output:
      - check: judge
        model: sim-smart
        rubric: The answer is about lamps.
        action: flag
"""


def test_a_judge_check_calls_the_rubric_prompt_and_records_its_verdict(
    workspace: Any, sim: SimulatorHandle
) -> None:
    (workspace.root / "guardrails.yaml").write_text(JUDGED)
    g = promptyard.guard("on-topic", workspace=workspace)
    result = g.call("Tell me about lamps", lambda messages: "Lamps give light.")
    assert sim.calls == 1  # the judge's call; the application's own answer came from the lambda
    [request] = list(sim.requests)
    judged = json.dumps(request["messages"])
    assert "The answer is about lamps." in judged and "Lamps give light." in judged
    assert result.record["judge_cost_usd"] > 0
    # The same request again gives the same (temperature 0) verdict: the record must agree.
    import httpx

    body = {k: v for k, v in request.items() if k != "repeat"}
    answer = httpx.post(f"{sim.url}/chat/completions", json=body, timeout=10).json()
    passed, _ = promptyard.guardrails.parse_verdict(answer["choices"][0]["message"]["content"])
    assert passed is not None
    assert (result.record["flagged"] == []) is passed
    if not passed:
        assert result.record["flagged"][0]["check"] == "judge"
    assert result.text == "Lamps give light."


def test_a_broken_policy_file_leaves_runs_on_the_last_good_commit(
    pii_rows: Any, sim: SimulatorHandle
) -> None:
    (pii_rows.root / "guardrails.yaml").write_text(
        "policies:\n  pii:\n    input:\n      - check: pii\n        action: shred\n"
    )
    result = run_cli("run", "-p", "echo_msg", "-m", "echo", "-d", "contacts", "--guardrails", "pii")
    assert result.returncode == 0, result.stderr
    assert "guardrails.yaml:5: unknown action 'shred'" in result.stderr
    assert "using the last good v1" in result.stderr
    assert EMAILS[0] not in _sent_text(sim) and CARDS[0] not in _sent_text(sim)
    [run] = runs.list_runs(pii_rows)
    record = json.loads(_cells(pii_rows, run.run_id)[0].guardrail_json or "{}")
    assert record["source"] == "v1" and "last good v1" in record["warning"]
