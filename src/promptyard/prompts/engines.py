"""The template formats a prompt's messages are written in: Jinja2 and Mustache.

Jinja2 renders in Promptyard's sandbox (`render`), but with Prompty's whitespace rules:
Prompty's environment keeps the newline after a block tag and the indentation before it,
where the sandbox trims both. Each block and comment tag is given Jinja's `+` modifier
(`{%+ if x +%}`), which turns the trimming off for that tag, so a file renders the same
text in Promptyard and in Prompty.
"""

from __future__ import annotations

import functools
import re
from enum import StrEnum
from typing import Any

from jinja2.sandbox import SandboxedEnvironment

from promptyard.prompts.mustache import check_mustache, mustache_variables, render_mustache
from promptyard.prompts.render import check_syntax, render_text, variables_in_order

_ENV_FOR_PARSING = SandboxedEnvironment()  # only parses: looks for tags that need a loader


class TemplateFormat(StrEnum):
    """`template.format.kind` values Promptyard renders."""

    JINJA2 = "jinja2"
    MUSTACHE = "mustache"


# A variable tag is matched (and left alone) so that `{{ '{%' }}` is not rewritten.
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_RAW = re.compile(r"\{%[-+]?\s*raw\s*[-+]?%\}.*?\{%[-+]?\s*endraw\s*[-+]?%\}", re.DOTALL)


def _keep_whitespace(tag: str) -> str:
    if tag.startswith("{{"):
        return tag
    opener, closer = tag[:2], tag[-2:]
    inner = tag[2:-2]
    if not inner.startswith(("-", "+")):
        inner = "+" + inner
    if not inner.endswith(("-", "+")):
        inner = inner + "+"
    return opener + inner + closer


@functools.lru_cache(maxsize=512)
@functools.lru_cache(maxsize=512)  # a run renders one text for every row
def prompty_whitespace(text: str) -> str:
    """`text` with every block and comment tag marked not to trim (raw blocks kept)."""
    out: list[str] = []
    last = 0
    for raw in _RAW.finditer(text):
        out.append(_TAG.sub(lambda m: _keep_whitespace(m.group(0)), text[last : raw.start()]))
        out.append(raw.group(0))
        last = raw.end()
    out.append(_TAG.sub(lambda m: _keep_whitespace(m.group(0)), text[last:]))
    return "".join(out)


def parse_jinja(text: str) -> Any:
    """The Jinja2 syntax tree of `text` (jinja2.nodes.Template)."""
    return _ENV_FOR_PARSING.parse(text)


def check_format_syntax(text: str, fmt: TemplateFormat) -> tuple[int, str] | None:
    """Jinja2: raises jinja2's TemplateSyntaxError. Mustache: (line offset, why) or None."""
    if fmt is TemplateFormat.MUSTACHE:
        return check_mustache(text)
    check_syntax(text)
    return None


def template_variables(text: str, fmt: TemplateFormat) -> tuple[str, ...]:
    """The variables one message's text reads, in first-use order."""
    if fmt is TemplateFormat.MUSTACHE:
        return mustache_variables(text)
    return variables_in_order(text)


def render_template(
    text: str, values: dict[str, Any], fmt: TemplateFormat, source: str, first_line: int = 1
) -> str:
    """One message's text rendered with `values`; TemplateError (naming the file line, from
    `first_line` on) when it cannot be, within the render limits of `limits`."""
    if fmt is TemplateFormat.MUSTACHE:
        return render_mustache(text, values, source)
    return render_text(prompty_whitespace(text), values, source, first_line)
