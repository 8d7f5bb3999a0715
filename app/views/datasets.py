"""Datasets: list, browse (paginated, editable), import, history and changes, fit to a prompt."""

from __future__ import annotations

import pandas as pd
import state
import streamlit as st
from components.context import workspace
from components.dataset_feedback import apply_pending, done, show_flash, version_summary
from components.dataset_history import history_view
from components.dataset_import import NO_REFERENCE, import_view
from components.dataset_picker import (
    LATEST,
    history_cached,
    list_cached,
    load_cached,
    page_cached,
    version_text,
)
from components.signin import may, may_or_say

from promptyard import datasets
from promptyard.datasets import DatasetVersion, RowsPage, SliceSpec
from promptyard.errors import PromptyardError
from promptyard.team import Permission

VIEWS = {"rows": "Rows", "import": "Import", "history": "History", "fit": "Fit to a prompt"}
PAGE_SIZES = [50, 100, 250, 500]

ws = workspace()
st.title("🗂️ Datasets")

apply_pending()


# --- the list -------------------------------------------------------------------------


def _dataset_list() -> str | None:
    infos = list_cached(ws)
    if not infos:
        st.info("No datasets yet. Import a CSV, JSONL or JSON file below, or paste rows.")
        return None
    table = pd.DataFrame(
        [
            {
                "dataset": info.name,
                "rows": info.rows,
                "version": info.version.ref if info.version else "unsaved",
                "labels": ", ".join(info.version.labels) if info.version else "",
                "columns": ", ".join(c for c in info.columns if c != "id"),
                "reference": info.reference or "",
            }
            for info in infos
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch")
    names = [info.name for info in infos]
    if st.session_state.get(state.DATASET_SELECTED) not in names:
        st.session_state[state.DATASET_SELECTED] = names[0]
    return st.selectbox("Dataset", names, key=state.DATASET_SELECTED)


# --- rows -----------------------------------------------------------------------------


def _pick_version(name: str) -> tuple[str | None, list[DatasetVersion]]:
    versions = list(reversed(history_cached(ws, name)))
    by_sha = {v.sha: v for v in versions}
    if st.session_state.get(state.DATASET_REF) not in (LATEST, *by_sha):
        st.session_state[state.DATASET_REF] = LATEST
    chosen = st.selectbox(
        "Version",
        [LATEST, *by_sha],
        format_func=lambda sha: "latest" if sha == LATEST else version_text(by_sha[sha]),
        key=state.DATASET_REF,
    )
    return (None if chosen == LATEST else chosen), versions


def _rows_view(name: str) -> None:
    top = st.columns([3, 4, 1.4, 1.4])
    with top[0]:
        sha, _ = _pick_version(name)
    with top[1]:
        filter_text = st.text_input(
            "Filter rows",
            key=state.DATASET_FILTER,
            placeholder="category == billing and message contains refund",
            help="COLUMN OP VALUE joined by and/or; OP: == != < <= > >= contains, "
            "not contains, startswith, is empty, is not empty",
        ).strip()
    with top[2]:
        size = st.selectbox("Rows per page", PAGE_SIZES, index=1, key=state.DATASET_PAGE_SIZE)
    requested = max(1, int(st.session_state.get(state.DATASET_PAGE, 1)))
    try:
        if filter_text:
            dataset = load_cached(ws, name, sha)
            matched = datasets.select_rows(dataset, SliceSpec("filter", filter_expr=filter_text))
            pages = max(1, -(-len(matched) // size))
            first = (min(requested, pages) - 1) * size
            view = RowsPage(
                name,
                matched[first : first + size],
                first,
                len(matched),
                dataset.columns,
                dataset.version,
                dataset.reference,
            )
            of_all = f" matching the filter (of {len(dataset):,})"
        else:
            view = page_cached(ws, name, sha, (requested - 1) * size, size)
            pages = max(1, -(-view.total // size))
            if requested > pages:
                view = page_cached(ws, name, sha, 0, size)
            of_all = ""
    except PromptyardError as exc:
        st.error(str(exc))
        return
    if requested > pages:
        st.session_state[state.DATASET_PAGE] = 1
    with top[3]:
        page = int(
            st.number_input(f"Page (of {pages:,})", 1, pages, step=1, key=state.DATASET_PAGE)
        )
    shown = view.rows
    st.caption(
        f"Rows {view.start + 1 if shown else 0:,}–{view.start + len(shown):,} of "
        f"{view.total:,}{of_all}"
        + (f" · reference column: {view.reference}" if view.reference else "")
    )
    frame = pd.DataFrame(
        datasets.for_editor(shown, datasets.json_columns(shown)), columns=view.columns
    )
    if sha is not None or not may_or_say(Permission.EDIT_DATASETS, "edit datasets"):
        st.dataframe(frame, hide_index=True, width="stretch")
        if sha is not None:
            st.caption("An old version is read-only; restore it from the History view to edit it.")
        return
    _editor(name, view.version, frame, [row["id"] for row in shown], page, filter_text)


def _editor(
    name: str,
    version: DatasetVersion | None,
    frame: pd.DataFrame,
    shown_ids: list[str],
    page: int,
    filt: str,
) -> None:
    key = state.dataset_editor_key(name, version.sha if version else None, page, filt)
    edited = st.data_editor(
        frame,
        key=key,
        num_rows="dynamic",
        disabled=["id"],
        hide_index=True,
        width="stretch",
    )
    changes = st.session_state.get(key) or {}
    dirty = any(changes.get(part) for part in ("edited_rows", "added_rows", "deleted_rows"))
    cols = st.columns([4, 1])
    message = cols[0].text_input(
        "Version message",
        key=state.DATASET_EDIT_MESSAGE,
        placeholder="What changed (e.g. Fix the expected answer of row 12)",
        disabled=not dirty,
    )
    cols[1].write("")
    if cols[1].button("Save version", type="primary", disabled=not dirty, key="datasets.save"):
        if not message.strip():
            st.error("Write a version message first.")
            return
        records = edited.to_dict("records")
        try:
            saved = datasets.save_edits(
                ws, name, shown_ids, records, message, base=version.sha if version else None
            )
        except PromptyardError as exc:
            st.error(str(exc))
            return
        st.session_state.pop(key, None)
        done(f"Saved {version_summary(saved)}.", **{state.DATASET_EDIT_MESSAGE: ""})


# --- fit ------------------------------------------------------------------------------


def _fit_view(name: str) -> None:
    from promptyard import prompts

    try:
        dataset = load_cached(ws, name)
    except PromptyardError as exc:
        st.error(str(exc))
        return
    names = [p.name for p in prompts.list_prompts(ws) if not p.error]
    if names:
        prompt_name = st.selectbox("Prompt", names, key=state.DATASET_FIT_PROMPT)
        try:
            fit = datasets.check_fit(dataset, prompts.get_prompt(prompt_name, workspace=ws))
        except PromptyardError as exc:
            st.error(str(exc))
            return
        cols = st.columns(3)
        with cols[0]:
            st.markdown("**Provided**")
            for variable in fit.provided:
                st.markdown(f"✅ `{variable}`")
        with cols[1]:
            st.markdown("**Missing**")
            for variable in fit.missing:
                st.markdown(f"❌ `{variable}`")
            if not fit.missing:
                st.caption("none: every variable has a column")
        with cols[2]:
            st.markdown("**Unused columns**")
            for column in fit.extra:
                st.markdown(f"· `{column}`")
        if fit.missing:
            st.warning(
                f"{name} has no column for {', '.join(fit.missing)}: a run of {prompt_name} "
                "on it would be refused."
            )
    else:
        st.info("No prompts to check against yet.")
    st.subheader("Reference column")
    choices = [NO_REFERENCE, *[c for c in dataset.columns if c != "id"]]
    current = dataset.reference if dataset.reference in choices else NO_REFERENCE
    chosen = st.selectbox(
        "The expected output, for scoring later",
        choices,
        index=choices.index(current),
        key=f"{state.DATASET_REFERENCE}::{name}",
    )
    if (
        chosen != current
        and may(Permission.EDIT_DATASETS)
        and st.button("Save reference column", key="datasets.set_reference")
    ):
        try:
            datasets.set_reference(ws, name, None if chosen == NO_REFERENCE else chosen)
        except PromptyardError as exc:
            st.error(str(exc))
            return
        done(f"{name}: reference column {chosen}.")


# --- the page -------------------------------------------------------------------------

show_flash()
selected = _dataset_list()
if selected is None:
    import_view(ws, [])
else:
    view = st.radio(
        "View",
        list(VIEWS),
        format_func=VIEWS.__getitem__,
        horizontal=True,
        key=state.DATASET_VIEW,
        label_visibility="collapsed",
    )
    if view == "rows":
        _rows_view(selected)
    elif view == "import":
        import_view(ws, [info.name for info in list_cached(ws)])
    elif view == "history":
        history_view(ws, selected)
    else:
        _fit_view(selected)
