"""Guardrail pass and repair rates per prompt version and model, for the dashboard.

Read from `cell.guardrail_json` (m022) of the cells a policy applied to.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from promptyard.storage import db
from promptyard.storage.tables import Cell, Run, RunKind, Variant
from promptyard.workspace import Workspace


@dataclass
class GuardrailRates:
    """One prompt version on one model under one policy: how its guarded calls went."""

    prompt_name: str
    prompt_version: int | None
    model: str
    policy: str
    cells: int = 0
    passed: int = 0  # no check fired beyond masking
    fixed: int = 0  # a repair or a retry made the answer pass
    blocked: int = 0
    flagged: int = 0
    masked: Counter[str] = field(default_factory=Counter)  # values masked, by kind

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.cells if self.cells else None

    @property
    def repair_rate(self) -> float | None:
        return self.fixed / self.cells if self.cells else None

    @property
    def block_rate(self) -> float | None:
        return self.blocked / self.cells if self.cells else None


def guardrail_rates(ws: Workspace) -> list[GuardrailRates]:
    """Rates per (prompt, version, model, policy) over every guarded cell; [] when none."""
    query = (
        select(
            Variant.prompt_name,  # type: ignore[call-overload]
            Variant.prompt_version,
            Variant.model,
            Run.guardrail_policy,
            Cell.guardrail_json,
        )
        .join(Variant, Variant.id == Cell.variant_id)  # type: ignore[arg-type]
        .join(Run, Run.id == Cell.run_id)  # type: ignore[arg-type]
        .where(Cell.guardrail_json.is_not(None))  # type: ignore[union-attr]
        .where(Run.kind != RunKind.PLAYGROUND)  # as the dashboard's other figures: runs only
    )
    out: dict[tuple[str, int | None, str, str], GuardrailRates] = {}
    with db.session(ws) as s:
        for name, version, model, policy, raw in s.execute(query):
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            policy = policy or str(record.get("policy") or "")
            key = (name, version, model, policy)
            rates = out.setdefault(key, GuardrailRates(name, version, model, policy))
            rates.cells += 1
            blocked = record.get("blocked") is not None
            rates.passed += bool(record.get("passed"))
            rates.fixed += not blocked and bool(record.get("repaired") or record.get("retries"))
            rates.blocked += blocked
            rates.flagged += bool(record.get("flagged"))
            rates.masked.update(record.get("masked") or {})
    return sorted(out.values(), key=lambda r: (r.prompt_name, r.prompt_version or 0, r.model))
