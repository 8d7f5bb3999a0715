"""The New run form's variables: what each chosen prompt needs, and where it can come from.

`variable_needs` lists each variable of the chosen prompt versions with the dataset's
columns, the prompt's default and its example; the page turns a person's choices into a
`runs.VariableMapping` with `mapping_from_choices`, and `plan_fillings` says, for the
plan, where each variable comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promptyard import datasets, prompts, runs
from promptyard.workspace import Workspace

__all__ = [
    "Choice",
    "VariableNeed",
    "mapping_from_choices",
    "plan_fillings",
    "variable_needs",
]


@dataclass(frozen=True)
class VariableNeed:
    """One variable of the chosen prompts: the column of its name (if any), its default
    and example (as the prompt declares them), and every column of the dataset."""

    variable: str
    has_column: bool
    has_default: bool
    sample: Any  # None: the prompt declares no example
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Choice:
    """Where a person says a variable comes from: `kind` is a runs.Source, `value` the
    column name or the constant."""

    kind: runs.Source
    value: str = ""


def _templates(ws: Workspace, specs: list[tuple[str, str | None]]) -> list[Any]:
    return [prompts.get_prompt(name, ref=ref, workspace=ws) for name, ref in specs]


def variable_needs(
    ws: Workspace, specs: list[tuple[str, str | None]], dataset: tuple[str, str | None]
) -> list[VariableNeed]:
    """Each variable of the prompt versions `specs` (NAME, REF), in order of appearance."""
    templates = _templates(ws, specs)
    loaded = datasets.load_dataset(ws, dataset[0], dataset[1])
    columns = tuple(c for c in loaded.columns if c != "id")
    seen: dict[str, VariableNeed] = {}
    for template in templates:
        samples, defaults = template.samples, template.defaults
        for name in template.variables:
            if name in seen:
                continue
            seen[name] = VariableNeed(
                name, name in columns, name in defaults, samples.get(name), columns
            )
    return list(seen.values())


def mapping_from_choices(choices: dict[str, Choice]) -> runs.VariableMapping:
    """The mapping a person's choices make (a variable left out: the column of its name)."""
    columns = {v: c.value for v, c in choices.items() if c.kind is runs.Source.MAPPED}
    constants = {v: c.value for v, c in choices.items() if c.kind is runs.Source.CONSTANT}
    samples = any(c.kind is runs.Source.SAMPLE for c in choices.values())
    return runs.VariableMapping(columns, constants, samples)


def plan_fillings(
    ws: Workspace,
    specs: list[tuple[str, str | None]],
    dataset: tuple[str, str | None],
    mapping: runs.VariableMapping,
) -> list[runs.Filled]:
    """Where each variable of the plan comes from, for the plan's table."""
    needs = variable_needs(ws, specs, dataset)
    columns = needs[0].columns if needs else ()
    return runs.fillings(mapping, _templates(ws, specs), columns)
