"""providers.complete over real HTTP against the simulator: every error kind, streaming, tokens, cost, secrets."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from promptyard.models import (
    SIMULATED_MODELS,
    Completion,
    ModelCall,
    ModelEndpoint,
    ProviderKind,
    SimulatorHandle,
    complete,
    estimate_cost,
    provider_kind,
    scrub,
    simulated_endpoint,
    start_simulator,
)
from promptyard.prompts.tokens import count_tokens

FAKE_KEY = "sk-test-SECRET-0123456789abcdef"
MESSAGES = [
    {"role": "system", "content": "Summarize the ticket in one sentence."},
    {
        "role": "user",
        "content": "The parcel arrived late and the box was crushed. The customer wants a refund.",
    },
]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorHandle]:
    with start_simulator(latency_ms=20) as handle:
        yield handle


@pytest.fixture(autouse=True)
def _clean(sim: SimulatorHandle) -> None:
    sim.faults.clear()
    sim.reset_counts()


def endpoint(sim: SimulatorHandle, name: str = "sim-fast", **changes: Any) -> ModelEndpoint:
    return dataclasses.replace(simulated_endpoint(name), api_base=sim.url, **changes)


def run(
    sim: SimulatorHandle, stream: bool = False, timeout_s: float = 10, **changes: Any
) -> Completion:
    call = ModelCall(
        endpoint(sim, **changes), MESSAGES, {"temperature": 0.5}, stream=stream, timeout_s=timeout_s
    )
    return asyncio.run(complete(call))


def test_a_call_returns_text_tokens_cost_and_latency(sim: SimulatorHandle) -> None:
    c = run(sim)
    assert c.ok and not c.retryable
    assert c.text and c.finish_reason == "stop"
    assert c.prompt_tokens == count_tokens(MESSAGES, "gpt-4o-mini")
    assert c.completion_tokens == count_tokens(c.text, "gpt-4o-mini")
    assert not c.tokens_estimated
    spec = SIMULATED_MODELS["sim-fast"]
    assert c.cost_usd == pytest.approx(
        c.prompt_tokens * spec.input_cost_per_token
        + c.completion_tokens * spec.output_cost_per_token
    )
    assert c.latency_ms >= 20 and c.ttft_ms is None
    assert c.raw and c.raw["choices"][0]["message"]["content"] == c.text
    assert sim.calls == 1


def test_repeat_index_is_sent_and_changes_the_answer(sim: SimulatorHandle) -> None:
    ep = endpoint(sim)
    texts = {
        asyncio.run(complete(ModelCall(ep, MESSAGES, {"temperature": 1.0}, repeat=i))).text
        for i in range(6)
    }
    assert len(texts) > 1
    assert [r["repeat"] for r in sim.requests] == [str(i) for i in range(6)]
    assert len(sim.calls_by_key) == 6  # six distinct requests at the server


def test_streaming_gives_deltas_and_time_to_first_token(sim: SimulatorHandle) -> None:
    sim.faults.slow_first_byte_ms = 300
    pieces: list[str] = []
    call = ModelCall(endpoint(sim), MESSAGES, {"temperature": 0.5}, stream=True)
    c = asyncio.run(complete(call, on_delta=pieces.append))
    assert c.ok, c.error_message
    assert len(pieces) > 1 and "".join(pieces) == c.text
    assert c.ttft_ms is not None and 300 <= c.ttft_ms <= c.latency_ms
    assert c.prompt_tokens and c.completion_tokens and c.cost_usd
    assert c.text == run(sim).text  # same answer streamed or not


@pytest.mark.parametrize("stream", [False, True])
def test_rate_limit_carries_retry_after(sim: SimulatorHandle, stream: bool) -> None:
    sim.faults.rate_limit = True
    sim.faults.retry_after_s = 2.5
    c = run(sim, stream=stream)
    assert c.error_kind == "rate_limit" and c.retryable
    assert c.retry_after_s == pytest.approx(2.5)
    assert c.text is None and c.cost_usd is None


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors(sim: SimulatorHandle, status: int) -> None:
    sim.faults.server_error = status
    c = run(sim)
    assert c.error_kind == "server" and c.retryable and str(status) in (c.error_message or "")


@pytest.mark.parametrize("stream", [False, True])
def test_a_hung_server_times_out(sim: SimulatorHandle, stream: bool) -> None:
    sim.faults.hang = True
    c = run(sim, stream=stream, timeout_s=0.5)
    assert c.error_kind == "timeout" and c.retryable
    assert c.latency_ms < 5000


@pytest.mark.parametrize("stream", [False, True])
def test_malformed_json_is_an_invalid_response(sim: SimulatorHandle, stream: bool) -> None:
    sim.faults.malformed_json = True
    c = run(sim, stream=stream)
    assert c.error_kind == "invalid_response" and c.retryable


def test_a_truncated_stream_is_an_invalid_response_keeping_the_partial_text(
    sim: SimulatorHandle,
) -> None:
    sim.faults.truncated_stream = True
    c = run(sim, stream=True)
    assert c.error_kind == "invalid_response"
    full = run(sim).text or ""
    assert c.text and full.startswith(c.text) and c.text != full


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("auth", "auth"),
        ("bad_request", "bad_request"),
        ("context_window", "context_window"),
        ("content_filter", "content_filter"),
    ],
)
def test_client_errors_are_not_retryable(sim: SimulatorHandle, fault: str, kind: str) -> None:
    setattr(sim.faults, fault, True)
    c = run(sim)
    assert c.error_kind == kind and not c.retryable


def test_a_too_long_prompt_is_a_context_window_error(sim: SimulatorHandle) -> None:
    long = [{"role": "user", "content": "word " * 20_000}]
    c = asyncio.run(complete(ModelCall(endpoint(sim), long, {})))
    assert c.error_kind == "context_window"


def test_an_unknown_model_is_a_bad_request(sim: SimulatorHandle) -> None:
    c = run(sim, litellm_model="openai/no-such-model")
    assert c.error_kind == "bad_request"


def test_nothing_listening_is_a_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ep = dataclasses.replace(simulated_endpoint("sim-fast"), api_base=f"http://127.0.0.1:{port}/v1")
    c = asyncio.run(complete(ModelCall(ep, MESSAGES, {}, timeout_s=5)))
    assert c.error_kind == "connection" and c.retryable


def test_fail_first_then_succeed(sim: SimulatorHandle) -> None:
    sim.faults.fail_first = 1
    assert run(sim).error_kind == "server"
    assert run(sim).ok


def test_the_key_is_sent_but_never_appears_in_an_error(
    sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTYARD_TEST_KEY", FAKE_KEY)
    assert run(sim, api_key_env="PROMPTYARD_TEST_KEY").ok
    assert sim.last_authorization == f"Bearer {FAKE_KEY}"
    sim.faults.echo_auth_in_error = True
    for stream in (False, True):
        c = run(sim, stream=stream, api_key_env="PROMPTYARD_TEST_KEY")
        assert c.error_kind == "auth"
        assert "Incorrect API key" in (c.error_message or "")
        assert FAKE_KEY not in repr(c) and "SECRET" not in repr(c.to_dict())


def test_tokens_are_counted_when_the_server_gives_none(sim: SimulatorHandle) -> None:
    sim.faults.no_usage = True
    for stream in (False, True):
        c = run(sim, stream=stream)
        assert c.ok
        # litellm or our tiktoken fallback counts them; either way they match the text
        assert c.prompt_tokens == pytest.approx(count_tokens(MESSAGES, "openai/sim-fast"), abs=4)
        assert c.completion_tokens == pytest.approx(
            count_tokens(c.text or "", "openai/sim-fast"), abs=2
        )
        assert c.cost_usd is not None and c.cost_usd > 0


def test_an_unknown_price_is_none_not_zero(sim: SimulatorHandle) -> None:
    local = ModelEndpoint(
        name="my-local",
        litellm_model="openai/sim-fast",
        api_base=sim.url,
        source="models.yaml",
        provider="openai",
    )
    c = asyncio.run(complete(ModelCall(local, MESSAGES, {})))
    assert c.ok and c.prompt_tokens and c.cost_usd is None
    assert estimate_cost(local, 100, 100) is None


def test_prices_come_from_overrides_then_litellm() -> None:
    gpt = ModelEndpoint(
        name="openai/gpt-4o-mini", litellm_model="openai/gpt-4o-mini", provider="openai"
    )
    cost = estimate_cost(gpt, 1_000_000, 0)
    assert cost is not None and 0 < cost < 10
    cheap = dataclasses.replace(gpt, input_cost_per_token=1e-9, output_cost_per_token=2e-9)
    assert estimate_cost(cheap, 1000, 1000) == pytest.approx(3e-6)
    unknown = ModelEndpoint(
        name="x/y", litellm_model="openai/not-a-real-model-xyz", provider="openai"
    )
    assert estimate_cost(unknown, 10, 10) is None
    assert estimate_cost(gpt, None, 10) is None


def test_count_tokens_offline() -> None:
    assert count_tokens("hello world", "gpt-4o-mini") == 2
    assert count_tokens("hello world", "some-unknown/model") == 2  # cl100k_base fallback
    assert count_tokens([{"role": "user", "content": "hello world"}], "gpt-4o-mini") > 2


def test_scrub_removes_keys_tokens_and_sk_patterns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "plainsecretvalue42")
    text = (
        "failed with key plainsecretvalue42, header Authorization: Bearer abc.def-123456789 "
        "and sk-proj-AbCdEf0123456789 and api_key=zzzzzzzzzzzz9"
    )
    out = scrub(text, ["unused-secret"])
    for secret in (
        "plainsecretvalue42",
        "abc.def-123456789",
        "sk-proj-AbCdEf0123456789",
        "zzzzzzzzzzzz9",
    ):
        assert secret not in out
    assert out.startswith("failed with key ***")


def test_completion_round_trips_through_a_dict(sim: SimulatorHandle) -> None:
    c = run(sim)
    assert Completion.from_dict(c.to_dict()) == c


def test_importing_the_model_layer_does_not_import_litellm() -> None:
    import subprocess
    import sys
    from pathlib import Path

    src = Path(__file__).resolve().parent.parent / "src"
    code = (
        "import sys; import promptyard.models.providers, promptyard.models.catalog, promptyard.models.simulator; "
        "print('litellm' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip() == "False", out.stderr


def test_a_json_schema_response_format_reaches_the_model(sim: SimulatorHandle) -> None:
    import json

    schema = {
        "type": "json_schema",
        "json_schema": {
            "name": "ticket",
            "schema": {
                "type": "object",
                "properties": {"category": {"type": "string"}, "urgent": {"type": "boolean"}},
            },
        },
    }
    call = ModelCall(endpoint(sim), MESSAGES, {"response_format": schema, "temperature": 0})
    c = asyncio.run(complete(call))
    assert c.ok, c.error_message
    assert set(json.loads(c.text or "")) == {"category", "urgent"}


def test_a_filtered_answer_is_a_content_filter_error(sim: SimulatorHandle) -> None:
    sim.faults.filtered_output = True
    c = run(sim)
    assert c.finish_reason == "content_filter"
    assert c.error_kind == "content_filter" and not c.retryable
    assert c.prompt_tokens and c.cost_usd is not None  # the call was billed


# --- routing: the openai SDK for OpenAI-compatible endpoints, litellm for the rest ---------


def via_litellm(sim: SimulatorHandle, name: str = "sim-fast") -> ModelEndpoint:
    """The simulator as a models.yaml endpoint with `provider: litellm`."""
    return ModelEndpoint(
        name=f"{name}-via-litellm",
        litellm_model=f"openai/{name}",
        api_base=sim.url,
        source="models.yaml",
        provider="openai",
        input_cost_per_token=SIMULATED_MODELS[name].input_cost_per_token,
        output_cost_per_token=SIMULATED_MODELS[name].output_cost_per_token,
        provider_kind="litellm",
    )


def test_the_routing_rule_picks_a_provider_per_endpoint(sim: SimulatorHandle) -> None:
    def kind(model: str, api_base: str | None = None, forced: str | None = None) -> str:
        return provider_kind(ModelEndpoint(model, model, api_base=api_base, provider_kind=forced))

    assert provider_kind(endpoint(sim)) == ProviderKind.OPENAI_COMPATIBLE  # the simulator
    assert provider_kind(simulated_endpoint("sim-json")) == "openai_compatible"
    for model in (
        "openai/my-model",
        "hosted_vllm/Qwen/Qwen2.5-7B",
        "lm_studio/q",
        "litellm_proxy/x",
    ):
        assert kind(model, "http://127.0.0.1:8000/v1") == "openai_compatible", model
    assert kind("openai/gpt-4o-mini") == "litellm"  # no api_base: OpenAI itself, via litellm
    assert kind("anthropic/claude-3-5-haiku-latest") == "litellm"
    assert kind("ollama_chat/llama3.2", "http://127.0.0.1:11434") == "litellm"  # native API
    assert kind("openai/my-model", "http://127.0.0.1:8000/v1", forced="litellm") == "litellm"
    assert provider_kind(via_litellm(sim)) == ProviderKind.LITELLM


def test_a_call_through_litellm_reaches_its_success_callback(sim: SimulatorHandle) -> None:
    """litellm's process-wide callbacks see the calls that go through it, untouched."""
    import time

    import litellm
    from litellm.integrations.custom_logger import CustomLogger

    seen: list[tuple[str, Any]] = []

    class Recorder(CustomLogger):  # type: ignore[misc]
        async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):  # type: ignore[no-untyped-def]
            seen.append(("async", kwargs.get("model")))

    async def on_success(kwargs: Any, response: Any, start_time: Any, end_time: Any) -> None:
        seen.append(("function", kwargs.get("model")))

    recorder = Recorder()
    saved = (list(litellm.callbacks), list(litellm.success_callback))
    litellm.callbacks.append(recorder)
    litellm.success_callback.append(on_success)
    try:

        async def call_and_wait() -> Completion:
            c = await complete(ModelCall(via_litellm(sim), MESSAGES, {"temperature": 0.5}))
            # litellm runs success callbacks after it returns the response: keep the loop up
            for _ in range(200):
                if len({how for how, _ in seen}) == 2:
                    break
                await asyncio.sleep(0.05)
            return c

        c = asyncio.run(call_and_wait())
        assert c.ok, c.error_message
        assert c.text == run(sim).text  # the same simulator answer by either provider
        assert {how for how, _ in seen} == {"async", "function"}, seen
        assert {model for _, model in seen} == {"sim-fast"}
        seen.clear()
        assert run(sim).ok  # the simulator's own route is the openai SDK: litellm sees nothing
        time.sleep(0.3)
        assert seen == []
    finally:
        litellm.callbacks[:] = saved[0]
        litellm.success_callback[:] = saved[1]
        # litellm files coroutine callbacks under its own lists on first use: take ours out
        for name in ("_async_success_callback", "_async_failure_callback"):
            hooks = getattr(litellm, name, None)
            if isinstance(hooks, list):
                hooks[:] = [h for h in hooks if h is not recorder and h is not on_success]


def test_the_openai_sdk_path_does_not_import_litellm(sim: SimulatorHandle) -> None:
    import subprocess
    import sys
    from pathlib import Path

    src = Path(__file__).resolve().parent.parent / "src"
    code = (
        "import asyncio, sys, dataclasses\n"
        "from promptyard.models import ModelCall, complete, simulated_endpoint\n"
        f"ep = dataclasses.replace(simulated_endpoint('sim-fast'), api_base={sim.url!r})\n"
        "c = asyncio.run(complete(ModelCall(ep, [{'role': 'user', 'content': 'Hi'}], {})))\n"
        "print(c.ok, 'litellm' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip() == "True False", out.stderr


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    "fault",
    [
        None,
        "rate_limit",
        "server_error",
        "malformed_json",
        "auth",
        "bad_request",
        "context_window",
        "content_filter",
        "no_usage",
        "filtered_output",
        "truncated_stream",
    ],
)
def test_the_openai_sdk_and_litellm_give_the_same_completion(
    sim: SimulatorHandle, fault: str | None, stream: bool
) -> None:
    """The two built-in providers read every answer and every failure alike."""
    seen = {}
    for name, ep in (("sdk", endpoint(sim)), ("litellm", via_litellm(sim))):
        sim.faults.clear()
        if fault == "server_error":
            sim.faults.server_error = 503
        elif fault:
            setattr(sim.faults, fault, True)
        call = ModelCall(ep, MESSAGES, {"temperature": 0.5}, stream=stream, timeout_s=10)
        c = asyncio.run(complete(call))
        seen[name] = (
            c.text,
            c.finish_reason,
            c.cost_usd is None,
            c.error_kind,
            c.retry_after_s,
        )
        if fault != "no_usage":  # litellm may count missing tokens itself
            seen[name] += (c.prompt_tokens, c.completion_tokens, c.cost_usd)
    assert seen["sdk"] == seen["litellm"]
