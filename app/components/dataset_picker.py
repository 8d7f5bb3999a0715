"""Pick a dataset, a version of it, and a slice of its rows; plus the app's dataset cache.

Pages call `load_cached` instead of `datasets.load_dataset`: a parsed dataset is kept per
(file, version) in `st.cache_resource` (not copied on every hit, which matters at
100,000 rows), so paging through rows never parses the file again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import state
import streamlit as st

from promptyard import datasets
from promptyard.datasets import Dataset, DatasetInfo, DatasetVersion, RowsPage, SliceSpec
from promptyard.errors import PromptyardError
from promptyard.workspace import Workspace

LATEST = "latest"
SLICE_LABELS = {
    "all": "All rows",
    "head": "First N",
    "random": "Random N",
    "filter": "Filter",
}


@st.cache_resource(max_entries=8, show_spinner="Loading the dataset…")
def _load(root: str, name: str, sha: str | None, stamp: tuple[int, int]) -> Dataset:
    return datasets.load_dataset(Workspace(Path(root)), name, sha)


@st.cache_resource(max_entries=32, show_spinner=False)
def _page(
    root: str, name: str, sha: str | None, stamp: tuple[int, int], start: int, size: int
) -> RowsPage:
    return datasets.read_page(Workspace(Path(root)), name, start, size, sha)


def page_cached(ws: Workspace, name: str, sha: str | None, start: int, size: int) -> RowsPage:
    """One page of rows (parsing only those lines), kept per file version and page."""
    return _page(str(ws.root), name, sha, (0, 0) if sha else _stamp(ws, name), start, size)


@st.cache_resource(max_entries=16, show_spinner=False)
def _history(root: str, name: str, stamp: tuple[int, int], changes: bool) -> list[DatasetVersion]:
    return datasets.dataset_history(Workspace(Path(root)), name, changes=changes)


@st.cache_resource(max_entries=4, show_spinner=False)
def _list(root: str, stamp: tuple[tuple[str, int, int], ...]) -> list[DatasetInfo]:
    return datasets.list_datasets(Workspace(Path(root)))


def list_cached(ws: Workspace) -> list[DatasetInfo]:
    """`datasets.list_datasets`, read again only when a dataset file or a label changed."""
    files = sorted(ws.datasets_dir.glob("*.json*")) if ws.datasets_dir.is_dir() else []
    stamp = []
    for path in [*files, ws.labels_file]:
        try:
            info = path.stat()
        except OSError:
            continue
        stamp.append((path.name, info.st_mtime_ns, info.st_size))
    return _list(str(ws.root), tuple(stamp))


def _stamp(ws: Workspace, name: str) -> tuple[int, int]:
    try:
        info = (ws.root / datasets.dataset_path(name)).stat()
    except OSError:
        return (0, 0)
    return (info.st_mtime_ns, info.st_size)


def load_cached(ws: Workspace, name: str, sha: str | None = None) -> Dataset:
    """Dataset `name` at version `sha` (None: the current file), parsed once per version."""
    return _load(str(ws.root), name, sha, (0, 0) if sha else _stamp(ws, name))


def history_cached(ws: Workspace, name: str, changes: bool = False) -> list[DatasetVersion]:
    """The versions of `name`, oldest first; recomputed only when the file changes."""
    return _history(str(ws.root), name, _stamp(ws, name), changes)


def version_text(version: DatasetVersion) -> str:
    labels = f" [{', '.join(version.labels)}]" if version.labels else ""
    return f"{version.ref} · {version.short_sha} · {version.message[:48]}{labels}"


@dataclass(frozen=True)
class DatasetPick:
    """What the picker chose: a dataset, a version (None = latest) and a slice."""

    name: str
    ref: str | None
    slice: SliceSpec
    rows: int  # how many rows the slice picks

    @property
    def spec(self) -> str:
        """`NAME@REF` (or `NAME`) as the CLI and the engine read it."""
        return f"{self.name}@{self.ref}" if self.ref else self.name


def dataset_picker(ws: Workspace, key: str, *, with_slice: bool = True) -> DatasetPick | None:
    """Selectboxes for dataset and version, and (with `with_slice`) slice widgets.

    `key` keeps two pickers on one page apart (e.g. "runs"). Returns None when there is
    no dataset or the slice is invalid (the error is shown under the widgets).
    """
    names = [info.name for info in list_cached(ws)]
    if not names:
        st.info("No datasets yet: import one on the Datasets page.")
        return None
    name = st.selectbox("Dataset", names, key=state.dataset_pick_key(key, "name"))
    if name is None:
        return None
    versions = list(reversed(history_cached(ws, name)))
    by_sha = {v.sha: v for v in versions}
    ref = st.selectbox(
        "Version",
        [LATEST, *by_sha],
        format_func=lambda sha: "latest" if sha == LATEST else version_text(by_sha[sha]),
        key=state.dataset_pick_key(key, "ref"),
    )
    chosen_ref = None if ref in (None, LATEST) else by_sha[ref].ref
    try:
        dataset = load_cached(ws, name, None if chosen_ref is None else ref)
    except PromptyardError as exc:
        st.error(str(exc))
        return None
    if not with_slice:
        return DatasetPick(name, chosen_ref, SliceSpec(), len(dataset))
    kind = st.radio(
        "Rows",
        list(SLICE_LABELS),
        format_func=SLICE_LABELS.__getitem__,
        horizontal=True,
        key=state.dataset_pick_key(key, "slice_kind"),
    )
    try:
        if kind in ("head", "random"):
            n = st.number_input(
                "N rows",
                min_value=1,
                value=min(10, len(dataset)) or 1,
                step=1,
                key=state.dataset_pick_key(key, "slice_n"),
            )
            seed = 0
            if kind == "random":
                seed = st.number_input(
                    "Seed",
                    min_value=0,
                    value=0,
                    step=1,
                    key=state.dataset_pick_key(key, "slice_seed"),
                )
            spec = SliceSpec(kind, n=int(n), seed=int(seed))
        elif kind == "filter":
            expr = st.text_input(
                "Filter",
                placeholder="category == billing and message contains refund",
                help="COLUMN OP VALUE joined by and/or; OP: == != < <= > >= contains, "
                "not contains, startswith, is empty, is not empty",
                key=state.dataset_pick_key(key, "slice_filter"),
            )
            if not expr.strip():
                st.caption("Type a filter expression.")
                return None
            spec = SliceSpec("filter", filter_expr=expr)
        else:
            spec = SliceSpec()
        count = len(datasets.select_rows(dataset, spec))
    except PromptyardError as exc:
        st.error(str(exc))
        return None
    st.caption(f"{count:,} of {len(dataset):,} rows")
    return DatasetPick(name, chosen_ref, spec, count)
