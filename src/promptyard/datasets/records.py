"""What the dataset API returns: versions, a loaded dataset, list entries, pages, fits."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from promptyard.datasets.ids import Change
from promptyard.datasets.table import ID, Row
from promptyard.versioning import Version

REFERENCE_GUESSES = ("expected", "expected_output", "reference", "answer", "label", "target")


def dataset_path(name: str) -> str:
    """The workspace-relative path of dataset `name`: `datasets/NAME.jsonl`."""
    return f"datasets/{name}.jsonl"


@dataclass(frozen=True)
class DatasetVersion:
    """One version of a dataset: the store version of its jsonl file."""

    name: str
    number: int
    sha: str
    short_sha: str
    message: str
    author: str
    date: datetime | None
    labels: tuple[str, ...] = ()
    rows: int | None = None
    change: Change | None = None  # against the version before; None for the first
    deleted: bool = False

    @property
    def ref(self) -> str:
        return f"v{self.number}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.ref,
            "sha": self.sha,
            "short_sha": self.short_sha,
            "message": self.message,
            "author": self.author,
            "date": self.date.isoformat() if self.date else None,
            "labels": list(self.labels),
            "rows": self.rows,
            "deleted": self.deleted,
            "change": self.change.to_dict() if self.change else None,
        }


@dataclass
class Dataset:
    """The rows of one version of a dataset; every row has a unique string `id`."""

    name: str
    rows: list[Row]
    columns: list[str]
    version: DatasetVersion | None = None
    reference: str | None = None

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def path(self) -> str:
        return dataset_path(self.name)

    @property
    def ids(self) -> list[str]:
        return [row[ID] for row in self.rows]

    @property
    def input_columns(self) -> list[str]:
        """Columns other than `id` and the reference column."""
        return [c for c in self.columns if c not in (ID, self.reference)]

    def page(self, number: int, size: int = 100) -> list[Row]:
        """Rows of page `number` (1-based) of `size` rows."""
        start = max(number - 1, 0) * size
        return self.rows[start : start + size]

    def page_count(self, size: int = 100) -> int:
        return max(1, math.ceil(len(self.rows) / size))


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset in the list: name, row count, columns, latest version."""

    name: str
    rows: int
    columns: list[str]
    version: DatasetVersion | None
    reference: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rows": self.rows,
            "columns": self.columns,
            "reference": self.reference,
            "version": self.version.ref if self.version else None,
            "sha": self.version.short_sha if self.version else None,
            "labels": list(self.version.labels) if self.version else [],
        }


@dataclass(frozen=True)
class RowsPage:
    """One page of a dataset's rows, read without parsing the other rows."""

    name: str
    rows: list[Row]
    start: int  # index of the first row shown
    total: int  # rows in the whole dataset
    columns: list[str]  # the columns of the rows shown
    version: DatasetVersion | None
    reference: str | None


def as_version(
    name: str, v: Version, rows: int | None = None, change: Change | None = None
) -> DatasetVersion:
    """The dataset's view of store version `v`, with a row count and change when known."""
    labels = getattr(v, "labels", ()) or ()
    return DatasetVersion(
        name=name,
        number=v.number,
        sha=v.sha,
        short_sha=v.short_sha,
        message=v.message,
        author=str(v.author or ""),
        date=v.date,
        labels=tuple(labels),
        rows=rows,
        change=change,
        deleted=bool(getattr(v, "deleted", False)),
    )
