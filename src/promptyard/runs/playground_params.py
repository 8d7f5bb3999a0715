"""A playground column's call parameters: what the widgets give, checked and made a dict.

Only the parameters the user set are sent; a bad value is a one-line message naming the
parameter and the column, and nothing is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from promptyard.runs.planning import PlanError


class ResponseFormat(StrEnum):
    """What the column asks the model to answer in."""

    TEXT = "text"
    JSON_OBJECT = "json_object"


@dataclass(frozen=True)
class CallSettings:
    """A column's parameters; None: leave it to the prompt's own options and the model."""

    temperature: float | None = None
    max_tokens: int | str | None = None
    top_p: float | None = None
    seed: int | str | None = None  # a str is refused with a message
    response_format: str = ResponseFormat.TEXT

    def parameters(self, where: str = "column") -> dict[str, Any]:
        """The call parameters these settings send. Raises PlanError naming the bad field."""
        problems = []
        out: dict[str, Any] = {}
        if self.temperature is not None:
            if not 0 <= self.temperature <= 2:
                problems.append(f"{where}: temperature must be between 0 and 2")
            out["temperature"] = float(self.temperature)
        if self.max_tokens is not None:
            if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int):
                problems.append(f"{where}: max tokens must be a whole number")
            elif self.max_tokens < 1:
                problems.append(f"{where}: max tokens must be at least 1")
            out["max_tokens"] = self.max_tokens
        if self.top_p is not None:
            if not 0 <= self.top_p <= 1:
                problems.append(f"{where}: top_p must be between 0 and 1")
            out["top_p"] = float(self.top_p)
        if self.seed is not None:
            if isinstance(self.seed, bool) or not isinstance(self.seed, int):
                problems.append(f"{where}: seed must be a whole number")
            out["seed"] = self.seed
        try:
            kind = ResponseFormat(self.response_format)
        except ValueError:
            choices = ", ".join(f.value for f in ResponseFormat)
            problems.append(f"{where}: response format must be one of {choices}")
        else:
            if kind is ResponseFormat.JSON_OBJECT:
                out["response_format"] = {"type": "json_object"}
        if problems:
            raise PlanError(problems)
        return out
