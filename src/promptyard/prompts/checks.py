"""Checks a prompt must pass before it is saved, beyond parsing: names the template uses.

Jinja reports an unknown filter or test only when the message renders (and not at all in
a branch that does not run), so a typo would be saved and break a later run; here it is
refused at save, with the line and column where the name is written.
"""

from __future__ import annotations

import difflib

from jinja2 import TemplateSyntaxError

from promptyard.prompts.errors import TemplateError
from promptyard.prompts.render import known_names, unknown_names
from promptyard.prompts.template import PromptTemplate

__all__ = ["check_template"]


def check_template(template: PromptTemplate, source: str) -> None:
    """Raise TemplateError (file line and column) for the first unknown filter or test."""
    for message in template.messages:
        try:
            unknown = unknown_names(message.text)
        except TemplateSyntaxError:
            continue  # not Jinja (a mustache prompt): parse_prompt checked it in its own format
        for kind, name, line, column in unknown:
            close = difflib.get_close_matches(name, known_names(kind), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise TemplateError(
                f"unknown {kind} {name!r}{hint}",
                line=message.first_line + line - 1,
                column=column,
                source=source,
            )
