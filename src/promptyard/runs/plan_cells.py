"""The cells of a plan, made as they are read: a plan of a million cells holds its
rendered messages once per prompt and row, not one object per cell.

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
    """Every cell of a plan: variants x rows x repeats, each made when it is read."""

    def __init__(
        self,
        prefixes: Sequence[str],
        templates: Sequence[int],
        rendered: dict[int, list[str]],
        rows: Sequence[tuple[str, str, str | None]],
        repeats: int,
    ) -> None:
        # prefixes[v]: variant v's cache-key prefix; templates[v]: the key in `rendered`
        # of its messages per row; rows[r]: (row id, inputs JSON, reference).
        self.prefixes, self.templates = list(prefixes), list(templates)
        self.rendered, self.rows, self.repeats = rendered, list(rows), repeats
        self.per_variant = len(self.rows) * repeats

    def __len__(self) -> int:
        return len(self.prefixes) * self.per_variant

    def _make(self, vi: int, ri: int, rep: int) -> PlannedCell:
        row_id, inputs_json, reference = self.rows[ri]
        messages = self.rendered[self.templates[vi]][ri]
        key = cell_cache_key(self.prefixes[vi], messages, rep)
        return PlannedCell(vi, row_id, ri, rep, inputs_json, reference, messages, key)

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
        return self._make(vi, ri, rep)

    def __iter__(self) -> Iterator[PlannedCell]:
        for vi in range(len(self.prefixes)):
            for ri in range(len(self.rows)):
                for rep in range(self.repeats):
                    yield self._make(vi, ri, rep)
