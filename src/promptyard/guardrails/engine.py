"""Applying a policy: its input checks to the messages, its output checks to an answer.

`guard_input` runs before the model is called: personal data is masked (the placeholders
and values stay in the returned `GuardedInput`, never in the messages), injections and
overlong inputs are flagged or blocked. `check_output` runs each output check on one
answer and says what happened: passed (perhaps repaired or masked), retry with a reason
for the model, or blocked. The retry loop around the model call is in `call.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from promptyard.guardrails.content import find_banned, find_injection, over_length
from promptyard.guardrails.jsoncheck import check_json, repair_json
from promptyard.guardrails.pii import Masker, find_pii, redact
from promptyard.guardrails.plugins import Finding, run_detector
from promptyard.guardrails.policy import Action, Check, CheckKind, Policy, Stage
from promptyard.guardrails.record import GuardRecord

# A judge check: (check, text, input text) -> (passed, reason, cost); see judge.py.
JudgeFn = Callable[[Check, str, str], Awaitable[tuple[bool, str, float | None]]]


@dataclass
class GuardedInput:
    """The messages to send (masked), and what the policy did to them."""

    messages: list[dict[str, Any]]
    record: GuardRecord
    masker: Masker = field(default_factory=Masker)

    @property
    def blocked(self) -> bool:
        return self.record.blocked is not None


def _texts(message: dict[str, Any]) -> list[str]:
    content = message.get("content")
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        ]
    return []


def _map_text(message: dict[str, Any], fn: Callable[[str], str]) -> dict[str, Any]:
    content = message.get("content")
    if isinstance(content, str):
        return {**message, "content": fn(content)}
    if isinstance(content, list):
        parts = [
            {**p, "text": fn(p["text"])}
            if isinstance(p, dict) and isinstance(p.get("text"), str)
            else p
            for p in content
        ]
        return {**message, "content": parts}
    return message


def _find(check: Check, text: str) -> list[Finding]:
    o = check.options
    if check.kind == CheckKind.PII:
        return find_pii(text, o.get("kinds"), str(o.get("region") or "US"))
    if check.kind == CheckKind.INJECTION:
        return find_injection(text, o.get("patterns") or ())
    if check.kind == CheckKind.BANNED:
        return find_banned(
            text, o.get("terms") or (), o.get("regexes") or (), bool(o.get("ignore_case", True))
        )
    if check.kind == CheckKind.LENGTH:
        return over_length(text, int(o["max_chars"]))
    return run_detector(check.kind, text, o)


def _reason(check: Check, found: list[Finding]) -> str:
    """What fired, by kind and count: never the text that matched."""
    if check.kind == CheckKind.LENGTH:
        return f"input over {check.options['max_chars']} characters"
    counts: dict[str, int] = {}
    for f in found:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))


def _scoped(check: Check, message: dict[str, Any]) -> bool:
    # Injections and length concern what users send; a system prompt is the developer's.
    if check.kind in (CheckKind.INJECTION, CheckKind.LENGTH):
        return message.get("role") != "system"
    return True


def guard_input(policy: Policy, messages: list[dict[str, Any]]) -> GuardedInput:
    """Run the policy's input checks: the messages to send, masked, and the record."""
    record = GuardRecord(policy.name, policy.source)
    out = GuardedInput([dict(m) for m in messages], record)
    for check in policy.input:
        if check.kind == CheckKind.LENGTH:
            total = "\n".join(t for m in out.messages if _scoped(check, m) for t in _texts(m))
            found = over_length(total, int(check.options["max_chars"]))
        else:
            found = []
            for i, message in enumerate(out.messages):
                if not _scoped(check, message):
                    continue
                if check.action is Action.MASK:
                    out.messages[i] = _map_text(message, partial(_mask, check, out=out))
                else:
                    found.extend(f for t in _texts(message) for f in _find(check, t))
        if not found:
            continue
        if check.action is Action.BLOCK:
            record.block(check.kind, Stage.INPUT, _reason(check, found))
            return out
        record.flag(check.kind, Stage.INPUT, _reason(check, found))
    return out


def _mask(check: Check, text: str, *, out: GuardedInput) -> str:
    record = out.record
    found = _find(check, text)
    if not found:
        return text
    if check.kind != CheckKind.BANNED:  # personal data (built-in or a plugin's): restorable
        masked = out.masker.mask(text, found)
        record.masked.clear()
        record.masked.update(out.masker.counts)  # the masker counts across all messages
        return masked
    for f in found:
        record.masked[f.kind] += 1
    return redact(text, found)


@dataclass
class OutputVerdict:
    """One answer after the output checks: its text (repaired, masked), or why not."""

    text: str | None
    retry_reason: str | None = None  # ask again, telling the model this
    retry_check: Check | None = None
    blocked: bool = False


async def check_output(
    policy: Policy,
    text: str | None,
    record: GuardRecord,
    *,
    schema: dict[str, Any] | None = None,
    input_text: str = "",
    judge: JudgeFn | None = None,
    retries_left: dict[int, int] | None = None,
) -> OutputVerdict:
    """Run the output checks in order on `text`; stop at the first that blocks or retries.

    `retries_left` counts, per check (its index), the retries it still has.
    """
    left = retries_left if retries_left is not None else {}
    for index, check in enumerate(policy.output):
        can_retry = left.setdefault(index, check.retries) > 0
        if check.kind == CheckKind.JSON:
            wanted = (
                schema if check.options.get("schema") == "prompt" else check.options.get("schema")
            )
            verdict = check_json(text, wanted if isinstance(wanted, dict) else None)
            if verdict.ok:
                continue
            if check.action is Action.REPAIR:
                repaired = repair_json(text)
                if repaired is not None and check_json(repaired, wanted or None).ok:
                    text = repaired
                    record.repaired.append(check.kind)
                    continue
            problem = verdict.error or "not valid JSON"
        elif check.kind == CheckKind.JUDGE:
            if judge is None:
                record.flag(check.kind, Stage.OUTPUT, "no model to judge with here: not checked")
                continue
            passed, problem, cost = await judge(check, text or "", input_text)
            if cost is not None:
                record.judge_cost_usd = (record.judge_cost_usd or 0.0) + cost
            if passed:
                continue
        else:
            found = _find(check, text or "")
            if not found:
                continue
            if check.action is Action.MASK:
                for f in found:
                    record.output_masked[f.kind] += 1
                marks = {f.start: f"[{f.kind.upper()}]" for f in found}
                text = "".join(_marked(text or "", found, marks))
                continue
            problem = _reason(check, found)
        if check.action in (Action.REPAIR, Action.RETRY) and can_retry:
            left[index] -= 1
            return OutputVerdict(text, f"{check.kind} check failed: {problem}", check)
        if check.action is Action.FLAG:
            record.flag(check.kind, Stage.OUTPUT, problem)
            continue
        record.block(check.kind, Stage.OUTPUT, problem)
        # A malformed answer is kept to look at; one that leaked or broke a rule is not.
        return OutputVerdict(text if check.kind == CheckKind.JSON else None, blocked=True)
    return OutputVerdict(text)


def _marked(text: str, found: list[Finding], marks: dict[int, str]) -> list[str]:
    out: list[str] = []
    at = 0
    for f in sorted(found, key=lambda f: f.start):
        if f.start < at:
            continue
        out.extend((text[at : f.start], marks[f.start]))
        at = f.end
    out.append(text[at:])
    return out


def restore_output(policy: Policy, text: str | None, guarded: GuardedInput) -> str | None:
    """The answer with the input's masked values put back, when the policy restores."""
    if text is None or not policy.restore:
        return text
    restored, count = guarded.masker.restore(text)
    guarded.record.restored += count
    return restored


def input_text(messages: list[dict[str, Any]]) -> str:
    """The non-system text of the messages, for a judge to read."""
    return "\n".join(t for m in messages if m.get("role") != "system" for t in _texts(m))
