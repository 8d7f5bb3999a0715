"""What a policy did to one call, as stored on the cell (`cell.guardrail_json`).

Kinds and counts, check names and reasons; never a masked value, never the text a
pattern matched.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class GuardRecord:
    """Every action of one policy on one call."""

    policy: str
    source: str = "working tree"  # the guardrails.yaml it was read from ("v3" after a fallback)
    masked: Counter[str] = field(default_factory=Counter)  # input values masked, by kind
    output_masked: Counter[str] = field(default_factory=Counter)  # output spans masked, by kind
    restored: int = 0  # placeholders put back into the output
    flagged: list[dict[str, str]] = field(default_factory=list)  # {"check", "stage", "reason"}
    repaired: list[str] = field(default_factory=list)  # checks that repaired the output
    retries: int = 0  # calls made again after a failed output check
    blocked: dict[str, str] | None = None  # {"check", "stage", "reason"}
    judge_cost_usd: float | None = None
    warning: str | None = None  # guardrails.yaml did not parse: the last good version was used

    @property
    def passed(self) -> bool:
        """True when no check fired beyond masking: nothing flagged, repaired, retried, blocked."""
        return self.blocked is None and not self.flagged and not self.repaired and not self.retries

    @property
    def fixed(self) -> bool:
        """True when a check failed and a repair or retry made the answer pass."""
        return self.blocked is None and bool(self.repaired or self.retries)

    def flag(self, check: str, stage: str, reason: str) -> None:
        self.flagged.append({"check": check, "stage": stage, "reason": reason})

    def block(self, check: str, stage: str, reason: str) -> None:
        if self.blocked is None:
            self.blocked = {"check": check, "stage": stage, "reason": reason}

    def to_dict(self) -> dict[str, Any]:
        """The JSON stored on the cell."""
        return {
            "policy": self.policy,
            "source": self.source,
            "passed": self.passed,
            "masked": dict(self.masked),
            "output_masked": dict(self.output_masked),
            "restored": self.restored,
            "flagged": list(self.flagged),
            "repaired": list(self.repaired),
            "retries": self.retries,
            "blocked": self.blocked,
            "judge_cost_usd": self.judge_cost_usd,
            "warning": self.warning,
        }

    def summary(self) -> str:
        """One line for the CLI, a log or a page."""
        parts = []
        if self.masked:
            parts.append("masked " + ", ".join(f"{n} {k}" for k, n in sorted(self.masked.items())))
        if self.output_masked:
            masked = ", ".join(f"{n} {k}" for k, n in sorted(self.output_masked.items()))
            parts.append(f"masked in the output {masked}")
        if self.restored:
            parts.append(f"restored {self.restored}")
        if self.repaired:
            parts.append("repaired " + ", ".join(self.repaired))
        if self.retries:
            parts.append(f"retried {self.retries}x")
        parts.extend(f"flagged {f['check']} ({f['reason']})" for f in self.flagged)
        if self.blocked:
            parts.append(f"blocked by {self.blocked['check']}: {self.blocked['reason']}")
        return f"{self.policy}: " + ("; ".join(parts) if parts else "passed")


def guardrail_line(data: dict[str, Any] | None) -> str | None:
    """One line saying what a policy did, from the stored JSON (None without a policy)."""
    if not data:
        return None
    record = GuardRecord(
        str(data.get("policy") or "?"),
        masked=Counter(data.get("masked") or {}),
        output_masked=Counter(data.get("output_masked") or {}),
        restored=int(data.get("restored") or 0),
        flagged=list(data.get("flagged") or []),
        repaired=list(data.get("repaired") or []),
        retries=int(data.get("retries") or 0),
        blocked=data.get("blocked"),
    )
    return record.summary()
