"""Settings → Models: every model the workspace can use, and a form to add or edit a
models.yaml entry, test it with one tiny request, and commit it."""

from __future__ import annotations

from dataclasses import fields

import state
import streamlit as st

from components.output_cell import escape_markdown
from components.signin import may_or_say
from promptyard import models
from promptyard.errors import PromptyardError
from promptyard.team import Permission
from promptyard.ui_support import ModelRow, model_rows
from promptyard.versioning import ConflictError
from promptyard.workspace import Workspace

NEW = "(a new model)"
_LABELS = {
    "name": "Name",
    "model": "litellm model string",
    "api_base": "API base URL",
    "api_key_env": "Key variable (its NAME, never the key)",
    "provider": "Provider",
    "max_concurrency": "Max concurrency",
    "rpm": "Requests per minute",
    "input_cost_per_million": "Input USD per 1M tokens",
    "output_cost_per_million": "Output USD per 1M tokens",
    "description": "Description",
}
_HELP = {
    "model": "provider/model, e.g. openai/my-model or hosted_vllm/Qwen/Qwen2.5-7B",
    "api_base": "For a local server or proxy, e.g. http://127.0.0.1:8000/v1",
    "api_key_env": "The environment variable (or .streamlit/secrets.toml entry) holding it",
    "provider": "litellm, openai_compatible or a plugin's; empty: decided from the model",
}


def _price(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _table(rows: list[ModelRow]) -> None:
    st.dataframe(
        [
            {  # the figures first: on a narrow screen the table scrolls to the rest
                "model": r.name,
                "key": str(r.key_status),
                "in $/1M": _price(r.input_per_million),
                "out $/1M": _price(r.output_per_million),
                "context": "—" if r.context_window is None else f"{r.context_window:,}",
                "from": r.source,
                "key variable": r.key_variable or "—",
                "sends": r.model,
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
    )


def _form_fields(prefix: str, start: models.ModelForm) -> models.ModelForm:
    values = {}
    left, right = st.columns(2)
    for n, f in enumerate(fields(models.ModelForm)):
        box = left if n % 2 == 0 else right
        key = f"{prefix}.{f.name}"
        if key not in st.session_state:
            st.session_state[key] = getattr(start, f.name)
        values[f.name] = box.text_input(_LABELS[f.name], key=key, help=_HELP.get(f.name))
    return models.ModelForm(**values)


def models_settings(ws: Workspace) -> None:
    """The Models section of Settings."""
    st.subheader("Models")
    st.caption(
        "Every model this workspace can use: the simulator's, the models.yaml entries, and "
        "the litellm models of each provider whose key is set. Keys are never shown."
    )
    rows, problems = model_rows(ws)
    for problem in problems:
        st.warning(problem)
    _table(rows)

    try:
        configured = models.load_endpoints(ws)
    except PromptyardError:
        configured = {}  # the warning above names the broken line
    if state.SETTINGS_MODELS_BASE not in st.session_state:
        st.session_state[state.SETTINGS_MODELS_BASE] = models.models_version(ws)
    pending = st.session_state.pop(state.SETTINGS_MODEL_SAVED, None)
    if pending in configured:  # the entry just saved stays open
        st.session_state[state.SETTINGS_MODEL_PICK] = pending
    if not may_or_say(Permission.MANAGE_MODELS, "edit models"):
        return
    with st.expander("Add or edit a models.yaml entry", expanded=pending is not None):
        picked = st.selectbox("Entry", [NEW, *configured], key=state.SETTINGS_MODEL_PICK)
        editing = None if picked == NEW else str(picked)
        prefix = f"{state.SETTINGS_MODEL_FORM}.{editing or NEW}"
        start = models.form_of(configured[editing]) if editing else models.ModelForm("", "")
        form = _form_fields(prefix, start)
        wrong = models.check_model_form(form)
        blank = not any(str(v).strip() for v in vars(form).values())
        for field_name, problem in ({} if blank else wrong).items():
            st.error(escape_markdown(f"{_LABELS[field_name]}: {problem}"))
        test_col, save_col, _rest = st.columns([1, 1, 3])
        if test_col.button("Test connection", key="settings.model_test", disabled=bool(wrong)):
            with st.spinner("Sending one tiny request…"):
                try:
                    check = models.test_connection(form)
                except PromptyardError as exc:
                    st.error(str(exc))
                else:
                    _show_check(check)
        if save_col.button(
            "Save to models.yaml", type="primary", key="settings.model_save", disabled=bool(wrong)
        ):
            _save(ws, form, editing)


def _show_check(check: models.ConnectionCheck) -> None:
    took = "" if check.latency_ms is None else f" in {check.latency_ms:,.0f} ms"
    if check.ok:
        st.success(f"Connected{took}. The model answered:", icon="✅")
        st.text(check.answer or "(an empty answer)")
    else:
        st.error(escape_markdown(f"{check.error_kind}{took}: {check.error_message or ''}"))


def _save(ws: Workspace, form: models.ModelForm, editing: str | None) -> None:
    try:
        version = models.save_model(
            ws, form, editing=editing, base=st.session_state.get(state.SETTINGS_MODELS_BASE)
        )
    except models.ModelFormError as exc:
        for field_name, problem in exc.problems.items():
            st.error(escape_markdown(f"{_LABELS[field_name]}: {problem}"))
    except ConflictError:
        st.error("models.yaml changed since you opened this page; reload it and redo the edit.")
    except PromptyardError as exc:
        st.error(str(exc))
    else:
        st.session_state[state.SETTINGS_FLASH] = (
            f"Saved {form.name.strip()} to models.yaml ({version.short_sha})."
        )
        for key in list(st.session_state):
            if str(key).startswith(state.SETTINGS_MODEL_FORM):
                del st.session_state[key]
        st.session_state[state.SETTINGS_MODEL_SAVED] = form.name.strip()
        st.session_state.pop(state.SETTINGS_MODELS_BASE, None)
        st.rerun()
