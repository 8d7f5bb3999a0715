"""Guardrail policies: named lists of checks on a call's input and output, each with an action.

A `Policy` is what one entry under `policies:` in `guardrails.yaml` becomes
(`promptyard.guardrails.config` parses it); the engine (`engine.py`) applies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from promptyard.errors import PromptyardError

GUARDRAILS_FILE = "guardrails.yaml"


class GuardrailsError(PromptyardError):
    """A guardrails.yaml mistake (the message starts with `file:line:`), or an unknown policy."""


class Stage(StrEnum):
    INPUT = "input"
    OUTPUT = "output"


class CheckKind(StrEnum):
    """The built-in checks; an installed plugin adds more under its entry-point name."""

    PII = "pii"  # personal data: emails, phones, cards, IBANs, national ids, IPs, keys
    INJECTION = "injection"  # prompt-injection phrasing ("ignore previous instructions")
    LENGTH = "length"  # too long an input (characters)
    JSON = "json"  # valid JSON, and against a schema
    BANNED = "banned"  # banned terms and regexes
    JUDGE = "judge"  # an LLM judge with a rubric prompt: off-topic, toxic, ...


class Action(StrEnum):
    """What a check that fires does."""

    BLOCK = "block"  # the call is not made (input) or its answer is withheld (output)
    MASK = "mask"  # the found spans are replaced by placeholders (or ***)
    REPAIR = "repair"  # json-repair the answer; failing that, retry
    RETRY = "retry"  # ask the model again, with the reason fed back
    FLAG = "flag"  # let it through and record it


class PiiKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CARD = "card"
    IBAN = "iban"
    NATIONAL_ID = "national_id"
    IP = "ip"
    API_KEY = "api_key"


# The actions each built-in check takes; a plugin check takes block, mask and flag.
ACTIONS: dict[str, frozenset[Action]] = {
    CheckKind.PII: frozenset({Action.MASK, Action.BLOCK, Action.FLAG}),
    CheckKind.INJECTION: frozenset({Action.BLOCK, Action.FLAG}),
    CheckKind.LENGTH: frozenset({Action.BLOCK, Action.FLAG}),
    CheckKind.JSON: frozenset({Action.REPAIR, Action.RETRY, Action.BLOCK, Action.FLAG}),
    CheckKind.BANNED: frozenset({Action.BLOCK, Action.MASK, Action.FLAG, Action.RETRY}),
    CheckKind.JUDGE: frozenset({Action.BLOCK, Action.FLAG, Action.RETRY}),
}
PLUGIN_ACTIONS = frozenset({Action.BLOCK, Action.MASK, Action.FLAG})
# Checks that only make sense on one side.
STAGES: dict[str, frozenset[Stage]] = {
    CheckKind.INJECTION: frozenset({Stage.INPUT}),
    CheckKind.LENGTH: frozenset({Stage.INPUT}),
    CheckKind.JSON: frozenset({Stage.OUTPUT}),
    CheckKind.JUDGE: frozenset({Stage.OUTPUT}),
}
MAX_RETRIES = 3  # a retrying check asks the model again at most this often


@dataclass(frozen=True)
class Check:
    """One check of a policy, as written (line: where in guardrails.yaml)."""

    kind: str  # a CheckKind value or a plugin's name
    action: Action
    stage: Stage
    options: dict[str, Any] = field(default_factory=dict)
    line: int = 0

    @property
    def retries(self) -> int:
        """How often a failing output may be asked for again (repair and retry actions)."""
        if self.action not in (Action.REPAIR, Action.RETRY):
            return 0
        return int(self.options.get("retries", 1))


@dataclass(frozen=True)
class Policy:
    """A named policy: its input checks, its output checks and whether masked values are
    put back into the answer (`restore`)."""

    name: str
    input: tuple[Check, ...] = ()
    output: tuple[Check, ...] = ()
    restore: bool = False
    description: str = ""
    source: str = "working tree"  # where it was read: "working tree" or "vN" (a fallback)
    line: int = 0


@dataclass(frozen=True)
class Policies:
    """The policies in force, where they came from and, after a fallback, why."""

    policies: dict[str, Policy]
    source: str  # "working tree", "vN" or "none"
    warning: str | None = None

    def get(self, name: str) -> Policy:
        """The policy `name`; GuardrailsError naming the ones there are."""
        policy = self.policies.get(name)
        if policy is None:
            known = ", ".join(sorted(self.policies)) or "none"
            note = f" ({self.warning})" if self.warning else ""
            raise GuardrailsError(
                f"no guardrail policy {name!r} in {GUARDRAILS_FILE} (policies: {known}){note}"
            )
        return policy
