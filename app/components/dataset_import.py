"""The Datasets page's import view: upload or paste, preview, choose columns, import."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import state
import streamlit as st

from components.dataset_feedback import done, version_summary
from components.dataset_picker import LATEST
from components.signin import may_or_say
from promptyard import datasets
from promptyard.errors import PromptyardError
from promptyard.team import Permission
from promptyard.workspace import Workspace

NO_ID = "(generate ids)"
NO_REFERENCE = "(none)"


@st.cache_resource(max_entries=2, show_spinner="Reading the file…")
def _preview(root: str, data: bytes | str, filename: str | None) -> datasets.ParsedTable:
    """The parsed upload, kept while the import form is filled in (one parse per file)."""
    return datasets.preview_import(Workspace(Path(root)), data, filename)


def import_view(ws: Workspace, existing: list[str]) -> None:
    """Import a file or pasted rows as a new dataset, or the next version of one in `existing`."""
    if not may_or_say(Permission.EDIT_DATASETS, "import datasets"):
        return
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
        done(
            f"Imported {filename or 'pasted rows'} as {version_summary(version)}.",
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
