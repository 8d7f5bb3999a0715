"""A parsed prompt file: its fields, its messages (split before rendering), its variables.

`parse_prompt` (in `format`) builds a PromptTemplate from a `.prompty` file; its
`render(**values)` fills the messages in through the sandbox (`engines`). The fields
follow the Prompty specification: `inputs` and `outputs` are property lists (kept here as
mappings by name), `tools` are OpenAI tool dicts converted from Prompty's definitions and
`parameters` are the call parameters converted from `model.options`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from promptyard.prompts.engines import TemplateFormat, render_template, template_variables
from promptyard.prompts.errors import MissingVariablesError
from promptyard.prompts.limits import render_budget
from promptyard.prompts.references import resolve_env
from promptyard.prompts.thread import split_at_marker, thread_markers, thread_turns

ROLES = ("system", "developer", "user", "assistant")


@dataclass(frozen=True)
class MessageTemplate:
    """One chat message of the body, before rendering."""

    role: str
    text: str
    first_line: int  # 1-based line in the file where this message's text starts
    name: str | None = None  # from a role line with attributes: `user[name="Alice"]:`


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
    tools: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    template_format: TemplateFormat = TemplateFormat.JINJA2
    # `model.connection` as written: `${env:...}` references stay unresolved here.
    connection: dict[str, Any] | None = None
    front: dict[str, Any] = field(default_factory=dict)  # the front matter as written
    # Top-level fields written as `${file:...}`, with the content read from the file.
    referenced: dict[str, Any] = field(default_factory=dict)
    label: str | None = None  # the label it was loaded by (`get_prompt(..., label=...)`)

    @property
    def variables(self) -> list[str]:
        """Every variable the body uses, in first-use order."""
        seen: dict[str, None] = {}
        for message in self.messages:
            for name in template_variables(message.text, self.template_format):
                seen.setdefault(name, None)
        return list(seen)

    @property
    def thread_inputs(self) -> list[str]:
        """The inputs of `kind: thread`, in declaration order."""
        return [k for k, v in self.inputs.items() if v.get("kind") == "thread"]

    @property
    def defaults(self) -> dict[str, Any]:
        """Default values declared under `inputs:`; they fill variables a caller leaves out."""
        return {k: v["default"] for k, v in self.inputs.items() if v.get("default") is not None}

    @property
    def samples(self) -> dict[str, Any]:
        """Example values declared under `inputs:` (`example`, or the classic `sample`)."""
        return {k: v["example"] for k, v in self.inputs.items() if "example" in v}

    def missing(self, values: dict[str, Any]) -> list[str]:
        """The variables (and thread inputs) that neither `values` nor a default gives."""
        given = {**self.defaults, **values}
        needed = dict.fromkeys([*self.variables, *self.thread_inputs])
        return [name for name in needed if name not in given]

    def trace_attributes(
        self, values: dict[str, Any] | None = None, /, **variables: Any
    ) -> dict[str, str | int]:
        """OpenTelemetry span attributes naming this prompt version, for `span.set_attributes`.

        `promptyard.prompt.name`; `.version` (int) and `.sha` when it was read at a saved
        version (left out when unknown: an unsaved file, a shallow clone's numbers);
        `.label` when loaded by label; `.variables`, the JSON of the values given here (pass
        the ones given to `render`), only when some are given. The collector links a span
        carrying them to that version.
        """
        attributes: dict[str, str | int] = {"promptyard.prompt.name": self.name}
        number = getattr(self.version, "number", None)
        sha = getattr(self.version, "sha", None)
        if isinstance(number, int):
            attributes["promptyard.prompt.version"] = number
        if isinstance(sha, str) and sha:
            attributes["promptyard.prompt.sha"] = sha
        if self.label:
            attributes["promptyard.prompt.label"] = self.label
        given = {**(values or {}), **variables}
        if given:
            attributes["promptyard.prompt.variables"] = json.dumps(
                given, ensure_ascii=False, sort_keys=True, default=str
            )
        return attributes

    def resolved_connection(self) -> dict[str, Any] | None:
        """`model.connection` with `${env:...}` read now; use it for one call, do not keep it."""
        if self.connection is None:
            return None
        return resolve_env(self.connection, where=self.name)  # type: ignore[no-any-return]

    def render(
        self, values: dict[str, Any] | None = None, /, **kwargs: Any
    ) -> list[dict[str, str]]:
        """The chat messages with `values` (then the declared defaults) filled in.

        A thread input's items become separate messages where the template places it.
        Raises MissingVariablesError naming every variable with neither a value nor a
        default, or TemplateError when the template does something the sandbox refuses
        (TemplateTimeoutError when all the messages together take longer than the time
        limit, see `limits`).
        """
        merged = {**self.defaults, **(values or {}), **kwargs}
        missing = self.missing(merged)
        if missing:
            raise MissingVariablesError(missing, source=self.name)
        with render_budget():  # one deadline for the whole prompt, not one per message
            return self._render_messages(merged)

    def _render_messages(self, merged: dict[str, Any]) -> list[dict[str, str]]:
        threads = self.thread_inputs
        markers = thread_markers(threads)
        render_values = {**merged, **markers}
        rendered: list[dict[str, str]] = []
        placed = False
        for message in self.messages:
            text = render_template(
                message.text, render_values, self.template_format, self.name, message.first_line
            )
            split = split_at_marker(text, markers) if markers else None
            if split is None:
                rendered.append(_message(message, text))
                continue
            placed = True
            before, thread, after = split
            if before:
                rendered.append(_message(message, before))
            rendered += thread_turns(merged[thread], thread, self.name)
            if after:
                rendered.append(_message(message, after))
        if threads and not placed:
            for thread in threads:
                rendered += thread_turns(merged[thread], thread, self.name)
        return rendered


def _message(message: MessageTemplate, content: str) -> dict[str, str]:
    out = {"role": message.role, "content": content}
    if message.name:
        out["name"] = message.name
    return out
