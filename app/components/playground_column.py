"""One Playground column's set-up: version, model, parameters, and an edit to run or save."""

from __future__ import annotations

from typing import Any

import state
import streamlit as st

from components.model_picker import single_model_picker
from components.signin import may
from promptyard import prompts
from promptyard.errors import PromptyardError
from promptyard.models import default_models
from promptyard.runs import CallSettings, PlanError, PlaygroundColumn, ResponseFormat
from promptyard.team import Permission
from promptyard.versioning import ConflictError
from promptyard.workspace import Workspace


def reset_columns(count: int, newest: str) -> None:
    """Point every column at `newest` and drop its edit: the prompt was switched."""
    for i in range(count):
        st.session_state[state.play_column("version", i)] = newest
        st.session_state.pop(state.play_column("edit_for", i), None)


def _settings(i: int) -> CallSettings:
    with st.expander("Parameters"):
        # one widget a line: a column is narrow when there are several (or a small screen)
        left = right = st
        use_temp = left.checkbox("Set temperature", key=state.play_column("set_temperature", i))
        temperature = left.slider(
            "Temperature", 0.0, 2.0, 1.0, 0.1,
            key=state.play_column("temperature", i), disabled=not use_temp,
        )  # fmt: skip
        max_tokens = right.number_input(
            "Max tokens", min_value=0, max_value=100_000, value=0, step=64,
            key=state.play_column("max_tokens", i), help="0: the prompt's or the model's own",
        )  # fmt: skip
        use_top_p = left.checkbox("Set top_p", key=state.play_column("set_top_p", i))
        top_p = left.slider(
            "top_p", 0.0, 1.0, 1.0, 0.05, key=state.play_column("top_p", i), disabled=not use_top_p
        )
        seed = right.text_input(
            "Seed", key=state.play_column("seed", i), placeholder="none", help="A whole number"
        )
        fmt = right.selectbox(
            "Response format", [f.value for f in ResponseFormat], key=state.play_column("format", i)
        )
    seed_value: Any = None
    if seed.strip():
        try:
            seed_value = int(seed.strip())
        except ValueError:
            seed_value = seed.strip()  # CallSettings names the field in its message
    return CallSettings(
        temperature=temperature if use_temp else None,
        max_tokens=int(max_tokens) or None,
        top_p=top_p if use_top_p else None,
        seed=seed_value,
        response_format=str(fmt),
    )


def _save_edit(ws: Workspace, name: str, tag: str, sha: str, text: str, i: int) -> None:
    if not may(Permission.EDIT_PROMPTS):
        return
    message = st.text_input(
        "Save message", key=state.play_column("save_message", i), placeholder="What changed"
    )
    if not st.button("Save as new version", key=state.play_column("save", i)):
        return
    try:
        version = prompts.save_prompt(
            name, text, message or f"Edit {name} in the playground", base=sha, workspace=ws
        )
    except ConflictError:
        st.error(f"{name} changed since {tag}; pick the latest version and redo the edit.")
    except PromptyardError as exc:
        st.error(str(exc))
    else:
        st.session_state[state.PLAY_FLASH] = f"Saved {name} v{version.number}."
        st.session_state[state.play_column("pick", i)] = f"v{version.number}"
        st.rerun()


def column_setup(
    ws: Workspace, name: str, tags: list[str], shas: dict[str, str], i: int
) -> PlaygroundColumn | str:
    """Draw column `i`'s widgets; the column to send, or a one-line problem with it."""
    version_key = state.play_column("version", i)
    picked = st.session_state.pop(state.play_column("pick", i), None)
    if picked in tags:  # a version just saved from this column
        st.session_state[version_key] = picked
    if st.session_state.get(version_key) not in tags:
        st.session_state[version_key] = tags[0]
    tag = st.selectbox("Version", tags, key=version_key)
    defaults = default_models(ws)
    model = single_model_picker(
        ws, "Model", key=state.play_column("model", i), default=defaults[i % len(defaults)]
    )
    settings = _settings(i)
    saved_text = prompts.get_prompt(name, ref=tag, workspace=ws).source_text
    edit_key = state.play_column("text", i)
    if st.session_state.get(state.play_column("edit_for", i)) != f"{name}@{tag}":
        st.session_state[edit_key] = saved_text
        st.session_state[state.play_column("edit_for", i)] = f"{name}@{tag}"
    with st.expander("Edit this prompt"):
        text = st.text_area("Prompt file", key=edit_key, height=260)
        edited = text != saved_text
        if edited:
            st.caption("Unsaved edit: this column runs the edited text.")
            _save_edit(ws, name, tag, shas[tag], text, i)
    try:
        parameters = settings.parameters(f"column {i + 1}")
    except PlanError as exc:
        return "; ".join(exc.problems)
    return PlaygroundColumn(
        prompt=name, model=model, ref=tag, text=text if edited else None, parameters=parameters
    )
