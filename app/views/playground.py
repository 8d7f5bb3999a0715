"""Playground: one set of inputs, 2 to 6 columns (a version or an edit, a model and its
parameters), streamed side by side with tokens, cost and latency; in chat mode each column
keeps its own conversation. An edit can be saved as a new version, a call as a run, the
inputs as a dataset row."""

from __future__ import annotations

import state
import streamlit as st
from components.context import workspace
from components.guardrails import guardrail_picker
from components.playground_column import column_setup, reset_columns
from components.playground_outputs import add_to_dataset, outputs

from promptyard import guardrails as guardrail_policies
from promptyard import prompts
from promptyard.errors import PromptyardError
from promptyard.runs import (
    MAX_COLUMNS,
    MIN_COLUMNS,
    PlanError,
    PlaygroundColumn,
    PlaygroundSnapshot,
    playground_snapshot,
    start_playground,
)

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
top_left, top_mid, top_right = st.columns([3, 2, 1])
name = top_left.selectbox("Prompt", names, key=state.PLAY_PROMPT)
mode = top_mid.segmented_control(
    "Mode",
    ["Compare", "Chat"],
    default="Compare",
    key=state.PLAY_MODE,
    help="Compare: one answer per column. Chat: a conversation per column, each turn sent "
    "to every model.",
)
chat = mode == "Chat"
count = int(
    top_right.number_input(
        "Columns", min_value=MIN_COLUMNS, max_value=MAX_COLUMNS, value=2, key=state.PLAY_COLUMNS
    )
)
history = [v for v in prompts.prompt_history(name, workspace=ws) if not v.deleted]
tags = [f"v{v.number}" for v in reversed(history)]
shas = {f"v{v.number}": v.sha for v in history}
if st.session_state.get(state.PLAY_FOR) != name:
    # A switched prompt: every column starts at its newest version, with no old answers.
    reset_columns(MAX_COLUMNS, tags[0])
    st.session_state[state.PLAY_FOR] = name
    st.session_state.pop(state.PLAY_SESSION, None)
latest = prompts.get_prompt(name, ref=tags[0], workspace=ws)

st.subheader("Inputs")
inputs: dict[str, str] = {}
for variable in latest.variables:
    sample = latest.samples.get(variable, "")
    inputs[variable] = st.text_area(
        variable, value=str(sample), key=state.play_input(variable), height=90
    )
add_to_dataset(ws, inputs)

columns: list[PlaygroundColumn] = []
problems: list[str] = []
for i, box in enumerate(st.columns(count)):
    with box:
        column = column_setup(ws, name, tags, shas, i)
    if isinstance(column, str):
        problems.append(column)
    else:
        columns.append(column)
for problem in problems:
    st.error(problem)


def _last() -> tuple[str | None, PlaygroundSnapshot | None]:
    sid = st.session_state.get(state.PLAY_SESSION)
    return sid, (playground_snapshot(sid) if sid else None)


session_id, snapshot = _last()


def _start(message: str | None) -> None:
    turns = []
    if message is not None and snapshot is not None and snapshot.message is not None:
        turns = [c.turns for c in snapshot.columns]  # the conversations so far
    sent = [
        PlaygroundColumn(**{**vars(c), "history": tuple(turns[i]) if i < len(turns) else ()})
        for i, c in enumerate(columns)
    ]
    try:
        st.session_state[state.PLAY_SESSION] = start_playground(
            ws, sent, inputs, message=message, guardrails=guardrails, policies=policies
        )
    except PlanError as exc:
        st.error("Nothing was sent:")
        st.text("\n".join(exc.problems))
    except PromptyardError as exc:
        st.error(str(exc))


# guardrails.yaml read once per script run: the picker lists it, the call goes through it.
policies = guardrail_policies.load_policies(ws)
guardrails = guardrail_picker(ws, state.PLAY_GUARDRAILS, policies)
busy = snapshot is not None and not snapshot.finished
if chat:
    st.caption("Each message goes to every column, after that column's prompt and turns.")
    if st.button("New conversation", key="playground.new_chat"):
        st.session_state.pop(state.PLAY_SESSION, None)
        st.rerun()
    message = st.chat_input(
        "Message every column", key=state.PLAY_CHAT, disabled=busy or bool(problems)
    )
    if message:
        _start(message)
elif st.button("Run all", type="primary", key="playground.run", disabled=bool(problems)):
    _start(None)

session_id, snapshot = _last()  # the call just started, drawn in this same run
if snapshot is not None and (snapshot.message is not None) == chat:
    outputs(ws, str(session_id), chat)
elif chat:
    st.info("Send a message to start a conversation in every column.")
