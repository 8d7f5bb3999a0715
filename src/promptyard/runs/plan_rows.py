"""The rendering pass of a plan: rows read one at a time, each rendered once per template,
written to a spool (runs.plan_spool), every problem collected before anything is stored.

Rows arrive as a stream (a dataset read row by row, or a list); nothing holds more than
the row in hand, the spool's buffer and the ids of rows that lack a variable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from promptyard.errors import PromptyardError
from promptyard.runs.plan_spool import RenderedRows


def template_groups(templates: Sequence[Any]) -> list[int]:
    """Per variant, its template group: the index of the first variant with its template."""
    first: dict[int, int] = {}
    return [first.setdefault(id(t), vi) for vi, t in enumerate(templates)]


def _needed(template: Any) -> set[str]:
    variables = getattr(template, "variables", None)
    if variables is None:
        names: set[str] = set()
    elif isinstance(variables, dict):
        names = set(variables)
    else:
        names = {getattr(v, "name", v) for v in variables}
    # A variable with a default declared under `inputs:` need not be a column.
    return names - set(getattr(template, "defaults", {}))


class RenderPass:
    """One pass over the rows: what it rendered (`rows`), or what is wrong (`missing`:
    (variant, variables lacking) -> row ids, in template order; `problems`)."""

    def __init__(self, templates: Sequence[Any], labels: Sequence[str]) -> None:
        self.templates, self.labels = templates, labels
        self.groups = list(dict.fromkeys(template_groups(templates)))
        self.rows = RenderedRows(len(self.groups))
        self.count = 0
        self._missing: list[dict[tuple[str, ...], list[str]]] = [{} for _ in self.groups]
        self._problems: list[list[str]] = [[] for _ in self.groups]
        self._stopped: set[int] = set()
        self.duplicate: str | None = None  # a row id given twice (with unique=False)

    @property
    def missing(self) -> dict[tuple[int, tuple[str, ...]], list[str]]:
        return {
            (vi, lacking): ids
            for vi, found in zip(self.groups, self._missing, strict=True)
            for lacking, ids in found.items()
        }

    @property
    def problems(self) -> list[str]:
        return [p for found in self._problems for p in found]

    def run(
        self,
        rows: Iterable[Any],
        *,
        unique: bool = True,
        done: Callable[[], None] | None = None,
    ) -> None:
        """Render every row (`row_id`, `inputs`, `reference`); `unique` False: check the
        ids are distinct here. `done` runs once the rows are all read (checks that need
        every row), before the caller looks at what is wrong. A repeated id stops the pass
        with `duplicate` set."""
        from promptyard.prompts.errors import TemplateTimeoutError

        needed = [_needed(self.templates[g]) for g in self.groups]
        seen: set[str] | None = None if unique else set()
        clean = True
        for row in rows:
            self.count += 1
            if seen is not None:
                if row.row_id in seen:
                    self.duplicate = row.row_id
                    return
                seen.add(row.row_id)
            messages: list[str] = []
            for slot, g in enumerate(self.groups):
                if slot in self._stopped:
                    clean = False
                    continue
                lacking = tuple(sorted(v for v in needed[slot] if v not in row.inputs))
                if lacking:
                    self._missing[slot].setdefault(lacking, []).append(row.row_id)
                    clean = False
                    continue
                try:
                    rendered = self.templates[g].render(row.inputs)
                except TemplateTimeoutError as exc:
                    # A template past its time limit would cost that limit on every row.
                    self._problems[slot].append(f"{self.labels[g]}, row {row.row_id}: {exc}")
                    self._stopped.add(slot)
                    clean = False
                    continue
                except PromptyardError as exc:
                    self._problems[slot].append(f"{self.labels[g]}, row {row.row_id}: {exc}")
                    clean = False
                    continue
                messages.append(json.dumps(rendered, ensure_ascii=False))
            if clean:  # once anything is wrong, only the checking goes on
                inputs_json = json.dumps(row.inputs, ensure_ascii=False, default=str)
                self.rows.append(row.row_id, inputs_json, row.reference, messages)
        if done is not None:
            done()
        self.rows.finish()
