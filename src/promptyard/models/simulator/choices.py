"""The choices of a simulated chat answer: `n` of them, each text or tool calls, cut by
`stop` and `max_tokens`, with log probabilities when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promptyard.models.simulator.answers import _content_text, _count_tokens, simulated_answer
from promptyard.models.simulator.logprobs import logprobs_for
from promptyard.models.simulator.tool_calls import chosen_tool, tool_call
from promptyard.prompts.tokens import truncate_to_tokens


@dataclass
class SimChoice:
    """One choice: its text or tool calls, why it ended, what it counts."""

    index: int
    text: str | None
    finish_reason: str
    completion_tokens: int
    tool_calls: list[dict[str, Any]] | None = None
    logprobs: dict[str, Any] | None = None

    def message(self) -> dict[str, Any]:
        """The `choices[i].message` of a chat completion."""
        out: dict[str, Any] = {"role": "assistant", "content": self.text, "refusal": None}
        if self.tool_calls:
            out["tool_calls"] = self.tool_calls
        return out

    def as_json(self) -> dict[str, Any]:
        """The whole `choices[i]` entry."""
        return {
            "index": self.index,
            "message": self.message(),
            "finish_reason": self.finish_reason,
            "logprobs": self.logprobs,
        }


def cut_at_stop(text: str, stop: Any) -> tuple[str, bool]:
    """`text` up to the first stop sequence (not included), and whether one was found."""
    sequences = [stop] if isinstance(stop, str) else [s for s in stop or [] if s]
    cuts = [text.find(s) for s in sequences if s and s in text]
    if not cuts:
        return text, False
    return text[: min(cuts)], True


def _max_tokens(body: dict[str, Any]) -> int | None:
    value = body.get("max_completion_tokens") or body.get("max_tokens")
    return value if isinstance(value, int) and value > 0 else None


def text_choice(index: int, text: str, body: dict[str, Any], want_logprobs: bool) -> SimChoice:
    """A text choice: `stop` cuts it (finish "stop"), `max_tokens` truncates it ("length")."""
    text, _ = cut_at_stop(text, body.get("stop"))
    tokens = _count_tokens(text)
    finish = "stop"
    limit = _max_tokens(body)
    if limit is not None and limit < tokens:
        text, tokens, finish = truncate_to_tokens(text, limit, "gpt-4o-mini"), limit, "length"
    top = int(body.get("top_logprobs") or 0)
    return SimChoice(
        index, text, finish, tokens, logprobs=logprobs_for(text, top) if want_logprobs else None
    )


def chat_choices(model: str, body: dict[str, Any], variant: str) -> list[SimChoice]:
    """The `n` choices of a chat request (choice 0 is the answer `n=1` would give)."""
    messages = body.get("messages") or []
    conversation = "\n".join(_content_text(m.get("content")) for m in messages)
    n = int(body.get("n") or 1)
    tool = chosen_tool(body, conversation)
    temperature = float(body.get("temperature", 1.0) or 0.0)
    out: list[SimChoice] = []
    for i in range(n):
        seed = variant if i == 0 else f"{variant}|choice-{i}"
        if tool is not None:
            # like the text, arguments vary with the repeat only at temperature > 0
            seed = seed if temperature > 0 else f"choice-{i}"
            call = tool_call(tool, conversation, f"{model}|{seed}|{len(messages)}")
            tokens = _count_tokens(call["function"]["name"] + call["function"]["arguments"])
            out.append(SimChoice(i, None, "tool_calls", tokens, tool_calls=[call]))
            continue
        text = simulated_answer(model, messages, body, seed)
        out.append(text_choice(i, text, body, bool(body.get("logprobs"))))
    return out
