"""The simulator as strict clients see it: the official `openai` SDK (sync, async,
streaming, structured outputs, tools), litellm, urllib3's Retry-After parser and
OpenAI's error JSON, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import openai
import pytest
from pydantic import BaseModel
from urllib3.util.retry import Retry

from promptyard.models import SimulatorHandle, start_simulator

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
SEARCH = {
    "type": "function",
    "function": {
        "name": "search_orders",
        "description": "Find a customer's orders by order number or e-mail",
        "parameters": {
            "type": "object",
            "properties": {
                "order_id": {"type": "string", "pattern": "^[0-9]+$"},
                "email": {"type": "string", "format": "email"},
                "since": {"type": "string", "format": "date"},
                "statuses": {
                    "type": "array",
                    "items": {"enum": ["open", "shipped", "returned"]},
                    "minItems": 1,
                },
                "limit": {"type": ["integer", "null"], "exclusiveMinimum": 0},
            },
            "required": ["email", "statuses"],
        },
    },
}
ASK = [{"role": "user", "content": "What is the weather like in Paris today?"}]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorHandle]:
    with start_simulator() as handle:
        yield handle


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> None:
    if "sim" in request.fixturenames:
        handle = request.getfixturevalue("sim")
        handle.faults.clear()
        handle.api_key = None


@pytest.fixture
def client(sim: SimulatorHandle) -> openai.OpenAI:
    return openai.OpenAI(base_url=sim.url, api_key="sk-test", max_retries=0)


def _raw(sim: SimulatorHandle, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{sim.url}{path}", json=body, timeout=10)


def test_sync_chat_parses_and_each_response_has_its_own_id(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model="sim-fast", messages=ASK, temperature=0)
    second = client.chat.completions.create(model="sim-fast", messages=ASK, temperature=0)
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.id != second.id and first.id.startswith("chatcmpl-")
    assert first.usage is not None and first.usage.total_tokens > 0
    assert first.choices[0].finish_reason == "stop"


def test_n_choices_stop_and_logprobs(client: openai.OpenAI) -> None:
    many = client.chat.completions.create(model="sim-smart", messages=ASK, n=3)
    assert [c.index for c in many.choices] == [0, 1, 2]
    assert len({c.message.content for c in many.choices}) > 1  # temperature 1: they vary
    one = client.chat.completions.create(model="sim-smart", messages=ASK)
    assert one.choices[0].message.content == many.choices[0].message.content
    assert many.usage is not None and one.usage is not None
    assert many.usage.completion_tokens > one.usage.completion_tokens

    full = one.choices[0].message.content or ""
    word = full.split()[3]
    cut = client.chat.completions.create(model="sim-smart", messages=ASK, stop=[word])
    assert cut.choices[0].finish_reason == "stop"
    assert cut.choices[0].message.content == full[: full.index(word)]

    scored = client.chat.completions.create(
        model="sim-fast", messages=ASK, logprobs=True, top_logprobs=2, temperature=0
    )
    lp = scored.choices[0].logprobs
    assert lp is not None and lp.content
    assert "".join(t.token for t in lp.content) == scored.choices[0].message.content
    assert all(t.logprob <= 0 and len(t.top_logprobs) == 2 for t in lp.content)
    again = client.chat.completions.create(
        model="sim-fast", messages=ASK, logprobs=True, top_logprobs=2, temperature=0
    )
    assert again.choices[0].logprobs == lp  # deterministic


def test_async_client_and_streaming_with_usage(sim: SimulatorHandle) -> None:
    async def go() -> tuple[str, str, Any]:
        client = openai.AsyncOpenAI(base_url=sim.url, api_key="sk-test", max_retries=0)
        plain = await client.chat.completions.create(model="sim-fast", messages=ASK, temperature=0)
        stream = await client.chat.completions.create(
            model="sim-fast",
            messages=ASK,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
        pieces, usage = [], None
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
            usage = chunk.usage or usage
        await client.close()
        return plain.choices[0].message.content or "", "".join(pieces), usage

    plain, streamed, usage = asyncio.run(go())
    assert streamed == plain
    assert usage is not None and usage.completion_tokens > 0


class Ticket(BaseModel):
    title: str
    priority: int
    urgent: bool
    tags: list[str]


class Triage(BaseModel):
    ticket: Ticket
    team: str | None


def test_structured_output_parses_into_a_pydantic_model(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "Triage: my screen arrived cracked, please help."}]
    parsed = client.chat.completions.parse(
        model="sim-fast", messages=messages, response_format=Triage
    )
    triage = parsed.choices[0].message.parsed
    assert isinstance(triage, Triage) and isinstance(triage.ticket.priority, int)
    beta = client.beta.chat.completions.parse(
        model="sim-json", messages=messages, response_format=Ticket
    )
    assert isinstance(beta.choices[0].message.parsed, Ticket)


def test_forced_auto_required_and_none_tool_choice(client: openai.OpenAI) -> None:
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in (WEATHER, SEARCH)}
    auto = client.chat.completions.create(model="sim-fast", messages=ASK, tools=[SEARCH, WEATHER])
    call = auto.choices[0]
    assert call.finish_reason == "tool_calls" and call.message.content is None
    assert call.message.tool_calls and call.message.tool_calls[0].function.name == "get_weather"
    args = json.loads(call.message.tool_calls[0].function.arguments)
    jsonschema.validate(args, schemas["get_weather"])
    assert args["city"] == "Paris"

    forced = client.chat.completions.create(
        model="sim-smart",
        messages=ASK,
        tools=[WEATHER, SEARCH],
        tool_choice={"type": "function", "function": {"name": "search_orders"}},
    )
    tc = forced.choices[0].message.tool_calls
    assert tc and tc[0].function.name == "search_orders" and tc[0].id.startswith("call_")
    jsonschema.validate(
        json.loads(tc[0].function.arguments),
        schemas["search_orders"],
        format_checker=jsonschema.FormatChecker(),
    )

    none = client.chat.completions.create(
        model="sim-fast", messages=ASK, tools=[WEATHER], tool_choice="none"
    )
    assert none.choices[0].message.tool_calls is None and none.choices[0].message.content

    # after the tool answers, "auto" answers in text; "required" calls again
    history = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [tc[0].model_dump()]},
        {"role": "tool", "tool_call_id": tc[0].id, "content": '{"temp": 21}'},
    ]
    done = client.chat.completions.create(model="sim-fast", messages=history, tools=[WEATHER])
    assert done.choices[0].finish_reason == "stop" and done.choices[0].message.content
    again = client.chat.completions.create(
        model="sim-fast", messages=history, tools=[WEATHER], tool_choice="required"
    )
    assert again.choices[0].message.tool_calls


def test_streamed_tool_calls_assemble_to_valid_arguments(client: openai.OpenAI) -> None:
    plain = client.chat.completions.create(
        model="sim-fast", messages=ASK, tools=[WEATHER], temperature=0
    )
    with client.chat.completions.stream(
        model="sim-fast", messages=ASK, tools=[WEATHER], temperature=0
    ) as stream:
        final = stream.get_final_completion()
    streamed = final.choices[0].message.tool_calls
    assert streamed and plain.choices[0].message.tool_calls
    assert (
        streamed[0].function.arguments == plain.choices[0].message.tool_calls[0].function.arguments
    )
    assert final.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role", "invalid_value"),
        ({"temperature": 5}, "temperature", "decimal_above_max_value"),
        ({"temperature": -0.1}, "temperature", "decimal_below_min_value"),
        ({"n": 0}, "n", "integer_below_min_value"),
        ({"max_tokens": -1}, "max_tokens", "integer_below_min_value"),
        ({"model": None}, "model", "missing_required_parameter"),
        ({"messages": None}, "messages", "missing_required_parameter"),
        ({"messages": []}, "messages", "empty_array"),
        ({"messages": [{"role": "user"}]}, "messages[0].content", "missing_required_parameter"),
        ({"tool_choice": "required"}, "tool_choice", None),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "array_above_max_length"),
    ],
)
def test_refusals_are_openai_validation_errors(
    sim: SimulatorHandle, body: dict[str, Any], param: str, code: str | None
) -> None:
    request: dict[str, Any] = {"model": "sim-fast", "messages": ASK, **body}
    request = {k: v for k, v in request.items() if v is not None}
    r = _raw(sim, "/chat/completions", request)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"]
    assert error["param"] == param and error["code"] == code


def test_the_sdk_raises_its_bad_request_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="sim-fast", messages=ASK, temperature=5)
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == "temperature"
    assert "temperature" in str(caught.value)


def test_unknown_model_and_route_are_json_404(client: openai.OpenAI, sim: SimulatorHandle) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-nope", messages=ASK)
    assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-nope")
    assert client.models.retrieve("sim-json").id == "sim-json"
    assert "echo" in [m.id for m in client.models.list()]
    r = httpx.post(f"{sim.url}/responses", json={"model": "sim-fast", "input": "hi"})
    assert r.status_code == 404 and r.json()["error"]["type"] == "invalid_request_error"
    assert httpx.delete(f"{sim.url}/models").json()["error"]["message"]


def test_embeddings_are_deterministic_and_honour_dimensions(client: openai.OpenAI) -> None:
    texts = ["the parcel arrived broken", "the parcel arrived damaged", "lovely weather in Rome"]
    got = client.embeddings.create(model="sim-fast", input=texts)  # base64, decoded by the SDK
    vectors = [d.embedding for d in got.data]
    assert len(vectors) == 3 and all(len(v) == 256 for v in vectors)
    assert all(math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-3) for v in vectors)
    same = client.embeddings.create(model="sim-fast", input=texts, encoding_format="float")
    for floats, decoded in zip(same.data, vectors, strict=True):
        assert floats.embedding == pytest.approx(decoded, abs=1e-6)

    def cos(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cos(vectors[0], vectors[1]) > cos(vectors[0], vectors[2])
    short = client.embeddings.create(model="sim-fast", input="hi", dimensions=64)
    assert len(short.data[0].embedding) == 64 and short.usage.prompt_tokens > 0
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="nope", input="hi")


def test_legacy_completions(client: openai.OpenAI) -> None:
    done = client.completions.create(
        model="sim-fast", prompt="Summarize: the parcel came late and broken.", max_tokens=5
    )
    assert done.object == "text_completion" and done.choices[0].text
    assert done.choices[0].finish_reason == "length"
    assert done.usage is not None and done.usage.completion_tokens == 5


def test_rate_limit_headers_are_integer_seconds_and_milliseconds(sim: SimulatorHandle) -> None:
    sim.faults.rate_limit = True
    sim.faults.retry_after_s = 0.842469
    r = _raw(sim, "/chat/completions", {"model": "sim-fast", "messages": ASK})
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "1" and r.headers["retry-after-ms"] == "843"
    assert Retry().parse_retry_after(r.headers["Retry-After"]) == 1  # urllib3 raises on "0.84"


def test_api_key_makes_a_wrong_or_missing_key_a_401(sim: SimulatorHandle) -> None:
    sim.api_key = "sk-sim-secret-123"
    wrong = openai.OpenAI(base_url=sim.url, api_key="sk-wrong-key-456", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        wrong.chat.completions.create(model="sim-fast", messages=ASK)
    assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "invalid_api_key"
    assert "sk-wrong-key-456" not in str(caught.value.body)
    missing = httpx.get(f"{sim.url}/models")
    assert missing.status_code == 401 and missing.json()["error"]["message"]
    right = openai.OpenAI(base_url=sim.url, api_key="sk-sim-secret-123", max_retries=0)
    assert right.chat.completions.create(model="sim-fast", messages=ASK).choices


def test_echo_answers_the_rendered_prompt(client: openai.OpenAI) -> None:
    one = client.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "Hi {x}"}]
    )
    assert one.choices[0].message.content == "Hi {x}"
    assert one.usage is not None and one.usage.prompt_tokens > 0
    assert one.usage.completion_tokens > 0
    two = client.chat.completions.create(
        model="echo",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Why?"}],
    )
    assert two.choices[0].message.content == "Be brief.\n\nWhy?"


def test_litellm_completion_and_completion_cost(sim: SimulatorHandle) -> None:
    import litellm

    from promptyard.models import SIMULATED_MODELS, register_simulated_prices

    assert register_simulated_prices()
    response = litellm.completion(
        model="openai/sim-smart", api_base=sim.url, api_key="sk-test", messages=ASK
    )
    assert response.choices[0].message.content
    spec = SIMULATED_MODELS["sim-smart"]
    usage = response.usage
    expected = (
        usage.prompt_tokens * spec.input_cost_per_token
        + usage.completion_tokens * spec.output_cost_per_token
    )
    assert litellm.completion_cost(completion_response=response) == pytest.approx(expected)
    tools = litellm.completion(
        model="openai/sim-fast", api_base=sim.url, api_key="sk-test", messages=ASK, tools=[WEATHER]
    )
    assert tools.choices[0].message.tool_calls[0].function.name == "get_weather"


def test_simulated_models_send_the_simulator_key(
    sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptyard.models import ModelCall, complete, simulated_endpoint

    sim.api_key = "sk-sim-run-789"
    monkeypatch.setenv("PROMPTYARD_SIMULATOR_URL", sim.url)
    endpoint = simulated_endpoint("sim-fast")
    refused = asyncio.run(complete(ModelCall(endpoint, ASK)))
    assert refused.error_kind == "auth"
    monkeypatch.setenv("PROMPTYARD_SIMULATOR_KEY", "sk-sim-run-789")
    answered = asyncio.run(complete(ModelCall(endpoint, ASK)))
    assert answered.ok and answered.text


def test_the_echo_model_through_promptyard(sim: SimulatorHandle, workspace: Any) -> None:
    from promptyard.models import ModelCall, complete, resolve_model

    endpoint = resolve_model(workspace, "echo")
    assert endpoint.simulated
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Say <b>hi</b> to {{name}}"},
    ]
    done = asyncio.run(complete(ModelCall(endpoint, messages)))
    assert done.ok and done.text == "You are terse.\n\nSay <b>hi</b> to {{name}}"
    assert done.prompt_tokens and done.completion_tokens and not done.tokens_estimated
    assert done.cost_usd == 0.0  # a known price of zero, not an unknown one


def test_streamed_n_choices_arrive_by_index(client: openai.OpenAI) -> None:
    plain = client.chat.completions.create(model="sim-fast", messages=ASK, n=2, seed=3)
    texts: dict[int, str] = {}
    finishes: dict[int, str] = {}
    for chunk in client.chat.completions.create(
        model="sim-fast", messages=ASK, n=2, seed=3, stream=True
    ):
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
            if choice.finish_reason:
                finishes[choice.index] = choice.finish_reason
    assert texts == {c.index: c.message.content for c in plain.choices}
    assert finishes == {0: "stop", 1: "stop"}


def test_starting_a_simulator_never_imports_litellm() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys\n"
        "from promptyard.models import register_simulated_prices, start_simulator\n"
        "h = start_simulator()\n"
        "assert register_simulated_prices() is False\n"
        "h.stop()\n"
        "print('litellm' in sys.modules)\n"
    )
    src = Path(__file__).resolve().parent.parent / "src"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
