"""How a plan fills each prompt variable: a dataset column, a constant, or the prompt's sample.

By default a variable is the dataset column of the same name (or the default declared under
the prompt's `inputs:`). A `VariableMapping` says otherwise per variable: take another
column (`--map language=lang`), one value for every row (`--set tone=formal`), or, for
what is still missing, the `example` the prompt declares (`--samples`). The mapping is
shown in the plan and stored with the run (`run.mapping_json`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, TypeVar

from promptyard.errors import PromptyardError

# planning.RowInput (planning imports this module, so it is not imported back here)
Row = TypeVar("Row")


class MappingError(PromptyardError):
    """A mapping that cannot apply: an unknown column, a malformed pair. Nothing was sent."""


class Source(StrEnum):
    """Where a variable's value comes from."""

    COLUMN = "column"  # the dataset column of the same name
    MAPPED = "mapped column"  # another dataset column
    CONSTANT = "constant"  # one value for every row
    SAMPLE = "sample"  # the prompt's declared example
    DEFAULT = "default"  # the prompt's declared default
    MISSING = "missing"


@dataclass(frozen=True)
class VariableMapping:
    """Per variable: another column to read, or a constant; `samples` fills what is left
    from the prompts' examples. Empty: every variable is the column of its name."""

    columns: dict[str, str] = field(default_factory=dict)  # variable -> dataset column
    constants: dict[str, str] = field(default_factory=dict)  # variable -> value
    samples: bool = False

    def __post_init__(self) -> None:
        both = sorted(set(self.columns) & set(self.constants))
        if both:
            raise MappingError(
                f"{', '.join(both)}: mapped to a column and set to a constant; pick one"
            )

    @property
    def empty(self) -> bool:
        return not (self.columns or self.constants or self.samples)

    def describe(self) -> str:
        """One line: `language ← column lang; tone = 'formal'; the rest from samples`."""
        parts = [f"{v} ← column {c}" for v, c in self.columns.items()]
        parts += [f"{v} = {c!r}" for v, c in self.constants.items()]
        if self.samples:
            parts.append("missing ones from the prompt's examples")
        return "; ".join(parts) or "each variable from the column of its name"

    def to_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "constants": self.constants, "samples": self.samples}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> VariableMapping:
        data = data or {}
        return cls(
            {str(k): str(v) for k, v in (data.get("columns") or {}).items()},
            {str(k): str(v) for k, v in (data.get("constants") or {}).items()},
            bool(data.get("samples", False)),
        )


@dataclass(frozen=True)
class Filled:
    """How one variable of a plan is filled, for the plan's table."""

    variable: str
    source: Source
    detail: str  # the column, the value, or why it is missing

    def describe(self) -> str:
        if self.source in (Source.COLUMN, Source.MAPPED):
            return f"{self.variable} ← column {self.detail}"
        if self.source is Source.MISSING:
            return f"{self.variable}: missing ({self.detail})"
        value = self.detail if len(self.detail) <= 60 else self.detail[:57] + "…"
        return f"{self.variable} = {value} ({self.source})"


def parse_pairs(items: Iterable[str], option: str) -> dict[str, str]:
    """`VAR=VALUE` items (from `--map` or `--set`) as a dict; MappingError on a bad one."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise MappingError(f"{option} {item!r}: write it as VARIABLE=VALUE")
        if name in out:
            raise MappingError(f"{option} {name}: given twice")
        out[name] = value if option == "--set" else value.strip()
    return out


def _samples(templates: Sequence[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for template in templates:
        for name, value in (getattr(template, "samples", None) or {}).items():
            found.setdefault(name, value)
    return found


def _variables(templates: Sequence[Any]) -> list[str]:
    names: list[str] = []
    for template in templates:
        for name in getattr(template, "variables", None) or []:
            if name not in names:
                names.append(name)
    return names


def fillings(
    mapping: VariableMapping, templates: Sequence[Any], columns: Iterable[str]
) -> list[Filled]:
    """How each variable of `templates` is filled, given the dataset's `columns`."""
    present = set(columns)
    samples = _samples(templates)
    defaults: dict[str, Any] = {}
    for template in templates:
        defaults.update(getattr(template, "defaults", None) or {})
    out = []
    for name in _variables(templates):
        if name in mapping.constants:
            out.append(Filled(name, Source.CONSTANT, repr(mapping.constants[name])))
        elif name in mapping.columns:
            out.append(Filled(name, Source.MAPPED, mapping.columns[name]))
        elif name in present:
            out.append(Filled(name, Source.COLUMN, name))
        elif name in defaults:
            out.append(Filled(name, Source.DEFAULT, repr(defaults[name])))
        elif mapping.samples and name in samples:
            out.append(Filled(name, Source.SAMPLE, repr(samples[name])))
        else:
            why = "no such column; map one, set a value" + (
                " or use the prompt's sample" if name in samples else ""
            )
            out.append(Filled(name, Source.MISSING, why))
    return out


class RowMapper:
    """A mapping applied one row at a time (a plan streams its rows): `inputs(row_inputs)`
    gives a row's mapped inputs; `check()`, once every row has passed, raises MappingError
    for a mapped column that no row had."""

    def __init__(self, mapping: VariableMapping, templates: Sequence[Any]) -> None:
        self.mapping = mapping
        self.present: set[str] = set()
        self._samples = _samples(templates) if mapping.samples else {}
        self._defaults: set[str] = set()
        for template in templates:
            self._defaults.update(getattr(template, "defaults", None) or {})

    def inputs(self, given: dict[str, Any]) -> dict[str, Any]:
        """The inputs of one row after the mapping (`given` is left as it is)."""
        if self.mapping.columns:
            self.present.update(given)
        if self.mapping.empty:
            return given
        inputs = dict(given)
        for variable, column in self.mapping.columns.items():
            if column in given:
                inputs[variable] = given[column]
        inputs.update(self.mapping.constants)
        for variable, value in self._samples.items():
            if variable not in inputs and variable not in self._defaults:
                inputs[variable] = value
        return inputs

    def check(self) -> None:
        """MappingError naming each mapped column that none of the rows seen had."""
        unknown = {v: c for v, c in self.mapping.columns.items() if c not in self.present}
        if unknown:
            listed = ", ".join(f"{v}={c}" for v, c in unknown.items())
            columns = ", ".join(sorted(self.present))
            raise MappingError(
                f"--map {listed}: no such column in the dataset (columns: {columns})"
            )


def apply_mapping(
    rows: Sequence[Row], mapping: VariableMapping, templates: Sequence[Any]
) -> list[Row]:
    """`rows` with each mapped variable read from its column, constants set, and (with
    `samples`) the prompts' examples where a row still lacks a variable. A mapped column
    no row has raises MappingError naming it."""
    if mapping.empty:
        return list(rows)
    mapper = RowMapper(mapping, templates)
    out = [
        replace(row, inputs=mapper.inputs(row.inputs))  # type: ignore[attr-defined,type-var]
        for row in rows
    ]
    mapper.check()
    return out


def mapping_json(mapping: VariableMapping | None) -> str | None:
    """The mapping as the run stores it; None when there is nothing to store."""
    if mapping is None or mapping.empty:
        return None
    return json.dumps(mapping.to_dict(), ensure_ascii=False, sort_keys=True)
