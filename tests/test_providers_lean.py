"""The lean call path (OpenAI-compatible endpoints over one shared aiohttp session) against
the real simulator, with the official `openai` SDK as the oracle of what an answer says,
and its latency against a fixed-latency server while this process is stalled."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from promptyard.models import (
    ModelCall,
    ModelEndpoint,
    SimulatorHandle,
    complete,
    simulated_endpoint,
    start_simulator,
)
from promptyard.models.providers.http_pool import use_aiohttp_sessions
from tests.fixed_server import fixed_latency_server

MESSAGES = [
    {"role": "system", "content": "Summarize the ticket in one sentence."},
    {"role": "user", "content": "The parcel arrived late and the box was crushed."},
]
REFUND = {
    "type": "function",
    "function": {
        "name": "issue_refund",
        "description": "Refund an amount to a customer",
        "parameters": {
            "type": "object",
            "properties": {"amount": {"type": "number"}, "reason": {"type": "string"}},
            "required": ["amount"],
        },
    },
}
SRC = Path(__file__).resolve().parent.parent / "src"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorHandle]:
    with start_simulator() as handle:
        yield handle


def endpoint(sim: SimulatorHandle, name: str = "sim-fast") -> ModelEndpoint:
    return dataclasses.replace(simulated_endpoint(name), api_base=sim.url)


def sdk(sim: SimulatorHandle) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=sim.url, api_key="no-key", max_retries=0)


def test_an_answer_reads_as_the_sdk_reads_it(sim: SimulatorHandle) -> None:
    params = {"temperature": 0.5, "max_tokens": 60}

    async def both() -> tuple[Any, ChatCompletion]:
        lean = await complete(ModelCall(endpoint(sim), MESSAGES, params, repeat=3))
        async with sdk(sim) as client:
            oracle = await client.chat.completions.create(
                model="sim-fast",
                messages=MESSAGES,  # type: ignore[arg-type]
                extra_headers={"X-Promptyard-Repeat": "3"},
                **params,  # type: ignore[arg-type]
            )
        return lean, oracle

    lean, oracle = asyncio.run(both())
    assert lean.ok, lean.error_message
    assert lean.text == oracle.choices[0].message.content
    assert lean.finish_reason == oracle.choices[0].finish_reason
    assert oracle.usage is not None
    assert (lean.prompt_tokens, lean.completion_tokens) == (
        oracle.usage.prompt_tokens,
        oracle.usage.completion_tokens,
    )
    assert not lean.tokens_estimated
    # the raw answer kept with the cell is one the SDK accepts as a ChatCompletion
    assert lean.raw is not None
    again = ChatCompletion.model_validate(lean.raw)
    assert again.choices[0].message.content == lean.text


def test_a_stream_reads_as_the_sdk_reads_it_usage_included(sim: SimulatorHandle) -> None:
    deltas: list[str] = []

    async def both() -> tuple[Any, str, Any]:
        call = ModelCall(endpoint(sim, "sim-smart"), MESSAGES, {}, repeat=1, stream=True)
        lean = await complete(call, deltas.append)
        text, usage = "", None
        async with sdk(sim) as client:
            stream = await client.chat.completions.create(
                model="sim-smart",
                messages=MESSAGES,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
                extra_headers={"X-Promptyard-Repeat": "1"},
            )
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    text += chunk.choices[0].delta.content
                usage = chunk.usage or usage
        return lean, text, usage

    lean, text, usage = asyncio.run(both())
    assert lean.ok, lean.error_message
    assert lean.text == text and "".join(deltas) == text and len(deltas) > 1
    assert (lean.prompt_tokens, lean.completion_tokens) == (
        usage.prompt_tokens,
        usage.completion_tokens,
    )
    assert lean.ttft_ms is not None and 0 < lean.ttft_ms <= lean.latency_ms
    assert lean.raw is not None
    ChatCompletionChunk.model_validate(lean.raw)  # the last chunk, as the SDK reads chunks


@pytest.mark.parametrize("stream", [False, True])
def test_tool_calls_read_as_the_sdk_reads_them(sim: SimulatorHandle, stream: bool) -> None:
    params = {"tool_choice": {"type": "function", "function": {"name": "issue_refund"}}}
    ask = [{"role": "user", "content": "Dana was charged twice, 12.50 each."}]

    async def both() -> tuple[Any, Any]:
        call = ModelCall(endpoint(sim, "sim-smart"), ask, params, tools=[REFUND], stream=stream)
        lean = await complete(call)
        async with sdk(sim) as client:
            oracle = await client.chat.completions.create(
                model="sim-smart",
                messages=ask,  # type: ignore[arg-type]
                tools=[REFUND],  # type: ignore[list-item]
                extra_headers={"X-Promptyard-Repeat": "0"},
                **params,  # type: ignore[arg-type]
            )
        return lean, oracle

    lean, oracle = asyncio.run(both())
    assert lean.ok, lean.error_message
    expected = [
        c.model_dump(include={"id", "type", "function"})
        for c in oracle.choices[0].message.tool_calls or []
    ]
    assert lean.tool_calls is not None
    assert [c["function"] for c in lean.tool_calls] == [c["function"] for c in expected]
    assert json.loads(lean.tool_calls[0]["function"]["arguments"])["amount"] >= 0
    assert lean.finish_reason == "tool_calls" and lean.text is None


@pytest.mark.parametrize("streams", [False, True], ids=["aiohttp", "the lean path's own client"])
def test_a_call_imports_neither_the_openai_sdk_nor_litellm_and_leaves_no_open_session(
    sim: SimulatorHandle, streams: bool
) -> None:
    """Through the lean path's own client (a base reached directly) not even aiohttp is
    loaded."""
    code = (
        "import asyncio, dataclasses, gc, sys\n"
        "from promptyard.models import ModelCall, complete, simulated_endpoint\n"
        "from promptyard.models.providers.http_pool import use_aiohttp_sessions\n"
        f"ep = dataclasses.replace(simulated_endpoint('sim-fast'), api_base={sim.url!r})\n"
        "async def call(stream):\n"
        f"    if not {streams!r}:\n"
        "        use_aiohttp_sessions()\n"
        "    return await complete(ModelCall(ep, [{'role': 'user', 'content': 'Hi'}], {},"
        " stream=stream))\n"
        "for stream in (False, True):\n"
        "    c = asyncio.run(call(stream))\n"
        "    assert c.ok, c.error_message\n"
        "gc.collect()\n"
        "print('openai' in sys.modules, 'litellm' in sys.modules, 'aiohttp' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-W", "always::ResourceWarning", "-c", code],
        env={"PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip() == f"False False {not streams}", out.stderr
    assert "Unclosed" not in out.stderr and "ResourceWarning" not in out.stderr, out.stderr


@pytest.fixture
def fixed_server() -> Iterator[str]:
    with fixed_latency_server(200) as url:
        yield url


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's TCP_INFO")
@pytest.mark.parametrize("streams", [False, True], ids=["aiohttp", "the lean path's own client"])
def test_a_process_stalled_while_the_answer_arrives_still_records_the_wire_time(
    fixed_server: str, streams: bool
) -> None:
    """A thread holding the GIL (a big-number product: one long C call) while the answer
    arrives delays this process by far more than the server took; the recorded latency
    stays the server's, through aiohttp and through the lean path's own client."""
    ep = ModelEndpoint("fixed", "openai/fixed", api_base=fixed_server)
    stalled: list[float] = []

    def hold_the_gil() -> None:
        time.sleep(0.05)  # the request is on the wire by then, its answer 150 ms away
        start = time.perf_counter()
        pow(3, 6_000_000)  # holds the GIL throughout, far longer than the server's 200 ms
        stalled.append((time.perf_counter() - start) * 1000)

    async def go() -> Any:
        if not streams:
            use_aiohttp_sessions()
        await complete(ModelCall(ep, MESSAGES, {}))  # the connection is open and warm
        stall = threading.Thread(target=hold_the_gil)
        stall.start()
        result = await complete(ModelCall(ep, MESSAGES, {}))
        stall.join()
        return result

    result = asyncio.run(go())
    assert result.ok, result.error_message
    assert stalled and stalled[0] > 300, stalled  # the stall really was long
    # the server's 200 ms, and a loaded machine's scheduling; far below the stall
    assert 199 <= result.latency_ms <= 200 + 130, (result.latency_ms, stalled)
