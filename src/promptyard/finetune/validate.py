"""Checks on fine-tuning data, the ones OpenAI's data-preparation cookbook runs, per line.

SFT (`{"messages": [...]}`): a list of messages, each with a known role and a text
`content` (no unknown keys), at least one assistant turn, none empty. DPO
(`{"input": {"messages": [...]}, "preferred_output": [...], "non_preferred_output": [...]}`):
the input's messages as above, ending with a user turn, and each output a single non-empty
assistant message, the two different. Both: token counts with tiktoken against the target
model's per-example limit, and duplicate examples.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from promptyard.finetune.pricing import UNKNOWN_MAX_TOKENS, training_price
from promptyard.prompts import count_tokens


class FinetuneFormat(StrEnum):
    """What an export writes: supervised chat examples or preference pairs."""

    SFT = "sft"
    DPO = "dpo"


ROLES = frozenset(("system", "developer", "user", "assistant", "tool"))
MESSAGE_KEYS = frozenset(("role", "content", "name", "weight", "tool_calls", "tool_call_id"))


@dataclass
class Validation:
    """What the checks found: problems per kind (with the first lines), token statistics."""

    examples: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    first_lines: dict[str, int] = field(default_factory=dict)  # problem -> first line (1-based)
    tokens: list[int] = field(default_factory=list)  # per example, in order
    over_limit: int = 0  # examples longer than the model trains on (they would be cut)
    limit: int = UNKNOWN_MAX_TOKENS
    duplicates: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.duplicates

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens)

    def add(self, problem: str, line: int) -> None:
        self.problems[problem] += 1
        self.first_lines.setdefault(problem, line)

    def describe(self) -> list[str]:
        """One line per problem kind: what, how many, the first line it is on."""
        out = [
            f"{problem}: {n} example(s), first on line {self.first_lines[problem]}"
            for problem, n in self.problems.items()
        ]
        if self.duplicates:
            out.append(f"duplicate examples: {self.duplicates}")
        return out


def _check_messages(messages: Any, v: Validation, line: int, where: str) -> bool:
    if not isinstance(messages, list) or not messages:
        v.add(f"{where}: missing messages list", line)
        return False
    good = True
    for m in messages:
        if not isinstance(m, dict) or "role" not in m or "content" not in m:
            v.add(f"{where}: message missing role or content", line)
            good = False
            continue
        if set(m) - MESSAGE_KEYS:
            v.add(f"{where}: message has an unrecognised key", line)
            good = False
        if m["role"] not in ROLES:
            v.add(f"{where}: unrecognised role {m['role']!r}", line)
            good = False
        if not isinstance(m["content"], str):
            v.add(f"{where}: content is not text", line)
            good = False
        elif m["role"] == "assistant" and not m["content"].strip() and not m.get("tool_calls"):
            v.add(f"{where}: empty assistant message", line)
            good = False
    return good


def _single_assistant(output: Any, v: Validation, line: int, where: str) -> str | None:
    if (
        not isinstance(output, list)
        or len(output) != 1
        or not isinstance(output[0], dict)
        or output[0].get("role") != "assistant"
    ):
        v.add(f"{where}: must be a list of one assistant message", line)
        return None
    content = output[0].get("content")
    if not isinstance(content, str) or not content.strip():
        v.add(f"{where}: empty assistant message", line)
        return None
    return content


def _count(example: dict[str, Any], fmt: FinetuneFormat, model: str) -> int:
    if fmt is FinetuneFormat.SFT:
        return count_tokens(example["messages"], model)
    messages = list(example["input"]["messages"])
    return count_tokens(messages + example["preferred_output"], model) + count_tokens(
        example["non_preferred_output"][0]["content"], model
    )


def validate_examples(examples: Sequence[Any], fmt: FinetuneFormat | str, model: str) -> Validation:
    """Run every check on `examples` (parsed JSON lines) for fine-tuning `model`."""
    fmt = FinetuneFormat(fmt)
    price = training_price(model)
    v = Validation(
        examples=len(examples), limit=price.max_tokens_per_example if price else UNKNOWN_MAX_TOKENS
    )
    seen: set[str] = set()
    for line, ex in enumerate(examples, start=1):
        if not isinstance(ex, dict):
            v.add("example is not a JSON object", line)
            continue
        if fmt is FinetuneFormat.SFT:
            if not _check_messages(ex.get("messages"), v, line, "messages"):
                continue
            if not any(m["role"] == "assistant" for m in ex["messages"]):
                v.add("messages: no assistant message", line)
                continue
        else:
            given = ex.get("input")
            if not isinstance(given, dict) or not _check_messages(
                given.get("messages"), v, line, "input"
            ):
                if not isinstance(given, dict):
                    v.add("input: missing", line)
                continue
            if given["messages"][-1]["role"] != "user":
                v.add("input: the last message must be the user's", line)
                continue
            good = _single_assistant(ex.get("preferred_output"), v, line, "preferred_output")
            bad = _single_assistant(ex.get("non_preferred_output"), v, line, "non_preferred_output")
            if good is None or bad is None:
                continue
            if good == bad:
                v.add("preferred and non-preferred outputs are the same", line)
                continue
        digest = hashlib.sha256(json.dumps(ex, sort_keys=True).encode()).hexdigest()
        if digest in seen:
            v.duplicates += 1
        seen.add(digest)
        n = _count(ex, fmt, model)
        v.tokens.append(n)
        if n > v.limit:
            v.over_limit += 1
    return v


def read_jsonl(text: str) -> list[Any]:
    """The JSON lines of a file's text (blank lines skipped); ValueError names a bad line."""
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {i} is not JSON: {exc.msg}") from None
    return out
