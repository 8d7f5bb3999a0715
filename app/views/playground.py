"""Playground: one set of inputs, 2 to 6 columns (a version or an edit, a model), streamed
side by side with tokens, cost and latency; an edit can be saved as a new version."""

from __future__ import annotations

import state
import streamlit as st
from components.context import workspace
from components.guardrails import guardrail_picker
from components.model_picker import single_model_picker
from components.output_cell import escape_markdown

from promptyard import prompts
from promptyard.errors import PromptyardError
from promptyard.runs import (
    MAX_COLUMNS,
    MIN_COLUMNS,
    PlanError,
    PlaygroundColumn,
    playground_snapshot,
    start_playground,
)
from promptyard.versioning import ConflictError

ws = workspace()
st.title("🧪 Playground")

summaries = [p for p in prompts.list_prompts(ws) if not p.error and p.versions]
if not summaries:
    st.info("No prompts yet: create one on the Prompts page.")
    st.stop()

flash = st.session_state.pop(state.PLAY_FLASH, None)
if flash:
    st.success(flash, icon="✅")

names = [p.name for p in summaries]
top_left, top_right = st.columns([3, 1])
name = top_left.selectbox("Prompt", names, key=state.PLAY_PROMPT)
count = top_right.number_input(
    "Columns", min_value=MIN_COLUMNS, max_value=MAX_COLUMNS, value=2, key=state.PLAY_COLUMNS
)
history = [v for v in prompts.prompt_history(name, workspace=ws) if not v.deleted]
tags = [f"v{v.number}" for v in reversed(history)]
by_tag = {f"v{v.number}": v for v in history}
latest = prompts.get_prompt(name, ref=tags[0], workspace=ws)

st.subheader("Inputs")
inputs: dict[str, str] = {}
for variable in latest.variables:
    sample = latest.samples.get(variable, "")
    inputs[variable] = st.text_area(
        variable, value=str(sample), key=state.play_input(variable), height=90
    )

columns: list[PlaygroundColumn] = []
grid = st.columns(int(count))
for i, box in enumerate(grid):
    with box:
        version_key = state.play_column("version", i)
        picked = st.session_state.pop(state.play_column("pick", i), None)
        if picked in tags:  # a version just saved from this column
            st.session_state[version_key] = picked
        if st.session_state.get(version_key) not in tags:
            st.session_state[version_key] = tags[min(i, len(tags) - 1)]
        tag = st.selectbox("Version", tags, key=version_key)
        model = single_model_picker(ws, "Model", key=state.play_column("model", i))
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
                message = st.text_input(
                    "Save message",
                    key=state.play_column("save_message", i),
                    placeholder="What changed",
                )
                if st.button("Save as new version", key=state.play_column("save", i)):
                    try:
                        version = prompts.save_prompt(
                            name, text, message or f"Edit {name} in the playground",
                            base=by_tag[tag].sha, workspace=ws,
                        )  # fmt: skip
                    except ConflictError:
                        st.error(
                            f"{name} changed since {tag}; pick the latest version and redo the edit."
                        )
                    except PromptyardError as exc:
                        st.error(str(exc))
                    else:
                        st.session_state[state.PLAY_FLASH] = f"Saved {name} v{version.number}."
                        st.session_state[state.play_column("pick", i)] = f"v{version.number}"
                        st.rerun()
        columns.append(
            PlaygroundColumn(prompt=name, model=model, ref=tag, text=text if edited else None)
        )

guardrails = guardrail_picker(ws, state.PLAY_GUARDRAILS)
if st.button("Run all", type="primary", key="playground.run"):
    try:
        st.session_state[state.PLAY_SESSION] = start_playground(
            ws, columns, inputs, guardrails=guardrails
        )
    except PlanError as exc:
        st.error("Nothing was sent:")
        st.text("\n".join(exc.problems))
    except PromptyardError as exc:
        st.error(str(exc))


def _numbers(out: object) -> str:
    parts = []
    pt, ct = getattr(out, "prompt_tokens", None), getattr(out, "completion_tokens", None)
    if pt is not None or ct is not None:
        parts.append(f"{pt or 0} → {ct or 0} tokens")
    cost = getattr(out, "cost_usd", None)
    parts.append("cost unknown" if cost is None else f"${cost:.6f}")
    latency = getattr(out, "latency_ms", None)
    if latency is not None:
        parts.append(f"{latency:,.0f} ms")
    ttft = getattr(out, "ttft_ms", None)
    if ttft is not None:
        parts.append(f"first token {ttft:,.0f} ms")
    return " · ".join(parts)


session_id = st.session_state.get(state.PLAY_SESSION)
snapshot = playground_snapshot(session_id) if session_id else None
if snapshot is not None:

    @st.fragment(run_every=0.3 if not snapshot.finished else None)
    def outputs() -> None:
        snap = playground_snapshot(str(session_id))
        if snap is None:
            return
        boxes = st.columns(len(snap.columns))
        for box, out in zip(boxes, snap.columns, strict=True):
            with box:
                simulated = " · simulated" if out.simulated else ""
                st.markdown(f"**{escape_markdown(out.label)}**{simulated}")
                if out.error_kind:
                    st.error(escape_markdown(f"{out.error_kind}: {out.error_message or ''}"))
                st.text(out.text or ("…" if not out.done else "(no output)"))
                if out.done:
                    st.caption(_numbers(out))
                if getattr(out, "guardrail", None):
                    st.caption(f"🛡️ {escape_markdown(out.guardrail)}")
        if snap.finished and not snapshot.finished:
            st.rerun()  # every column is done: stop polling

    outputs()
