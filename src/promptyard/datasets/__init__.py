"""Datasets: import and parsing, stable row ids, edits, slices and the filter language.

`datasets/NAME.jsonl` in the workspace, versioned through the git store. Import (CSV,
JSONL, a JSON array, pasted text), validate, give every row a stable `id`, load any
version, summarize what changed between versions, check the fit to a prompt, and pick
slices of rows for runs.

The names are imported from their modules on first use (PEP 562): a run reads its rows
with `stream_dataset` without loading import, editing or saving (nor gitpython with them).
"""

import pkgutil
from typing import TYPE_CHECKING

from promptyard.lazy_names import lazy_face

_HOMES = {
    **dict.fromkeys(
        ["DatasetRows", "SlicedRows", "stream_dataset"], "promptyard.datasets.dataset_stream"
    ),
    **dict.fromkeys(["apply_edits", "for_editor", "json_columns"], "promptyard.datasets.edit"),
    **dict.fromkeys(["Fit", "check_fit", "select_rows"], "promptyard.datasets.fit"),
    **dict.fromkeys(["Change", "changes_between"], "promptyard.datasets.ids"),
    **dict.fromkeys(["import_dataset", "preview_import"], "promptyard.datasets.importing"),
    **dict.fromkeys(["detect_format", "parse_table"], "promptyard.datasets.io"),
    **dict.fromkeys(["dumps_jsonl", "loads_jsonl"], "promptyard.datasets.json_table"),
    **dict.fromkeys(["list_datasets", "load_dataset", "read_page"], "promptyard.datasets.loading"),
    **dict.fromkeys(
        [
            "REFERENCE_GUESSES",
            "Dataset",
            "DatasetInfo",
            "DatasetVersion",
            "RowsPage",
            "dataset_path",
        ],
        "promptyard.datasets.records",
    ),
    **dict.fromkeys(["save_dataset", "save_edits", "set_reference"], "promptyard.datasets.saving"),
    **dict.fromkeys(["SliceSpec", "compile_filter"], "promptyard.datasets.slicing"),
    **dict.fromkeys(
        [
            "ID",
            "DatasetError",
            "Format",
            "ParsedTable",
            "Row",
            "columns_of",
        ],
        "promptyard.datasets.table",
    ),
    **dict.fromkeys(
        [
            "compare_versions",
            "dataset_history",
            "delete_dataset",
            "restore_dataset",
            "set_dataset_label",
        ],
        "promptyard.datasets.versions",
    ),
}

if TYPE_CHECKING:
    from promptyard.datasets.dataset_stream import DatasetRows, SlicedRows, stream_dataset
    from promptyard.datasets.edit import apply_edits, for_editor, json_columns
    from promptyard.datasets.fit import Fit, check_fit, select_rows
    from promptyard.datasets.ids import Change, changes_between
    from promptyard.datasets.importing import import_dataset, preview_import
    from promptyard.datasets.io import detect_format, parse_table
    from promptyard.datasets.json_table import dumps_jsonl, loads_jsonl
    from promptyard.datasets.loading import list_datasets, load_dataset, read_page
    from promptyard.datasets.records import (
        REFERENCE_GUESSES,
        Dataset,
        DatasetInfo,
        DatasetVersion,
        RowsPage,
        dataset_path,
    )
    from promptyard.datasets.saving import save_dataset, save_edits, set_reference
    from promptyard.datasets.slicing import SliceSpec, compile_filter
    from promptyard.datasets.table import ID, DatasetError, Format, ParsedTable, Row, columns_of
    from promptyard.datasets.versions import (
        compare_versions,
        dataset_history,
        delete_dataset,
        restore_dataset,
        set_dataset_label,
    )

__all__ = [
    "Change",
    "Dataset",
    "DatasetError",
    "DatasetInfo",
    "DatasetRows",
    "DatasetVersion",
    "Fit",
    "Format",
    "ID",
    "ParsedTable",
    "REFERENCE_GUESSES",
    "Row",
    "RowsPage",
    "SliceSpec",
    "SlicedRows",
    "apply_edits",
    "changes_between",
    "check_fit",
    "columns_of",
    "compare_versions",
    "compile_filter",
    "dataset_history",
    "dataset_path",
    "delete_dataset",
    "detect_format",
    "dumps_jsonl",
    "for_editor",
    "import_dataset",
    "json_columns",
    "list_datasets",
    "load_dataset",
    "loads_jsonl",
    "parse_table",
    "preview_import",
    "read_page",
    "restore_dataset",
    "save_dataset",
    "save_edits",
    "select_rows",
    "set_dataset_label",
    "set_reference",
    "stream_dataset",
]

# Submodules by attribute too (`datasets.loading`), as when this face imported them all.
_SUBMODULES = [m.name for m in pkgutil.iter_modules(__path__)]

__getattr__, __dir__ = lazy_face(__name__, _HOMES, __all__, _SUBMODULES)
