"""The cells of a plan, made as they are read: a plan of a million cells keeps its
rendered messages once per prompt and row, in a spool (memory, then a temporary file),
not one object per cell.

`PlannedCells` is a read-only sequence (len, iteration, indexing, slices) in the order
variant, row, repeat; `create_run` streams it to the database in batches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    from promptyard.models import ModelEndpoint
    from promptyard.runs.plan_spool import RenderedRows


@dataclass(slots=True)
class PlannedCell:
    """One call to make: a row and a repeat under a variant, messages already rendered."""

    variant: int  # index into RunPlan.variants
    row_id: str
    row_index: int
    repeat: int
    inputs_json: str
    reference: str | None
    messages_json: str
    cache_key: str


def variant_prefix(endpoint: ModelEndpoint, parameters: dict[str, Any]) -> str:
    """What every cache key of one variant starts with: model, endpoint and parameters."""
    params = json.dumps(parameters, sort_keys=True, default=str)
    return f"{endpoint.litellm_model}\x00{endpoint.api_base or ''}\x00{params}"


def cell_cache_key(prefix: str, messages_json: str, repeat: int) -> str:
    """The response-cache key of a call of the variant with `prefix`."""
    payload = f"{prefix}\x00{repeat}\x00{messages_json}"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class PlannedCells(Sequence[PlannedCell]):
    """Every cell of a plan: variants x rows x repeats, each made when it is read.

    The rows (ids, inputs, references, messages per template group) are a RenderedRows
    spool, in memory while small and in a temporary file beyond, read again on every
    iteration; only a few hundred rows are decoded at a time.
    """

    def __init__(
        self,
        prefixes: Sequence[str],
        templates: Sequence[int],
        rows: RenderedRows,
        repeats: int,
    ) -> None:
        # prefixes[v]: variant v's cache-key prefix; templates[v]: its template group (the
        # first variant index with that template); rows: the spool, messages per group in
        # the order of the groups' first appearance in `templates`.
        self.prefixes, self.templates = list(prefixes), list(templates)
        self.rows, self.repeats = rows, repeats
        groups = list(dict.fromkeys(self.templates))
        self._slot = [groups.index(t) for t in self.templates]
        self.per_variant = len(self.rows) * repeats

    def __len__(self) -> int:
        return len(self.prefixes) * self.per_variant

    @overload
    def __getitem__(self, index: int) -> PlannedCell: ...

    @overload
    def __getitem__(self, index: slice) -> list[PlannedCell]: ...

    def __getitem__(self, index: int | slice) -> PlannedCell | list[PlannedCell]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("cell index out of range")
        vi, rest = divmod(index, self.per_variant)
        ri, rep = divmod(rest, self.repeats)
        row_id, inputs_json, reference, messages = self.rows[ri]
        text = messages[self._slot[vi]]
        key = cell_cache_key(self.prefixes[vi], text, rep)
        return PlannedCell(vi, row_id, ri, rep, inputs_json, reference, text, key)

    def __iter__(self) -> Iterator[PlannedCell]:
        for vi, prefix in enumerate(self.prefixes):
            slot = self._slot[vi]
            for ri, (row_id, inputs_json, reference, messages) in enumerate(
                self.rows.rows((slot,))
            ):
                text = messages[slot]
                for rep in range(self.repeats):
                    key = cell_cache_key(prefix, text, rep)
                    yield PlannedCell(vi, row_id, ri, rep, inputs_json, reference, text, key)

    def messages_of(self, template: int) -> Iterator[str]:
        """The rendered messages JSON of template group `template`, one per row in order
        (each counts for every variant of the group and every repeat)."""
        slot = self._slot[self.templates.index(template)]
        for _row_id, _inputs, _reference, messages in self.rows.rows((slot,)):
            yield messages[slot]
