"""Guardrails in a run: the run's policy, loaded once, applied to every call it sends.

A run names its policy (`Run.guardrail_policy`, from the plan); `load_run_guard` reads it
from guardrails.yaml as it is when the run starts (falling back to the last good commit
when the file is broken) together with each variant's output schema, for json checks
written `schema: prompt`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from promptyard.errors import PromptyardError
from promptyard.guardrails.call import guarded_complete
from promptyard.guardrails.config import load_policies
from promptyard.guardrails.judge import make_judge
from promptyard.guardrails.policy import CheckKind, Policy
from promptyard.storage import db
from promptyard.storage.tables import Run, Variant
from promptyard.workspace import Workspace

if TYPE_CHECKING:
    from promptyard.models import Completion, ModelCall

log = logging.getLogger(__name__)


@dataclass
class RunGuard:
    """A run's policy and what it needs per variant; `complete` stands in for the call."""

    ws: Workspace
    policy: Policy
    warning: str | None = None
    schemas: dict[int, dict[str, Any] | None] = field(default_factory=dict)  # by variant id

    async def complete(self, call: ModelCall, variant_id: int) -> Completion:
        """The call under the run's policy (see `guarded_complete`)."""
        return await guarded_complete(
            self.policy,
            call,
            schema=self.schemas.get(variant_id),
            judge=make_judge(self.ws),
            warning=self.warning,
        )


def _schema(ws: Workspace, variant: Variant) -> dict[str, Any] | None:
    from promptyard.prompts import get_prompt, parse_prompt

    try:
        if variant.template_text is not None:
            template = parse_prompt(variant.template_text, variant.prompt_name)
        else:
            template = get_prompt(variant.prompt_name, ref=variant.prompt_sha, workspace=ws)
    except PromptyardError as exc:  # no schema: the json check then asks for any JSON
        log.warning("guardrails: no output schema for %s: %s", variant.prompt_name, exc)
        return None
    schema = getattr(template, "response_schema", None)
    return schema if isinstance(schema, dict) else None


def load_run_guard(ws: Workspace, run: Run) -> RunGuard | None:
    """The guard of a run that names a policy; None for a run without one.

    Raises GuardrailsError when the policy is in no version of guardrails.yaml that parses.
    """
    name = getattr(run, "guardrail_policy", None)
    if not name:
        return None
    policies = load_policies(ws)
    guard = RunGuard(ws, policies.get(name), policies.warning)
    if any(
        c.kind == CheckKind.JSON and c.options.get("schema") == "prompt"
        for c in guard.policy.output
    ):
        with db.session(ws) as s:
            variants = s.exec(select(Variant).where(col(Variant.run_id) == run.id)).all()
        for v in variants:
            assert v.id is not None
            guard.schemas[v.id] = _schema(ws, v)
    return guard
