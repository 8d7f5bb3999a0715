"""The Datasets page's history view: versions and their changes, compare, label, restore."""

from __future__ import annotations

import pandas as pd
import state
import streamlit as st

from components.dataset_feedback import done, version_summary
from components.dataset_picker import history_cached, load_cached
from components.signin import may_or_say
from promptyard import datasets
from promptyard.errors import PromptyardError
from promptyard.team import Permission
from promptyard.workspace import Workspace


def history_view(ws: Workspace, name: str) -> None:
    """Every version of dataset `name` with its change; compare two, set a label, restore."""
    try:
        versions = history_cached(ws, name, changes=True)
    except PromptyardError as exc:
        st.error(str(exc))
        return
    if not versions:
        st.info("This dataset has no saved versions yet.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "version": v.ref,
                    "sha": v.short_sha,
                    "date": v.date.strftime("%Y-%m-%d %H:%M") if v.date else "",
                    "author": v.author,
                    "message": v.message,
                    "rows": v.rows,
                    "change": "deleted"
                    if v.deleted
                    else (v.change.summary() if v.change else "first version"),
                    "labels": ", ".join(v.labels),
                }
                for v in reversed(versions)
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    refs = [v.ref for v in reversed(versions) if not v.deleted]
    if len(refs) >= 2:
        st.subheader("Compare two versions")
        cols = st.columns(2)
        ref_a = cols[0].selectbox("From", refs, index=1, key=state.DATASET_DIFF_A)
        ref_b = cols[1].selectbox("To", refs, index=0, key=state.DATASET_DIFF_B)
        _compare(ws, name, ref_a, ref_b, {v.ref: v.sha for v in versions})
    st.subheader("Labels and restore")
    if not may_or_say(Permission.EDIT_DATASETS, "label or restore datasets"):
        return
    cols = st.columns([2, 2, 1])
    label_ref = cols[0].selectbox("Version", refs, key=state.DATASET_LABEL_REF)
    label = cols[1].text_input("Label", key=state.DATASET_LABEL_NAME, placeholder="golden")
    cols[2].write("")
    if cols[2].button("Set label", key="datasets.set_label", disabled=not label.strip()):
        try:
            datasets.set_dataset_label(ws, name, label_ref, label.strip())
        except PromptyardError as exc:
            st.error(str(exc))
            return
        done(f"Label {label.strip()} now points at {name} {label_ref}.")
    cols = st.columns([4, 1])
    restore_ref = cols[0].selectbox(
        "Restore version", refs[1:] or refs, key=state.DATASET_RESTORE_REF
    )
    cols[1].write("")
    if cols[1].button("Restore", key="datasets.restore", disabled=len(refs) < 2):
        try:
            saved = datasets.restore_dataset(ws, name, restore_ref)
        except PromptyardError as exc:
            st.error(str(exc))
            return
        done(f"Restored {restore_ref}: {version_summary(saved)}.")


def _compare(ws: Workspace, name: str, ref_a: str, ref_b: str, shas: dict[str, str]) -> None:
    try:
        old = load_cached(ws, name, shas[ref_a])
        new = load_cached(ws, name, shas[ref_b])
    except PromptyardError as exc:
        st.error(str(exc))
        return
    change = datasets.changes_between(old.rows, new.rows)
    cols = st.columns(3)
    cols[0].metric("Added", len(change.added))
    cols[1].metric("Removed", len(change.removed))
    cols[2].metric("Changed", len(change.changed))
    for title, ids, source in (
        ("Added rows", change.added, new),
        ("Removed rows", change.removed, old),
        ("Changed rows (as in the newer version)", change.changed, new),
    ):
        if ids:
            wanted = set(ids[:200])
            with st.expander(f"{title} ({len(ids):,})"):
                picked = [row for row in source.rows if row["id"] in wanted]
                frame = datasets.for_editor(picked, datasets.json_columns(picked))
                st.dataframe(pd.DataFrame(frame), hide_index=True)
