"""Mustache templates (`template: {format: {kind: mustache}}`), rendered with chevron.

Chevron is the library Prompty itself renders Mustache with, so escaping and standalone
tag lines match. Partials (`{{> name}}`) would read files from the current directory and
are refused when the prompt is parsed.
"""

from __future__ import annotations

import functools
from typing import Any

import chevron  # type: ignore[import-untyped]
from chevron.tokenizer import ChevronError, tokenize  # type: ignore[import-untyped]

from promptyard.prompts.errors import TemplateError
from promptyard.prompts.render import MAX_RENDERED_CHARS

_VALUE_TAGS = {"variable", "no escape", "section", "inverted section"}


@functools.lru_cache(maxsize=512)
def _tokens(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(tokenize(text))


def check_mustache(text: str) -> tuple[int, str] | None:
    """None when `text` is a Mustache template Promptyard renders, else (line offset, why)."""
    try:
        tokens = _tokens(text)
    except ChevronError as exc:
        return 0, "mustache syntax error: " + "; ".join(str(exc).split("\n"))
    for tag, key in tokens:
        if tag == "partial":
            line = _line_of_tag(text, "{{>")
            return line, f"mustache partial '{{{{> {key}}}}}' is not supported"
    return None


def _line_of_tag(text: str, opener: str) -> int:
    index = text.find(opener)
    return text.count("\n", 0, index) if index >= 0 else 0


@functools.lru_cache(maxsize=512)
def mustache_variables(text: str) -> tuple[str, ...]:
    """The top-level names `text` reads, in first-use order (names inside a section may
    come from the section's item, so only those outside every section count)."""
    ordered: dict[str, None] = {}
    depth = 0
    for tag, key in _tokens(text):
        if tag in _VALUE_TAGS and depth == 0 and key != ".":
            ordered.setdefault(key.split(".")[0].strip(), None)
        if tag in ("section", "inverted section"):
            depth += 1
        elif tag == "end":
            depth = max(0, depth - 1)
    return tuple(ordered)


def render_mustache(text: str, values: dict[str, Any], source: str) -> str:
    """One message's Mustache text rendered with `values` (no partials, size-limited)."""
    try:
        rendered = chevron.render(text, values, partials_path=None, partials_dict={})
    except Exception as exc:  # chevron raises plain errors on bad data
        raise TemplateError(f"mustache: {type(exc).__name__}: {exc}", source=source) from None
    if len(rendered) > MAX_RENDERED_CHARS:
        raise TemplateError("rendered message is too large", source=source)
    return str(rendered).strip("\n")
