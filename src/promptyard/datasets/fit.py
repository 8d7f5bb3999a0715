"""How a dataset fits a prompt (which variables its columns give), and picking rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from promptyard.datasets.records import Dataset
from promptyard.datasets.slicing import SliceSpec, select_from
from promptyard.datasets.table import ID, Row


@dataclass(frozen=True)
class Fit:
    """How a dataset fits a prompt's variables."""

    provided: list[str]  # variables a column supplies
    missing: list[str]  # variables no column supplies
    extra: list[str]  # columns no variable uses (besides id and the reference)
    reference: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)  # variable -> column

    @property
    def ok(self) -> bool:
        return not self.missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "provided": self.provided,
            "missing": self.missing,
            "extra": self.extra,
            "reference": self.reference,
            "mapping": self.mapping,
        }


class _HasVariables(Protocol):
    @property
    def variables(self) -> Sequence[str]: ...


def check_fit(
    dataset: Dataset,
    prompt: _HasVariables | Sequence[str],
    mapping: Mapping[str, str] | None = None,
) -> Fit:
    """Which of the prompt's variables the dataset's columns provide, and which are missing.

    `mapping` maps a variable to a column of another name.
    """
    variables = list(prompt) if isinstance(prompt, list | tuple) else list(prompt.variables)  # type: ignore[union-attr]
    columns = set(dataset.columns)
    chosen: dict[str, str] = {}
    for variable in variables:
        column = (mapping or {}).get(variable, variable)
        if column in columns:
            chosen[variable] = column
    provided = [v for v in variables if v in chosen]
    missing = [v for v in variables if v not in chosen]
    used = set(chosen.values())
    extra = [c for c in dataset.columns if c not in used and c not in (ID, dataset.reference)]
    return Fit(provided, missing, extra, dataset.reference, chosen)


def select_rows(dataset: Dataset, spec: SliceSpec | None = None) -> list[Row]:
    """The rows of `dataset` a slice picks (None or kind "all": every row), in order."""
    return select_from(dataset.rows, dataset.columns, spec)
