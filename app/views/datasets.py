"""Datasets: list, browse (paginated, editable), import, history and changes, fit to a prompt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import state
import streamlit as st
from components.context import workspace
from components.dataset_picker import (
    history_cached,
    list_cached,
    load_cached,
    page_cached,
    version_text,
)

from promptyard import datasets
from promptyard.datasets import DatasetVersion, RowsPage, SliceSpec
from promptyard.errors import PromptyardError
from promptyard.workspace import Workspace

VIEWS = {"rows": "Rows", "import": "Import", "history": "History", "fit": "Fit to a prompt"}
PAGE_SIZES = [50, 100, 250, 500]
NO_ID = "(generate ids)"
NO_REFERENCE = "(none)"
LATEST = "latest"

ws = workspace()
st.title("🗂️ Datasets")

# A choice made by the last run (after an import or a save) lands before the widgets exist.
pending = st.session_state.pop(state.DATASET_PENDING, None)
if pending:
    for key, value in pending.items():
        st.session_state[key] = value


def _flash() -> None:
    message = st.session_state.pop(state.DATASET_FLASH, None)
    if message:
        st.success(message, icon="✅")


def _done(message: str, **choices: Any) -> None:
    st.session_state[state.DATASET_FLASH] = message
    st.session_state[state.DATASET_PENDING] = choices
    st.rerun()


def _version_summary(version: DatasetVersion) -> str:
    change = f"; {version.change.summary()}" if version.change is not None else ""
    return f"{version.name} {version.ref} ({version.rows:,} rows{change})"


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
    if sha is not None:
        st.dataframe(frame, hide_index=True, width="stretch")
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
        _done(f"Saved {_version_summary(saved)}.", **{state.DATASET_EDIT_MESSAGE: ""})


# --- import ---------------------------------------------------------------------------


@st.cache_resource(max_entries=2, show_spinner="Reading the file…")
def _preview(root: str, data: bytes | str, filename: str | None) -> datasets.ParsedTable:
    """The parsed upload, kept while the import form is filled in (one parse per file)."""
    return datasets.preview_import(Workspace(Path(root)), data, filename)


def _import_view(existing: list[str]) -> None:
    source = st.radio(
        "From",
        ["upload", "paste"],
        format_func={"upload": "A file (CSV, TSV, JSONL, JSON)", "paste": "Pasted text"}.get,
        horizontal=True,
        key=state.DATASET_IMPORT_SOURCE,
    )
    data: bytes | str | None = None
    filename: str | None = None
    if source == "upload":
        upload = st.file_uploader(
            "Dataset file",
            type=["csv", "tsv", "txt", "jsonl", "ndjson", "json"],
            key=state.DATASET_IMPORT_FILE,
            help=f"Up to {ws.settings.max_upload_mb} MB. CSV needs a header row.",
        )
        if upload is not None:
            data, filename = upload.getvalue(), upload.name
    else:
        text = st.text_area(
            "Rows",
            key=state.DATASET_IMPORT_TEXT,
            height=180,
            placeholder="Paste CSV or TSV with a header row, JSON Lines, or a JSON array",
        )
        if text.strip():
            data = text
    if data is None:
        return
    try:
        table = _preview(str(ws.root), data, filename)
    except PromptyardError as exc:
        st.error(str(exc))
        return
    source_id = f"{filename or 'pasted'}:{len(table.rows)}:{','.join(table.columns)}"
    delimiter = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}.get(
        table.delimiter or "", ""
    )
    st.caption(
        f"{len(table.rows):,} rows · {len(table.columns)} columns · {table.format.upper()}"
        + (f" ({delimiter}-separated)" if delimiter else "")
    )
    st.dataframe(pd.DataFrame(table.rows[:20], columns=table.columns), hide_index=True)
    default_name = Path(filename).stem if filename else ""
    cols = st.columns(2)
    name = (
        cols[0]
        .text_input(
            "Dataset name",
            key=state.DATASET_IMPORT_NAME,
            placeholder=default_name or "e.g. support_tickets",
            help="Letters, digits, '_', '-' and '.'; it becomes datasets/NAME.jsonl",
        )
        .strip()
        or default_name
    )
    keep = cols[1].multiselect(
        "Columns to keep",
        table.columns,
        default=table.columns,
        key=state.dataset_import_key(state.DATASET_IMPORT_COLUMNS, source_id),
    )
    id_choices = [NO_ID, *table.columns]
    id_column = cols[0].selectbox(
        "Id column",
        id_choices,
        index=id_choices.index("id") if "id" in table.columns else 0,
        key=state.dataset_import_key(state.DATASET_IMPORT_ID, source_id),
        help="Without one, each row gets an id made from its content; re-importing the "
        "same data keeps the ids of unchanged rows.",
    )
    ref_choices = [NO_REFERENCE, *table.columns]
    guess = next((c for c in datasets.REFERENCE_GUESSES if c in table.columns), NO_REFERENCE)
    reference = cols[1].selectbox(
        "Reference column (expected output)",
        ref_choices,
        index=ref_choices.index(guess),
        key=state.dataset_import_key(state.DATASET_IMPORT_REFERENCE, source_id),
    )
    if name in existing:
        st.info(f"{name} exists: this import becomes its next version.", icon="ℹ️")
    message = st.text_input(
        "Version message", key=state.DATASET_IMPORT_MESSAGE, placeholder="Import …"
    )
    if st.button("Import", type="primary", key="datasets.import", disabled=not name):
        chosen_id = None if id_column == NO_ID else id_column
        try:
            version = datasets.import_dataset(
                ws,
                name,
                data,
                filename,
                columns=keep if keep != table.columns else None,
                id_column=chosen_id,
                reference=None if reference == NO_REFERENCE else reference,
                message=message.strip() or None,
            )
        except PromptyardError as exc:
            st.error(str(exc))
            return
        _done(
            f"Imported {filename or 'pasted rows'} as {_version_summary(version)}.",
            **{
                state.DATASET_SELECTED: name,
                state.DATASET_VIEW: "rows",
                state.DATASET_REF: LATEST,
                state.DATASET_PAGE: 1,
                state.DATASET_FILTER: "",
                state.DATASET_IMPORT_NAME: "",
                state.DATASET_IMPORT_MESSAGE: "",
                state.DATASET_IMPORT_TEXT: "",
            },
        )


# --- history --------------------------------------------------------------------------


def _history_view(name: str) -> None:
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
        _compare(name, ref_a, ref_b, {v.ref: v.sha for v in versions})
    st.subheader("Labels and restore")
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
        _done(f"Label {label.strip()} now points at {name} {label_ref}.")
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
        _done(f"Restored {restore_ref}: {_version_summary(saved)}.")


def _compare(name: str, ref_a: str, ref_b: str, shas: dict[str, str]) -> None:
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
    if chosen != current and st.button("Save reference column", key="datasets.set_reference"):
        try:
            datasets.set_reference(ws, name, None if chosen == NO_REFERENCE else chosen)
        except PromptyardError as exc:
            st.error(str(exc))
            return
        _done(f"{name}: reference column {chosen}.")


# --- the page -------------------------------------------------------------------------

_flash()
selected = _dataset_list()
if selected is None:
    _import_view([])
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
        _import_view([info.name for info in list_cached(ws)])
    elif view == "history":
        _history_view(selected)
    else:
        _fit_view(selected)
