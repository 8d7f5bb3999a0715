""" "Add to dataset": the selected traces become rows of a new or an existing dataset."""

from __future__ import annotations

import state
import streamlit as st

from components.signin import may
from promptyard import datasets, traces
from promptyard.errors import PromptyardError
from promptyard.team import Permission
from promptyard.traces import SpanRow
from promptyard.workspace import Workspace

TARGETS = {"new": "New dataset", "existing": "Existing dataset"}


def add_to_dataset(ws: Workspace, selected: list[SpanRow]) -> None:
    """The popover (none for a role that may not edit datasets); on success a flash
    message names the version made."""
    if not may(Permission.EDIT_DATASETS):
        return
    n = len(selected)
    label = f"➕ Add {n} to a dataset" if n else "➕ Add to a dataset"
    with st.popover(label, disabled=not n, help="Select rows in the list first"):
        st.caption(
            "Each span becomes a row: its prompt variables are the columns, "
            "its trace id is kept beside them."
        )
        target = st.segmented_control(
            "Into",
            list(TARGETS),
            format_func=TARGETS.get,
            default="new",
            key=state.TRACES_DS_TARGET,
        )
        names = [info.name for info in datasets.list_datasets(ws)]
        if target == "existing" and names:
            name = st.selectbox("Dataset", names, key=state.TRACES_DS_EXISTING)
        elif target == "existing":
            st.info("There are no datasets yet: make a new one.")
            return
        else:
            name = st.text_input(
                "Dataset name", key=state.TRACES_DS_NEW, placeholder="e.g. production_cases"
            ).strip()
        reference = st.checkbox(
            "Use the production output as the reference",
            key=state.TRACES_DS_REFERENCE,
            help="The answer given in production becomes the expected output",
        )
        if st.button("Add rows", type="primary", key="traces.ds_add", disabled=not name):
            try:
                added = traces.traces_to_dataset(
                    ws,
                    name,
                    span_ids=[r.id for r in selected],
                    reference_from_output=reference,
                    must_be_new=target == "new",
                )
            except PromptyardError as exc:
                st.error(str(exc))
                return
            st.session_state[state.TRACES_FLASH] = added.summary() + "."
            st.rerun()
