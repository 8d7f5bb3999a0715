"""A parsed prompt file: its fields, its messages (split before rendering), its variables.

`parse_prompt` (in `format`) builds a PromptTemplate from a `.prompty` file; its
`render(**values)` fills the messages in through the sandbox (`render`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from promptyard.prompts.errors import MissingVariablesError
from promptyard.prompts.limits import render_budget
from promptyard.prompts.render import render_text, variables_in_order

ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class MessageTemplate:
    """One chat message of the body, before rendering."""

    role: str
    text: str
    first_line: int  # 1-based line in the file where this message's text starts


@dataclass
class PromptTemplate:
    """A parsed prompt file. `render(**values)` returns the chat messages."""

    name: str
    body: str
    source_text: str
    description: str = ""
    model: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    response_schema: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    messages: list[MessageTemplate] = field(default_factory=list)
    version: Any = None  # the store Version it was read at, when read from the store

    @property
    def variables(self) -> list[str]:
        """Every variable the body uses, in first-use order."""
        seen: dict[str, None] = {}
        for message in self.messages:
            for name in variables_in_order(message.text):
                seen.setdefault(name, None)
        return list(seen)

    @property
    def samples(self) -> dict[str, Any]:
        """Sample values declared under `inputs:` in the front matter."""
        return {k: v["sample"] for k, v in self.inputs.items() if "sample" in v}

    def missing(self, values: dict[str, Any]) -> list[str]:
        """The variables the body uses that `values` does not give."""
        return [name for name in self.variables if name not in values]

    def render(
        self, values: dict[str, Any] | None = None, /, **kwargs: Any
    ) -> list[dict[str, str]]:
        """The chat messages with `values` filled in.

        Raises MissingVariablesError naming every missing variable, or TemplateError when
        the template does something the sandbox refuses (TemplateTimeoutError when all
        the messages together take longer than the time limit, see `limits`).
        """
        merged = {**(values or {}), **kwargs}
        missing = self.missing(merged)
        if missing:
            raise MissingVariablesError(missing, source=self.name)
        rendered = []
        with render_budget():  # one deadline for the whole prompt, not one per message
            for message in self.messages:
                text = render_text(message.text, merged, self.name, message.first_line)
                rendered.append({"role": message.role, "content": text})
        return rendered
