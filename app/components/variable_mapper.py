"""The New run form's Variables: where each prompt variable comes from, one row each."""

from __future__ import annotations

import state
import streamlit as st

from promptyard.errors import PromptyardError
from promptyard.runs import Source, VariableMapping
from promptyard.ui_support import run_variables
from promptyard.ui_support.run_variables import Choice, VariableNeed
from promptyard.workspace import Workspace

CONSTANT_LABEL = "a constant…"


def _short(value: object) -> str:
    text = str(value).replace("\n", " ")
    return text if len(text) <= 40 else text[:39] + "…"


def _options(need: VariableNeed) -> list[tuple[str, Choice]]:
    """The choices of one variable, the one a plan uses when nobody picks first."""
    options: list[tuple[str, Choice]] = []
    if need.has_column:
        options.append((f"column {need.variable}", Choice(Source.COLUMN, need.variable)))
    elif need.has_default:
        options.append(("the prompt's default", Choice(Source.DEFAULT)))
    if need.sample is not None:
        options.append((f"the prompt's example: {_short(need.sample)}", Choice(Source.SAMPLE)))
    if not options:
        options.append(("— missing —", Choice(Source.MISSING)))
    options.append((CONSTANT_LABEL, Choice(Source.CONSTANT)))
    options += [
        (f"column {c}", Choice(Source.MAPPED, c)) for c in need.columns if c != need.variable
    ]
    return options


def variable_mapper(
    ws: Workspace, specs: list[tuple[str, str | None]], dataset: tuple[str, str | None]
) -> VariableMapping | None:
    """A row per variable of the chosen prompts: its column, another column, the prompt's
    example or a constant. Returns the mapping, None when the prompts cannot be read."""
    try:
        needs = run_variables.variable_needs(ws, specs, dataset)
    except PromptyardError as exc:
        st.error(str(exc))
        return None
    if not needs:
        return VariableMapping()
    st.markdown("**Variables**")
    st.caption(
        "Each prompt variable comes from the dataset column of its name unless you pick "
        "another column, a constant or the prompt's own example."
    )
    choices: dict[str, Choice] = {}
    for need in needs:
        options = _options(need)
        by_label = dict(options)
        name_col, pick_col, value_col = st.columns([2, 3, 3], vertical_alignment="center")
        name_col.markdown(f"`{need.variable}`")
        label = pick_col.selectbox(
            f"Source of {need.variable}",
            list(by_label),
            key=state.runs_variable_key(dataset[0], need.variable),
            label_visibility="collapsed",
        )
        choice = by_label[label]
        if choice.kind is Source.CONSTANT:
            value = value_col.text_input(
                f"Value of {need.variable}",
                key=state.runs_constant_key(need.variable),
                placeholder="the same value for every row",
                label_visibility="collapsed",
            )
            choice = Choice(Source.CONSTANT, value)
        if choice.kind in (Source.MAPPED, Source.CONSTANT, Source.SAMPLE):
            choices[need.variable] = choice
    try:
        return run_variables.mapping_from_choices(choices)
    except PromptyardError as exc:
        st.error(str(exc))
        return None
