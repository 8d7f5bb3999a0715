"""`promptyard.resolve_model`: what an app needs to call a prompt's model with the openai SDK
or litellm, from the workspace or from a bundle."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import promptyard
from promptyard.models import ModelConfigError, UnknownModelError
from promptyard.workspace import Workspace
from tests.cli import run_cli

SECRET = "sk-local-secret-value"


def test_a_simulated_prompt_is_called_through_the_openai_sdk(
    workspace: Workspace, sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openai import OpenAI

    monkeypatch.delenv("PROMPTYARD_SIMULATOR_KEY", raising=False)
    prompt = promptyard.get_prompt("summarize", "v1")
    model = promptyard.resolve_model(prompt)
    assert isinstance(model, promptyard.ResolvedModel)
    assert (model.name, model.model, model.base_url, model.litellm_model) == (
        "sim-fast",
        "sim-fast",
        sim.url,
        "openai/sim-fast",
    )
    assert (model.provider, model.simulated) == ("openai_compatible", True)
    assert model.parameters == prompt.parameters and model.parameters["temperature"] == 0.3
    client = OpenAI(base_url=model.base_url, api_key=model.client_key())
    reply = client.chat.completions.create(
        messages=prompt.render(text="The parcel came late."),  # type: ignore[arg-type]
        **model.openai_kwargs(),
    )
    assert reply.model == "sim-fast" and reply.choices[0].message.content


def test_litellm_calls_the_same_model_with_litellm_kwargs(workspace: Workspace, sim) -> None:
    import litellm

    prompt = promptyard.get_prompt("summarize", "v1")
    model = promptyard.resolve_model(prompt)
    reply = litellm.completion(messages=prompt.render(text="Late."), **model.litellm_kwargs())
    assert reply.choices[0].message.content


def test_models_yaml_entries_openai_strings_and_a_bundle(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace.root / "models.yaml").write_text(
        "models:\n"
        "  local:\n"
        "    model: hosted_vllm/Qwen/Qwen2.5-7B\n"
        "    api_base: http://127.0.0.1:8000/v1/\n"
        "    api_key_env: LOCAL_KEY\n"
    )
    monkeypatch.setenv("LOCAL_KEY", SECRET)
    local = promptyard.resolve_model("local")
    assert (local.model, local.base_url, local.api_key_env, local.provider) == (
        "Qwen/Qwen2.5-7B",
        "http://127.0.0.1:8000/v1",
        "LOCAL_KEY",
        "openai_compatible",
    )
    assert local.litellm_kwargs()["api_key"] == SECRET == local.api_key()
    assert SECRET not in repr(local)
    with pytest.raises(dataclasses.FrozenInstanceError):
        local.model = "other"  # type: ignore[misc]

    hosted = promptyard.resolve_model("openai/gpt-4o-mini")
    assert (hosted.model, hosted.base_url, hosted.api_key_env, hosted.provider) == (
        "gpt-4o-mini",
        None,
        "OPENAI_API_KEY",
        "litellm",
    )

    # a bundle carries the entry: the same answer with no workspace at all
    text = promptyard.get_prompt("summarize").source_text
    promptyard.save_prompt("summarize", text.replace("id: sim-fast", "id: local", 1), "local")
    out = tmp_path / "b.json"
    run_cli("bundle", "--out", str(out), home=workspace.root, check=True)
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    monkeypatch.setenv("PROMPTYARD_HOME", str(empty))
    monkeypatch.setenv("PROMPTYARD_BUNDLE", str(out))
    prompt = promptyard.get_prompt("summarize")
    assert promptyard.resolve_model(prompt) == dataclasses.replace(
        local, parameters=prompt.parameters
    )


def test_bad_names_are_one_line_errors(workspace: Workspace) -> None:
    with pytest.raises(UnknownModelError, match="unknown model 'sim-fats'"):
        promptyard.resolve_model("sim-fats")
    nameless = promptyard.parse_prompt("user:\nhi", "bare")
    with pytest.raises(ModelConfigError, match="prompt 'bare' names no model"):
        promptyard.resolve_model(nameless)
