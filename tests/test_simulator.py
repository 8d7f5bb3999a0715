"""The simulator over real HTTP on 127.0.0.1: answers, streaming, counts, faults, CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from promptyard.models import (
    SIMULATED_MODELS,
    SIMULATOR_URL_ENV,
    SimulatorHandle,
    ensure_simulator,
    start_simulator,
)

ROOT = Path(__file__).resolve().parent.parent
TICKET = (
    "My order 1234 arrived with a cracked screen. I want a replacement, not a refund. "
    "The courier left the parcel in the rain. I need it before Friday for a birthday."
)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorHandle]:
    with start_simulator() as handle:
        yield handle


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> None:
    if "sim" in request.fixturenames:
        handle = request.getfixturevalue("sim")
        handle.faults.clear()
        handle.reset_counts()


def chat(sim: SimulatorHandle, **body: object) -> httpx.Response:
    body.setdefault("model", "sim-fast")
    return httpx.post(f"{sim.url}/chat/completions", json=body, timeout=10)


def answer(sim: SimulatorHandle, content: str, **body: object) -> str:
    r = chat(sim, messages=[{"role": "user", "content": content}], **body)
    assert r.status_code == 200, r.text
    return str(r.json()["choices"][0]["message"]["content"])


def test_models_endpoint_lists_the_simulated_models(sim: SimulatorHandle) -> None:
    data = httpx.get(f"{sim.url}/models").json()["data"]
    assert [m["id"] for m in data] == list(SIMULATED_MODELS)
    assert all("simulated" in m["description"] for m in data)


def test_answers_are_deterministic_and_vary_with_repeat_and_temperature(
    sim: SimulatorHandle,
) -> None:
    prompt = f"Summarize this ticket: {TICKET}"
    first = answer(sim, prompt, temperature=0.9, user="promptyard-repeat-0")
    assert first == answer(sim, prompt, temperature=0.9, user="promptyard-repeat-0")
    repeats = {
        answer(sim, prompt, temperature=0.9, user=f"promptyard-repeat-{i}") for i in range(8)
    }
    assert len(repeats) > 1
    # temperature 0: the repeat index no longer changes the answer
    cold = {answer(sim, prompt, temperature=0, user=f"promptyard-repeat-{i}") for i in range(4)}
    assert len(cold) == 1


def test_a_summary_is_made_of_the_input(sim: SimulatorHandle) -> None:
    text = answer(sim, f"Summarize in one sentence: {TICKET}", temperature=0)
    input_words = {w.strip(".,:").lower() for w in TICKET.split()}
    words = [w.strip(".,:").lower() for w in text.split()]
    assert sum(w in input_words for w in words) >= len(words) * 0.7


def test_a_json_prompt_gets_json_with_the_requested_keys(sim: SimulatorHandle) -> None:
    text = answer(
        sim, f'Reply in JSON with keys "sentiment", "urgency_score", "tags". Ticket: {TICKET}'
    )
    data = json.loads(text)
    assert set(data) == {"sentiment", "urgency_score", "tags"}
    assert data["sentiment"] in {"positive", "negative", "neutral"}
    assert isinstance(data["urgency_score"], int | float)
    assert isinstance(data["tags"], list)


def test_sim_json_always_answers_json_and_honours_a_schema(sim: SimulatorHandle) -> None:
    assert isinstance(json.loads(answer(sim, "Hello there, how are you?", model="sim-json")), dict)
    schema = {
        "type": "json_schema",
        "json_schema": {
            "name": "x",
            "schema": {
                "type": "object",
                "properties": {"title": {"type": "string"}, "ok": {"type": "boolean"}},
            },
        },
    }
    data = json.loads(answer(sim, TICKET, response_format=schema))
    assert set(data) == {"title", "ok"} and isinstance(data["ok"], bool)


def test_a_classify_prompt_gets_one_of_its_labels(sim: SimulatorHandle) -> None:
    text = answer(
        sim, f"Classify the ticket as one of: billing, shipping, damage. Ticket: {TICKET}"
    )
    assert text in {"billing", "shipping", "damage"}


def test_usage_and_max_tokens(sim: SimulatorHandle) -> None:
    r = chat(sim, messages=[{"role": "user", "content": f"Explain: {TICKET}"}], model="sim-smart")
    usage = r.json()["usage"]
    assert usage["prompt_tokens"] > 20 and usage["completion_tokens"] > 5
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    cut = chat(
        sim,
        messages=[{"role": "user", "content": f"Explain: {TICKET}"}],
        model="sim-smart",
        max_tokens=3,
    )
    body = cut.json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 3


def test_streaming_sends_chunks_usage_and_done(sim: SimulatorHandle) -> None:
    body = {
        "model": "sim-fast",
        "messages": [{"role": "user", "content": f"Summarize: {TICKET}"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    lines = [
        line
        for line in httpx.post(
            f"{sim.url}/chat/completions", json=body, timeout=10
        ).text.splitlines()
        if line.startswith("data: ")
    ]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == answer(sim, f"Summarize: {TICKET}")
    assert any(c["choices"] and c["choices"][0]["finish_reason"] == "stop" for c in chunks)
    assert chunks[-1]["usage"]["completion_tokens"] > 0


def test_calls_are_counted_per_request(sim: SimulatorHandle) -> None:
    for i in range(3):
        answer(sim, "Hi", user=f"promptyard-repeat-{i}")
    answer(sim, "Hi", user="promptyard-repeat-0")
    assert sim.calls == 4
    assert sorted(sim.calls_by_key.values()) == [1, 1, 2]
    assert sum(sim.completed_by_key.values()) == 4
    sim.faults.server_error = 500
    chat(sim, messages=[{"role": "user", "content": "Hi"}])
    assert sim.calls == 5 and sum(sim.completed_by_key.values()) == 4


def test_rate_limit_fault_sends_retry_after(sim: SimulatorHandle) -> None:
    sim.faults.rate_limit = True
    sim.faults.retry_after_s = 3
    r = chat(sim, messages=[{"role": "user", "content": "Hi"}])
    assert r.status_code == 429 and r.headers["Retry-After"] == "3"
    sim.faults.rate_limit = False
    assert chat(sim, messages=[{"role": "user", "content": "Hi"}]).status_code == 200


def test_fail_first_then_recover(sim: SimulatorHandle) -> None:
    sim.faults.fail_first = 2
    codes = [chat(sim, messages=[{"role": "user", "content": "Hi"}]).status_code for _ in range(3)]
    assert codes == [500, 500, 200]


def test_server_errors_and_malformed_json(sim: SimulatorHandle) -> None:
    sim.faults.server_error = 503
    assert chat(sim, messages=[{"role": "user", "content": "Hi"}]).status_code == 503
    sim.faults.clear()
    sim.faults.malformed_json = True
    r = chat(sim, messages=[{"role": "user", "content": "Hi"}])
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()


def test_unknown_model_is_404(sim: SimulatorHandle) -> None:
    r = chat(sim, model="gpt-nope", messages=[{"role": "user", "content": "Hi"}])
    assert r.status_code == 404 and "sim-fast" in r.json()["error"]["message"]


def test_latency_and_slow_first_byte() -> None:
    with start_simulator(latency_ms=150) as slow:
        started = time.perf_counter()
        chat(slow, messages=[{"role": "user", "content": "Hi"}])
        assert time.perf_counter() - started >= 0.15
        slow.faults.slow_first_byte_ms = 300
        started = time.perf_counter()
        chat(slow, messages=[{"role": "user", "content": "Hi"}])
        assert time.perf_counter() - started >= 0.45


def test_rps_limit_answers_429() -> None:
    with start_simulator(rps=3) as limited:
        codes = [
            chat(limited, messages=[{"role": "user", "content": "Hi"}]).status_code
            for _ in range(6)
        ]
        assert codes[:3] == [200, 200, 200] and 429 in codes[3:]


def test_a_hung_request_does_not_block_stop() -> None:
    handle = start_simulator()
    handle.faults.hang = True
    # An unhung simulator answers in milliseconds: 1.5 s without an answer is a hang.
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{handle.url}/chat/completions",
            json={"model": "sim-fast", "messages": [{"role": "user", "content": "Hi"}]},
            timeout=1.5,
        ).raise_for_status()
    started = time.perf_counter()
    handle.stop()
    assert time.perf_counter() - started < 5
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{handle.url}/models", timeout=2)


def test_ensure_simulator_starts_one_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SIMULATOR_URL_ENV, raising=False)
    url = ensure_simulator()
    assert url == ensure_simulator()
    assert httpx.get(f"{url}/models").status_code == 200
    monkeypatch.setenv(SIMULATOR_URL_ENV, "http://127.0.0.1:9999/v1/")
    assert ensure_simulator() == "http://127.0.0.1:9999/v1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_simulate_serves_until_stopped() -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptyard", "simulate", "--port", str(port), "--latency-ms", "0"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.2)
        else:
            pytest.fail("promptyard simulate did not start")
        assert r.json()["data"][0]["id"] == "sim-fast"
    finally:
        proc.terminate()
        proc.wait(10)


def test_cli_simulate_rejects_a_bad_error_rate() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-m", "promptyard", "simulate", "--error-rate", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert "--error-rate" in out.stderr


def test_cli_simulate_with_an_api_key_refuses_other_keys() -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PROMPTYARD_SIMULATOR_KEY": "sk-cli-42"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptyard", "simulate", "--port", str(port), "--latency-ms", "0"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/v1/models"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                r = httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.2)
        else:
            pytest.fail("promptyard simulate did not start")
        assert r.status_code == 401 and r.json()["error"]["type"] == "invalid_request_error"
        wrong = httpx.get(url, headers={"Authorization": "Bearer sk-other"}, timeout=5)
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
        right = httpx.get(url, headers={"Authorization": "Bearer sk-cli-42"}, timeout=5)
        assert right.status_code == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "sk-cli-42" not in err
