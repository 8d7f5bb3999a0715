"""Datasets: import and parsing, stable row ids, edits, slices and the filter language."""

from promptyard.datasets.api import (
    REFERENCE_GUESSES,
    Dataset,
    DatasetInfo,
    DatasetVersion,
    Fit,
    RowsPage,
    check_fit,
    compare_versions,
    dataset_history,
    dataset_path,
    delete_dataset,
    import_dataset,
    list_datasets,
    load_dataset,
    preview_import,
    read_page,
    restore_dataset,
    save_dataset,
    save_edits,
    select_rows,
    set_dataset_label,
    set_reference,
)
from promptyard.datasets.edit import (
    apply_edits,
    for_editor,
    json_columns,
)
from promptyard.datasets.ids import (
    Change,
    changes_between,
)
from promptyard.datasets.io import (
    DatasetError,
    ParsedTable,
    parse_table,
)
from promptyard.datasets.slicing import (
    SliceSpec,
    compile_filter,
)

__all__ = [
    "Change",
    "Dataset",
    "DatasetError",
    "DatasetInfo",
    "DatasetVersion",
    "Fit",
    "ParsedTable",
    "REFERENCE_GUESSES",
    "RowsPage",
    "SliceSpec",
    "apply_edits",
    "changes_between",
    "check_fit",
    "compare_versions",
    "compile_filter",
    "dataset_history",
    "dataset_path",
    "delete_dataset",
    "for_editor",
    "import_dataset",
    "json_columns",
    "list_datasets",
    "load_dataset",
    "parse_table",
    "preview_import",
    "read_page",
    "restore_dataset",
    "save_dataset",
    "save_edits",
    "select_rows",
    "set_dataset_label",
    "set_reference",
]
