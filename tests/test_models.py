"""The model catalog: simulator models, models.yaml endpoints, litellm strings, keys."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from promptyard.models import (
    SIMULATED_MODELS,
    ModelConfigError,
    UnknownModelError,
    api_key,
    default_models,
    load_catalog,
    load_endpoints,
    resolve_model,
    start_simulator,
)
from promptyard.workspace import Workspace

ISSUE_EXAMPLE = """\
models:
  fast-local:                      # the name used in the UI and on the command line
    model: openai/my-model         # a litellm model string
    api_base: http://127.0.0.1:8000/v1
    api_key_env: MY_KEY            # the NAME of the env var that holds the key
    max_concurrency: 16            # optional
    rpm: 600                       # optional requests per minute
    input_cost_per_token: 0.000001 # optional price overrides
    output_cost_per_token: 0.000002
"""


@pytest.fixture(autouse=True)
def _no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    from promptyard.models import PROVIDER_KEY_ENV

    for env in PROVIDER_KEY_ENV.values():
        monkeypatch.delenv(env, raising=False)
    monkeypatch.delenv("PROMPTYARD_SIMULATOR_URL", raising=False)
    monkeypatch.setenv("HOME", "/nonexistent-home-for-tests")


def write_models(ws: Workspace, text: str) -> None:
    ws.models_file.write_text(text, encoding="utf-8")


def test_the_issue_example_models_yaml_is_read_field_by_field(empty_workspace: Workspace) -> None:
    write_models(empty_workspace, ISSUE_EXAMPLE)
    ep = resolve_model(empty_workspace, "fast-local")
    assert ep.litellm_model == "openai/my-model"
    assert ep.api_base == "http://127.0.0.1:8000/v1"
    assert ep.api_key_env == "MY_KEY"
    assert (ep.max_concurrency, ep.rpm) == (16, 600)
    assert (ep.input_cost_per_token, ep.output_cost_per_token) == (0.000001, 0.000002)
    assert not ep.simulated and ep.source == "models.yaml"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("  m1:\n    model: openai/x\n    max_concurrency: lots\n", "max_concurrency"),
        ("  m1:\n    model: openai/x\n    rpm: -5\n", "rpm"),
        ("  m1:\n    model: openai/x\n    api_base: localhost:8000\n", "api_base"),
        ("  m1:\n    model: openai/x\n    api_key_env: sk-live-123\n", "api_key_env"),
        ("  m1:\n    model: openai/x\n    api_key: sk-live-123\n", "api_key"),
        ("  m1:\n    model: openai/x\n    input_cost_per_token: cheap\n", "input_cost_per_token"),
        ("  m1:\n    api_base: http://127.0.0.1:1/v1\n", "model"),
        ("  m1:\n    model: openai/x\n    provider: [litellm]\n", "provider"),
    ],
)
def test_a_malformed_entry_names_file_model_and_field(
    empty_workspace: Workspace, body: str, field: str
) -> None:
    write_models(empty_workspace, "models:\n  ok-one:\n    model: openai/y\n" + body)
    with pytest.raises(ModelConfigError) as err:
        resolve_model(empty_workspace, "ok-one")
    message = str(err.value)
    assert "models.yaml" in message and "'m1'" in message and f"'{field}'" in message
    assert "line 4" in message
    assert "sk-live-123" not in message


def test_the_provider_field_chooses_who_makes_the_call(empty_workspace: Workspace) -> None:
    from promptyard.models import provider_kind

    write_models(
        empty_workspace,
        "models:\n"
        "  direct:\n    model: hosted_vllm/q\n    api_base: http://127.0.0.1:8000/v1\n"
        "  logged:\n    model: hosted_vllm/q\n    api_base: http://127.0.0.1:8000/v1\n"
        "    provider: litellm\n",
    )
    direct, logged = (resolve_model(empty_workspace, n) for n in ("direct", "logged"))
    assert direct.provider_kind is None and provider_kind(direct) == "openai_compatible"
    assert logged.provider_kind == "litellm" and provider_kind(logged) == "litellm"


def test_broken_yaml_reports_line_and_column(empty_workspace: Workspace) -> None:
    write_models(empty_workspace, "models:\n  a:\n    model: [openai/x\n")
    with pytest.raises(ModelConfigError, match=r"models\.yaml line \d+, column \d+"):
        load_endpoints(empty_workspace)


def test_the_wrong_shape_is_reported(empty_workspace: Workspace) -> None:
    write_models(empty_workspace, "- just\n- a list\n")
    with pytest.raises(ModelConfigError, match="top-level 'models:'"):
        load_catalog(empty_workspace)


def test_simulator_models_are_always_there_and_labelled(empty_workspace: Workspace) -> None:
    catalog = load_catalog(empty_workspace)
    assert [e.name for e in catalog] == list(SIMULATED_MODELS)
    assert all(e.simulated and "(simulated)" in e.label for e in catalog)
    assert default_models(empty_workspace) == list(SIMULATED_MODELS)
    assert resolve_model(empty_workspace, "sim-smart").simulated


def test_a_key_in_env_adds_that_providers_models(
    empty_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-real-000000")
    names = [e.name for e in load_catalog(empty_workspace)]
    assert "openai/gpt-4o-mini" in names
    assert not any(n.startswith("anthropic/") for n in names)
    assert default_models(empty_workspace) == ["openai/gpt-4o-mini"]


def test_a_key_in_streamlit_secrets_counts_too(empty_workspace: Workspace) -> None:
    secrets = empty_workspace.root / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text('ANTHROPIC_API_KEY = "sk-ant-test-000000"\n')
    names = [e.name for e in load_catalog(empty_workspace)]
    assert any(n.startswith("anthropic/") for n in names)
    ep = resolve_model(empty_workspace, "anthropic/claude-3-5-haiku-latest")
    assert api_key(ep, empty_workspace) == "sk-ant-test-000000"


def test_any_litellm_string_resolves(empty_workspace: Workspace) -> None:
    ep = resolve_model(empty_workspace, "openai/gpt-4o-mini")
    assert ep.litellm_model == "openai/gpt-4o-mini" and ep.api_key_env == "OPENAI_API_KEY"
    assert resolve_model(empty_workspace, "ollama/llama3.2").provider == "ollama"
    assert resolve_model(empty_workspace, "gpt-4o-mini").name == "openai/gpt-4o-mini"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sim-fats", "did you mean 'sim-fast'"),
        ("nope/model", "unknown provider 'nope'"),
        ("openai/ has spaces", "not a well-formed"),
        ("openai/", "not a well-formed"),
        ("", "empty"),
    ],
)
def test_unknown_or_ill_formed_names_are_clear_errors(
    empty_workspace: Workspace, name: str, expected: str
) -> None:
    with pytest.raises(UnknownModelError, match=expected):
        resolve_model(empty_workspace, name)


def test_a_models_yaml_endpoint_is_called_with_its_key(
    empty_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptyard.models import ModelCall, complete

    with start_simulator() as sim:
        write_models(
            empty_workspace,
            f"models:\n  local:\n    model: openai/sim-smart\n    api_base: {sim.url}\n    api_key_env: LOCAL_KEY\n",
        )
        monkeypatch.setenv("LOCAL_KEY", "local-secret-value-123")
        ep = resolve_model(empty_workspace, "local")
        c = asyncio.run(complete(ModelCall(ep, [{"role": "user", "content": "Hello"}], {})))
        assert c.ok and c.text
        assert sim.last_authorization == "Bearer local-secret-value-123"
        assert c.cost_usd is None  # no price given for a local endpoint: unknown, not 0
    assert "local-secret-value-123" not in Path(empty_workspace.models_file).read_text()


DOCS = Path(__file__).resolve().parent.parent / "docs" / "models.md"


def _blocks(lang: str) -> list[str]:
    import re

    return re.findall(rf"```{lang}\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)


def test_every_models_yaml_example_in_the_docs_loads(empty_workspace: Workspace) -> None:
    blocks = [b for b in _blocks("yaml") if b.startswith("models:")]
    assert len(blocks) >= 6  # the format, Ollama, vLLM, llama.cpp, LM Studio, LiteLLM proxy
    for block in blocks:
        write_models(empty_workspace, block)
        endpoints = load_endpoints(empty_workspace)
        assert endpoints
        for name in endpoints:
            assert resolve_model(empty_workspace, name).source == "models.yaml"


def test_the_python_example_in_the_docs_runs(
    empty_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    (code,) = _blocks("python")
    exec(compile(code, str(DOCS), "exec"), {})  # noqa: S102 - our own documentation
    out = capsys.readouterr().out
    assert "parcel" in out.lower()
