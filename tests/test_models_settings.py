"""Models in the UI: Settings lists every usable model; a form adds or edits a models.yaml
entry (committed), with a per-field message for each wrong field and a connection test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from promptyard import models
from promptyard.models import ModelForm, SimulatorHandle, start_simulator
from promptyard.ui_support import KeyStatus, model_rows
from promptyard.versioning.store import Store

PAGE = str(Path(__file__).resolve().parent.parent / "app" / "views" / "settings.py")

HOUSE = (
    "# our endpoints\n"
    "models:\n"
    "  house:  # the team's vLLM\n"
    "    model: hosted_vllm/qwen\n"
    "    api_base: http://127.0.0.1:9/v1\n"
    "    api_key_env: HOUSE_KEY\n"
    "    input_cost_per_token: 0.000001\n"
    "\n"
    "  other:\n"
    "    model: openai/other\n"
)


def _models_table(at: AppTest) -> Any:
    return next(d.value for d in at.dataframe if "sends" in d.value.columns)


def _app() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_lists_simulated_keyed_and_models_yaml_with_price_window_and_key_status(
    workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-SECRET-999")
    (workspace.root / "models.yaml").write_text(HOUSE)
    rows, problems = model_rows(workspace)
    assert problems == []
    by_name = {r.name: r for r in rows}
    fast = by_name["sim-fast"]
    assert (fast.input_per_million, fast.output_per_million) == pytest.approx((0.15, 0.60))
    assert fast.context_window == 16_384 and fast.key_status is KeyStatus.NOT_NEEDED
    house = by_name["house"]
    assert house.source == "models.yaml" and house.key_variable == "HOUSE_KEY"
    assert house.key_status is KeyStatus.NOT_SET and house.input_per_million == pytest.approx(1.0)
    assert house.output_per_million is None  # unknown stays unknown
    claude = [r for r in rows if r.model.startswith("anthropic/")]
    assert claude and all(r.key_status is KeyStatus.SET for r in claude)
    assert any(r.context_window for r in claude)
    assert not [r for r in rows if r.model.startswith("openai/gpt")]  # no OpenAI key

    at = _app()
    table = _models_table(at)
    assert {"sim-fast", "house", "other"} <= set(table["model"])
    assert set(table["key"]) >= {"set", "not set", "not needed"}
    shown = " ".join(str(d.value) for d in at.dataframe)
    assert "SECRET" not in shown


def test_each_wrong_field_gets_its_own_message_and_nothing_is_written(workspace: Any) -> None:
    form = ModelForm(
        name="sim-fast",
        model="my model",
        api_base="ftp://x",
        api_key_env="sk-live-abc123",
        max_concurrency="lots",
        rpm="0",
        input_cost_per_million="-1",
        output_cost_per_million="cheap",
    )
    problems = models.check_model_form(form)
    assert set(problems) == {
        "name",
        "model",
        "api_base",
        "api_key_env",
        "max_concurrency",
        "rpm",
        "input_cost_per_million",
        "output_cost_per_million",
    }
    assert "never the key" in problems["api_key_env"]
    with pytest.raises(models.ModelFormError):
        models.save_model(workspace, form)
    assert not (workspace.root / "models.yaml").exists()


def test_saving_adds_an_entry_keeps_the_rest_and_commits(workspace: Any) -> None:
    Store(workspace).save("models.yaml", HOUSE, "Our endpoints")
    form = ModelForm(
        name="local",
        model="openai/llama",
        api_base="http://127.0.0.1:8000/v1/",
        api_key_env="LOCAL_KEY",
        rpm="600",
        input_cost_per_million="0.5",
        output_cost_per_million="1.5",
    )
    version = models.save_model(workspace, form)
    text = (workspace.root / "models.yaml").read_text()
    assert "# our endpoints" in text and "# the team's vLLM" in text  # untouched lines kept
    endpoints = models.load_endpoints(workspace)
    assert list(endpoints) == ["house", "other", "local"]
    local = endpoints["local"]
    assert local.api_base == "http://127.0.0.1:8000/v1" and local.api_key_env == "LOCAL_KEY"
    assert local.rpm == 600 and local.input_cost_per_token == pytest.approx(0.5e-6)
    history = Store(workspace).history("models.yaml")
    assert history[-1].sha == version.sha and history[-1].message == "Add model local"
    # A name already there is refused unless it is the entry being edited.
    with pytest.raises(models.ModelFormError, match="already in models.yaml"):
        models.save_model(workspace, form)
    edited = models.form_of(endpoints["house"])
    edited = ModelForm(**{**edited.__dict__, "rpm": "60"})
    models.save_model(workspace, edited, editing="house")
    after = models.load_endpoints(workspace)
    assert after["house"].rpm == 60 and after["house"].input_cost_per_token == pytest.approx(1e-6)
    assert list(after) == ["house", "other", "local"]
    assert "# our endpoints" in (workspace.root / "models.yaml").read_text()


def test_connection_test_answers_or_names_the_error_kind(
    workspace: Any, sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = ModelForm(name="local", model="openai/sim-fast", api_base=sim.url)
    check = models.test_connection(good)
    assert check.ok and check.answer and check.error_kind is None
    assert sim.requests[-1]["max_tokens"] == 5
    missing = ModelForm(name="x", model="openai/no-such-model", api_base=sim.url)
    check = models.test_connection(missing)
    assert not check.ok and check.error_kind and check.answer is None
    locked = start_simulator(api_key="right-key")
    try:
        monkeypatch.setenv("LOCKED_KEY", "wrong-key")
        form = ModelForm(
            name="locked", model="openai/sim-fast", api_base=locked.url, api_key_env="LOCKED_KEY"
        )
        check = models.test_connection(form)
        assert check.error_kind == "auth" and "wrong-key" not in (check.error_message or "")
    finally:
        locked.stop()


def test_page_form_adds_a_model_and_tests_it(workspace: Any, sim: SimulatorHandle) -> None:
    at = _app()
    prefix = "settings.model_form.(a new model)"
    at.text_input(key=f"{prefix}.name").set_value("local").run()
    at.text_input(key=f"{prefix}.model").set_value("openai/sim-fast").run()
    at.text_input(key=f"{prefix}.api_key_env").set_value("sk-SECRET").run()
    assert any("never the key" in e.value for e in at.error)
    assert at.button(key="settings.model_save").disabled
    at.text_input(key=f"{prefix}.api_key_env").set_value("").run()
    at.text_input(key=f"{prefix}.api_base").set_value(sim.url).run()
    at.button(key="settings.model_test").click().run()
    assert not at.exception, at.exception
    assert any("Connected" in s.value for s in at.success)
    at.button(key="settings.model_save").click().run()
    assert not at.exception, at.exception
    assert "local" in models.load_endpoints(workspace)
    assert any("Saved local to models.yaml" in s.value for s in at.success)
    assert "local" in set(_models_table(at)["model"])
    assert Store(workspace).history("models.yaml")[-1].message == "Add model local"
