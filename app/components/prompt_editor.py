"""The prompt editor: settings fields, the template editor, a live preview, and saving.

Widget code only: parsing, rendering and saving are `promptyard.prompts` calls.
"""

from __future__ import annotations

import json
from typing import Any

import state
import streamlit as st

from promptyard import prompts
from promptyard.errors import PromptyardError
from promptyard.prompts import (
    PromptTemplate,
    TemplateError,
    TemplateLimitError,
    TemplateTimeoutError,
    split_front_matter,
    with_changes,
)
from promptyard.versioning import ConflictError
from promptyard.workspace import Workspace

try:  # the code editor; a plain text area when the component is missing
    from streamlit_ace import st_ace
except ImportError:  # pragma: no cover
    st_ace = None


def bump_generation() -> None:
    """Start fresh editor widgets on the next run (after a save, a restore or a reload)."""
    st.session_state[state.PROMPT_GENERATION] = st.session_state.get(state.PROMPT_GENERATION, 0) + 1


def _parse_for_fields(text: str, name: str) -> PromptTemplate | None:
    try:
        return prompts.parse_prompt(text, name)
    except TemplateError:
        return None


def prompt_editor(ws: Workspace, name: str, text: str, base_sha: str | None) -> None:
    """The Edit tab of prompt `name`: `text` is the version `base_sha` the edit starts from."""
    gen = st.session_state.get(state.PROMPT_GENERATION, 0)
    template = _parse_for_fields(text, name)
    body = split_front_matter(text)[1] if template is not None else text
    fk = lambda field: state.prompt_field_key(field, name, base_sha, gen)  # noqa: E731

    edit_col, preview_col = st.columns([3, 2], gap="large")
    with edit_col:
        if template is None:
            st.warning(
                "This file does not parse; fix it in the editor below (front matter included)."
            )
        else:
            with st.expander("Settings: description, model, parameters", expanded=False):
                description = st.text_input(
                    "Description", template.description, key=fk("description")
                )
                c1, c2, c3 = st.columns(3)
                model = c1.text_input(
                    "Model",
                    template.model or "",
                    key=fk("model"),
                    help="A name from models.yaml, a simulator model (sim-fast, sim-smart, sim-json) or a litellm model string",
                )
                temperature = c2.number_input(
                    "Temperature",
                    0.0,
                    2.0,
                    _as(float, template.parameters.get("temperature")),
                    step=0.1,
                    key=fk("temperature"),
                    placeholder="model default",
                )
                max_tokens = c3.number_input(
                    "Max tokens",
                    1,
                    200_000,
                    _as(int, template.parameters.get("max_tokens")),
                    step=32,
                    key=fk("max_tokens"),
                    placeholder="model default",
                )
        plain = st.toggle(
            "Plain text editor",
            key=state.PROMPT_PLAIN_EDITOR,
            help="Use a plain text box instead of the code editor",
        )
        if st_ace is not None and not plain:
            edited = st_ace(
                value=body,
                language="django",
                theme="chrome",
                min_lines=14,
                max_lines=40,
                wrap=True,
                show_gutter=True,
                auto_update=True,
                key=state.prompt_editor_key(name, base_sha, gen),
            )
        else:
            edited = st.text_area(
                "Template",
                body,
                height=360,
                key=state.prompt_editor_key(name, base_sha, gen) + "::plain",
            )
        edited_body = body if edited is None else edited

    if template is None:
        new_text = edited_body
        preview = prompts.preview_prompt(new_text, name, {})
        with preview_col:
            st.subheader("Preview")
            st.caption("The preview appears once the file parses.")
    else:
        params = dict(template.parameters)
        for key, value in (("temperature", temperature), ("max_tokens", max_tokens)):
            if value is None:
                params.pop(key, None)
            elif value != template.parameters.get(key):
                params[key] = round(float(value), 2) if key == "temperature" else int(value)
        with preview_col:
            samples = _sample_inputs(template, edited_body, fk)
        new_text = with_changes(
            template,
            body=edited_body,
            description=description,
            model=model,
            parameters=params,
            samples=samples,
        )
        preview = _render_preview(new_text, name)
        with preview_col:
            _preview(preview)

    with edit_col:
        _show_error(
            preview.error, body_start=split_front_matter(new_text)[2] if template is not None else 1
        )
        changed = (
            new_text != (text if template is None else with_changes(template)) and new_text != text
        )
        msg = st.text_input(
            "Change message", key=state.PROMPT_MESSAGE, placeholder="What did you change, and why?"
        )
        c1, c2 = st.columns([1, 3])
        save = c1.button("💾 Save", type="primary", disabled=not changed, key="prompts.save")
        c2.caption("Unsaved changes" if changed else "No changes since the latest version")
        if save:
            _save(ws, name, new_text, msg, base_sha)


def _as(kind: type, value: Any) -> Any:
    return None if value is None else kind(value)


def _sample_inputs(template: PromptTemplate, body: str, fk: Any) -> dict[str, Any]:
    """Text areas for the sample value of each variable the edited body uses."""
    st.subheader("Preview")
    try:
        variables = prompts.parse_prompt(body, template.name).variables
    except TemplateError:
        variables = template.variables
    if variables:
        st.caption("Sample inputs (saved with the prompt)")
    samples = {}
    for var in variables:
        current = template.samples.get(var, "")
        # A list or mapping sample (a thread, say) is edited as JSON and kept its type.
        as_json = not isinstance(current, str)
        shown = json.dumps(current, ensure_ascii=False) if as_json else current
        value = st.text_area(var, shown, height=80, key=fk(f"sample::{var}"))
        if as_json:
            try:
                value = json.loads(value)
            except ValueError:
                pass
        samples[var] = value
    return samples


def _render_preview(text: str, name: str) -> prompts.PromptPreview:
    """The edited text rendered once with its samples, under the render time limit.

    Rendering runs in the script's thread but ends by the limit (2 s by default), so a
    hostile template cannot keep the server busy; the preview then says it timed out.
    """
    template = _parse_for_fields(text, name)
    return prompts.preview_prompt(text, name, template.samples if template else {})


def _preview(preview: prompts.PromptPreview) -> None:
    template = preview.template
    if template is None:
        st.caption("Fix the error to see the preview.")
        return
    if isinstance(preview.error, TemplateTimeoutError):
        limit = prompts.default_limits().timeout_s
        st.warning(
            f"Rendering timed out after {limit:g} s: the template takes too long to render"
            " with the sample inputs (loops nested too deep?), and would in a run too.",
            icon="⏱️",
        )
        return
    if isinstance(preview.error, TemplateLimitError):
        st.warning("The template builds a value past the size limit; see the error.", icon="📏")
        return
    if not preview.messages:
        st.caption("Fill in every sample input to see the rendered messages.")
        return
    st.caption(
        f"{len(preview.messages)} messages · {preview.total_tokens} tokens in total "
        f"(tiktoken, {template.model or 'default'} encoding)"
    )
    avatars = {"system": "⚙️", "user": "🧑", "assistant": "🤖"}
    for message, count in zip(preview.messages, preview.tokens, strict=True):
        with st.chat_message(message["role"], avatar=avatars.get(message["role"])):
            st.caption(f"{message['role']} · {count} tokens")
            st.text(message["content"])


def _show_error(error: TemplateError | None, body_start: int = 1) -> None:
    """The error under the editor, with line numbers as the editor counts them."""
    if error is None:
        return
    line = error.line - body_start + 1 if error.line and error.line >= body_start else error.line
    where = (
        f"Line {line}, column {error.column}: "
        if line and error.column
        else (f"Line {line}: " if line else "")
    )
    st.error(f"{where}{error.reason}", icon="🚫")


def _save(ws: Workspace, name: str, text: str, message: str, base_sha: str | None) -> None:
    try:
        version = prompts.save_prompt(
            name, text, message or f"Update {name}", base=base_sha, workspace=ws
        )
    except ConflictError as exc:
        st.error(f"{exc}. Reload to see the new version; your edit is still in the editor.")
        st.code(exc.diff or "(no textual difference)", language="diff")
        return
    except PromptyardError as exc:
        st.error(str(exc))
        return
    st.session_state[state.PROMPT_FLASH] = f"Saved {name} {version.tag} ({version.short_sha})."
    st.session_state.pop(state.PROMPT_MESSAGE, None)
    st.session_state.setdefault(state.PROMPT_BASE_SHA, {})[name] = version.sha
    bump_generation()
    st.rerun()
