"""`promptyard.guard(...)`: an application's own model calls under a policy.

    g = promptyard.guard("pii")                       # guardrails.yaml of the workspace
    result = g.call(messages, lambda msgs: my_llm(msgs))   # mask, call, check, retry, restore
    result.text, result.blocked, result.record.to_dict()

Or in two steps, around a call the application makes itself:

    safe = g.input(messages)          # safe.messages: masked; safe.blocked
    answer = my_llm(safe.messages)
    result = g.output(answer, safe)   # checked, repaired, values restored
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptyard.guardrails.call import guarded_complete
from promptyard.guardrails.config import load_policies, parse_guardrails
from promptyard.guardrails.engine import (
    GuardedInput,
    check_output,
    guard_input,
    input_text,
    restore_output,
)
from promptyard.guardrails.judge import make_judge
from promptyard.guardrails.offline import run_now
from promptyard.guardrails.policy import CheckKind, GuardrailsError, Policy
from promptyard.workspace import Workspace, current_workspace

if TYPE_CHECKING:
    from promptyard.models import Completion, ModelCall

Messages = list[dict[str, Any]]


@dataclass
class GuardResult:
    """An answer after the policy: its text (None when withheld) and what was done."""

    text: str | None
    record: dict[str, Any]  # GuardRecord.to_dict(): what a run stores on its cell

    @property
    def blocked(self) -> bool:
        return self.record.get("blocked") is not None


def _messages(value: str | Messages) -> Messages:
    return [{"role": "user", "content": value}] if isinstance(value, str) else list(value)


class Guard:
    """A policy ready to apply to an application's calls."""

    def __init__(self, policy: Policy, ws: Workspace | None = None, warning: str | None = None):
        self.policy, self.ws, self.warning = policy, ws, warning

    def input(self, messages: str | Messages) -> GuardedInput:
        """The input checks: `.messages` to send (masked), `.blocked`, `.record`."""
        guarded = guard_input(self.policy, _messages(messages))
        guarded.record.warning = self.warning
        return guarded

    def output(
        self, text: str | None, guarded: GuardedInput, schema: dict[str, Any] | None = None
    ) -> GuardResult:
        """The output checks on an answer to `guarded` (no retries: use `call` for those)."""
        judge = make_judge(self.ws) if self.ws is not None else None
        checking = check_output(
            self.policy, text, guarded.record, schema=schema,
            input_text=input_text(guarded.messages), judge=judge,
            retries_left={i: 0 for i in range(len(self.policy.output))},
        )  # fmt: skip
        judged = judge is not None and any(c.kind == CheckKind.JUDGE for c in self.policy.output)
        # Without a judge nothing waits, so this also works inside the app's own event loop.
        verdict = asyncio.run(checking) if judged else run_now(checking)
        if verdict.retry_reason and verdict.retry_check is not None:
            guarded.record.block(verdict.retry_check.kind, "output", verdict.retry_reason)
        text = restore_output(self.policy, verdict.text, guarded)
        return GuardResult(text, guarded.record.to_dict())

    async def acall(
        self,
        messages: str | Messages,
        send: Callable[[Messages], Awaitable[str | None] | str | None],
        schema: dict[str, Any] | None = None,
    ) -> GuardResult:
        """`call` for asynchronous code; `send` may be a coroutine function."""
        from promptyard.models import Completion, ModelCall, ModelEndpoint

        async def one(call: ModelCall) -> Completion:
            t = time.monotonic()
            answer = send(call.messages)
            if asyncio.iscoroutine(answer) or isinstance(answer, Awaitable):
                answer = await answer
            ms = (time.monotonic() - t) * 1000
            return Completion(answer, "stop", None, None, None, ms)  # type: ignore[arg-type]

        call = ModelCall(ModelEndpoint("application", "application"), _messages(messages), {})
        judge = make_judge(self.ws) if self.ws is not None else None
        result = await guarded_complete(
            self.policy, call, one, schema=schema, judge=judge, warning=self.warning
        )
        return GuardResult(result.text, result.guardrail or {})

    def call(
        self,
        messages: str | Messages,
        send: Callable[[Messages], str | None],
        schema: dict[str, Any] | None = None,
    ) -> GuardResult:
        """Mask `messages`, call `send(masked_messages) -> answer`, check the answer (with
        repairs and retries the policy allows), restore masked values. `send` never sees a
        value the policy masks. `.record` is the JSON a run stores on its cell."""
        return asyncio.run(self.acall(messages, send, schema))


def guard(
    policy: str = "pii",
    *,
    workspace: Workspace | str | Path | None = None,
    path: str | Path | None = None,
) -> Guard:
    """The policy `policy` of the workspace's guardrails.yaml (or of the file at `path`),
    ready to apply. Raises GuardrailsError for an unknown policy or a broken file."""
    if path is not None:
        file = Path(path)
        found = parse_guardrails(file.read_text(encoding="utf-8"), str(file))
        if policy not in found:
            known = ", ".join(sorted(found)) or "none"
            raise GuardrailsError(f"no guardrail policy {policy!r} in {file} (policies: {known})")
        return Guard(found[policy])
    ws = workspace if isinstance(workspace, Workspace) else current_workspace(workspace)
    policies = load_policies(ws)
    return Guard(policies.get(policy), ws, policies.warning)
