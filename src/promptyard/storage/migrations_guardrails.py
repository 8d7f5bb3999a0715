"""Migration m022: guardrails (promptyard.guardrails): a run's policy, and what it did per cell."""

from __future__ import annotations

from sqlalchemy import Connection, text


def m022_guardrails(conn: Connection) -> None:
    # The policy a run applies, by name: the run reads guardrails.yaml when it starts.
    conn.execute(text("ALTER TABLE run ADD COLUMN guardrail_policy TEXT"))
    # What the policy did to the call (kinds and counts masked, repairs, retries, a block),
    # as JSON; never a masked value.
    conn.execute(text("ALTER TABLE cell ADD COLUMN guardrail_json TEXT"))
