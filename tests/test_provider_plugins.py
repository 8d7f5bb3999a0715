"""Provider plugins: a package adds a provider kind through a `promptyard.providers` entry
point; runs whose model names it go through it, and its answers land in the cells."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from promptyard.cli import app
from promptyard.models import (
    ModelCall,
    ModelEndpoint,
    complete,
    plugin_names,
    provider_kind,
    reset_providers,
    resolve_model,
)
from promptyard.workspace import Workspace
from tests.plugin_dist import install_distribution

PLUGIN = '''
"""A provider that echoes the last message, as a plugin package would ship one."""

from promptyard.models import Completion, ErrorKind

calls = []


class EchoProvider:
    def __init__(self, endpoint):
        self.endpoint = endpoint

    async def complete(self, call, on_delta=None):
        calls.append(call)
        last = call.messages[-1]["content"]
        if "hang" in last:
            import asyncio
            await asyncio.sleep(3600)
        if "boom" in last:
            raise RuntimeError("the echo server exploded, key sk-plugin-SECRET-0123456789")
        if "quota" in last:
            return Completion(None, None, None, None, None, 1.0,
                              error_kind=ErrorKind.RATE_LIMIT.value, retry_after_s=3.0,
                              error_message="over quota")
        text = f"echo[{self.endpoint.name}]: {last[:60]}"
        if on_delta is not None:
            on_delta(text)
        return Completion(text=text, finish_reason="stop", prompt_tokens=len(last.split()),
                          completion_tokens=len(text.split()), cost_usd=0.0, latency_ms=1.0)
'''

ECHO_ENTRY_POINTS = "[promptyard.providers]\necho = promptyard_echo:EchoProvider\n"


@pytest.fixture
def echo_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The `promptyard-echo` distribution, installed into a path of its own on sys.path."""
    site = tmp_path / "site"
    install_distribution(
        site,
        module="promptyard_echo",
        code=PLUGIN,
        name="promptyard-echo",
        version="0.1",
        entry_points=ECHO_ENTRY_POINTS,
    )
    monkeypatch.syspath_prepend(str(site))
    reset_providers()  # entry points are read once and cached: read them again
    assert "echo" in plugin_names()
    import promptyard_echo  # type: ignore[import-not-found]

    yield promptyard_echo
    reset_providers()
    sys.modules.pop("promptyard_echo", None)


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def _results(run_id: int) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _cli("results", str(run_id)).stdout.splitlines()]


def test_a_run_whose_model_names_a_plugin_goes_through_it(
    workspace: Workspace, echo_plugin: Any
) -> None:
    assert provider_kind(resolve_model(workspace, "echo/tiny")) == "echo"
    out = json.loads(
        _cli("run", "-p", "summarize", "-m", "echo/tiny", "-d", "summaries", "--limit", "2",
             "--json").stdout
    )  # fmt: skip
    assert (out["cells"], out["ok"], out["errors"]) == (2, 2, 0)
    rows = _results(out["run_id"])
    assert [r["row_id"] for r in rows] == ["s-001", "s-002"]
    assert all(r["status"] == "ok" and r["output"].startswith("echo[echo/tiny]: ") for r in rows)
    assert len(echo_plugin.calls) == 2


def test_a_models_yaml_provider_routes_to_the_plugin(
    workspace: Workspace, echo_plugin: Any
) -> None:
    (workspace.root / "models.yaml").write_text(
        textwrap.dedent(
            """\
            models:
              house-echo:
                model: openai/whatever     # the plugin decides what the model string means
                api_base: http://127.0.0.1:9/v1
                provider: echo
            """
        )
    )
    endpoint = resolve_model(workspace, "house-echo")
    assert endpoint.provider_kind == "echo" and provider_kind(endpoint) == "echo"
    out = json.loads(
        _cli("run", "-p", "summarize", "-m", "house-echo", "-d", "summaries", "--limit", "1",
             "--json").stdout
    )  # fmt: skip
    assert out["ok"] == 1
    (row,) = _results(out["run_id"])
    assert row["output"].startswith("echo[house-echo]: ")


def test_a_plugin_that_raises_or_fails_gives_an_error_kind(echo_plugin: Any) -> None:
    endpoint = ModelEndpoint("echo/x", "echo/x", provider="echo")

    def call(text: str, stream: bool = False) -> Any:
        pieces: list[str] = []
        messages = [{"role": "user", "content": text}]
        c = asyncio.run(complete(ModelCall(endpoint, messages, stream=stream), pieces.append))
        return c, pieces

    c, pieces = call("hello there", stream=True)
    assert c.ok and c.text == "echo[echo/x]: hello there" and pieces == [c.text]
    c, _ = call("boom")
    assert c.error_kind == "server" and "exploded" in (c.error_message or "")
    assert "SECRET" not in (c.error_message or "")
    c, _ = call("over quota")
    assert c.error_kind == "rate_limit" and c.retryable and c.retry_after_s == 3.0


def test_a_plugin_that_never_answers_times_out_just_after_the_calls_bound(
    echo_plugin: Any,
) -> None:
    """A plugin is bounded by `complete` itself (the run engine adds no bound of its own
    to an unguarded call): a second past the call's timeout it is a retryable timeout."""
    endpoint = ModelEndpoint("echo/x", "echo/x", provider="echo")
    call = ModelCall(endpoint, [{"role": "user", "content": "hang"}], timeout_s=0.5)
    started = time.monotonic()
    c = asyncio.run(complete(call))
    waited = time.monotonic() - started
    assert c.error_kind == "timeout" and c.retryable
    assert c.error_message == "no answer within 0.5 s"
    assert 1.4 <= waited < 3.0


def test_an_unknown_provider_is_a_clear_error(echo_plugin: Any) -> None:
    endpoint = ModelEndpoint("mine", "openai/x", provider_kind="nope", source="models.yaml")
    c = asyncio.run(complete(ModelCall(endpoint, [{"role": "user", "content": "hi"}])))
    assert c.error_kind == "bad_request" and not c.retryable
    assert "'nope'" in (c.error_message or "") and "echo" in (c.error_message or "")
