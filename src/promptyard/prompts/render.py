"""Rendering in the sandbox: a Jinja2 `SandboxedEnvironment` with `StrictUndefined`.

The sandbox (`sandbox`) refuses attribute tricks and runs every render under a deadline
and size limits (`limits`); what it refuses comes back as a TemplateError naming the line.
"""

from __future__ import annotations

import functools
import re
from types import TracebackType
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, TemplateAssertionError, UndefinedError

from promptyard.prompts.errors import TemplateError, TemplateLimitError, TemplateTimeoutError
from promptyard.prompts.limits import (
    MAX_RENDERED_CHARS,
    RenderLimitError,
    RenderLimits,
    RenderTimeout,
    render_budget,
)
from promptyard.prompts.sandbox import LimitedSandbox, guard_loops

__all__ = [
    "MAX_RENDERED_CHARS",
    "check_syntax",
    "known_names",
    "render_text",
    "unknown_names",
    "variables_in_order",
]

_TEMPLATE_FILE = "<template>"  # the file name Jinja gives the frames of template code
_LONG_NUMBER = re.compile(r"\d{4301,}")
_NEWLINES = re.compile(r"\r\n|\r")


def _make_env() -> LimitedSandbox:
    return LimitedSandbox(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


_ENV = _make_env()


def check_syntax(text: str) -> None:
    """Parse one message's template text; raises jinja2's TemplateSyntaxError."""
    try:
        _ENV.parse(text)
    except TemplateSyntaxError:
        raise
    except Exception as exc:  # the lexer lets some errors through raw (a 5,000-digit number)
        found = _LONG_NUMBER.search(text)
        line = text.count("\n", 0, found.start()) + 1 if found else 1
        reason = "a number with more than 4,300 digits" if found else f"{exc}"
        raise TemplateSyntaxError(reason, line) from None


def unknown_names(text: str) -> list[tuple[str, str, int, int]]:
    """The filters and tests `text` uses that do not exist: (kind, name, line, column).

    `line` and `column` are 1-based in `text`; the column is where the name is written.
    """
    ast = _ENV.parse(text)
    lines = text.split("\n")
    found = []
    for kind, node_type, known in (
        ("filter", nodes.Filter, _ENV.filters),
        ("test", nodes.Test, _ENV.tests),
    ):
        for node in ast.find_all(node_type):
            if node.name in known:
                continue
            line = node.lineno
            line_text = lines[line - 1] if 0 < line <= len(lines) else ""
            at = re.search(rf"(?:\||\bis\s+(?:not\s+)?)\s*({re.escape(node.name)})\b", line_text)
            found.append((kind, node.name, line, at.start(1) + 1 if at else 1))
    return sorted(found, key=lambda item: (item[2], item[3]))


def known_names(kind: str) -> list[str]:
    """The filters (`kind` "filter") or tests a template may use."""
    names = _ENV.filters if kind == "filter" else _ENV.tests
    return sorted(n for n in names if not n.startswith("_"))


def _template_line(tb: TracebackType | None) -> int | None:
    """The template line the innermost frame of template code was at, if any."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_text(
    text: str,
    values: dict[str, Any],
    source: str,
    first_line: int = 1,
    limits: RenderLimits | None = None,
) -> str:
    """One message's text rendered with `values` under the time and size limits.

    `first_line` is the file line the message starts on, so errors name file lines.
    Raises TemplateTimeoutError past the deadline, TemplateLimitError past a size limit,
    and TemplateError for anything else the template does wrong.
    """

    def at(line: int | None) -> int | None:
        return None if line is None else first_line + line - 1

    if "{" not in text:  # no tag at all: Jinja would give the text back as it is
        return _constant(text, limits, source)
    with render_budget(limits) as budget:
        try:
            rendered = _compiled(text).render(values)
        except TemplateSyntaxError as exc:  # compile errors: an unknown filter or test
            reason = exc.message or "syntax error"
            raise TemplateError(reason, line=at(exc.lineno), source=source) from None
        except RenderTimeout as exc:
            raise TemplateTimeoutError(
                str(exc), line=at(_template_line(exc.__traceback__)), source=source
            ) from None
        except RenderLimitError as exc:
            raise TemplateLimitError(
                str(exc), line=at(_template_line(exc.__traceback__)), source=source
            ) from None
        except SecurityError as exc:
            line = at(_template_line(exc.__traceback__))
            raise TemplateError(
                f"refused by the sandbox: {exc}", line=line, source=source
            ) from None
        except UndefinedError as exc:
            line = at(_template_line(exc.__traceback__))
            raise TemplateError(f"undefined value: {exc}", line=line, source=source) from None
        except RecursionError:
            raise TemplateLimitError(
                "the template recurses too deeply (a macro calling itself?)", source=source
            ) from None
        except Exception as exc:  # a template can raise anything (1/0, bad filter arguments)
            line = at(_template_line(exc.__traceback__))
            raise TemplateError(f"{type(exc).__name__}: {exc}", line=line, source=source) from None
        if len(rendered) > budget.limits.max_chars:
            raise TemplateLimitError("rendered message is too large", source=source)
    return rendered.strip("\n")


def _constant(text: str, limits: RenderLimits | None, source: str) -> str:
    """What Jinja renders for a text with no tag: its newlines made \\n (the lexer's
    normalisation), the last one dropped (no keep_trailing_newline), under the size limit."""
    rendered = _NEWLINES.sub("\n", text)
    rendered = rendered[:-1] if rendered.endswith("\n") else rendered
    with render_budget(limits) as budget:
        if len(rendered) > budget.limits.max_chars:
            raise TemplateLimitError("rendered message is too large", source=source)
    return rendered.strip("\n")


@functools.lru_cache(maxsize=512)
def _compiled(text: str) -> Any:
    # Compiling is most of a render's cost; a run renders one template for every row.
    return _ENV.from_string(guard_loops(_ENV.parse(text)))


@functools.lru_cache(maxsize=512)
def variables_in_order(text: str) -> tuple[str, ...]:
    """The variables `text` uses (not the sandbox's globals), in first-use order."""
    ast = _ENV.parse(text)
    try:
        undeclared = meta.find_undeclared_variables(ast)
    except TemplateAssertionError:
        # An unknown filter stops Jinja's analysis; rendering reports it with its line.
        stored = {n.name for n in ast.find_all(nodes.Name) if n.ctx != "load"}
        undeclared = {n.name for n in ast.find_all(nodes.Name)} - stored
    ordered: dict[str, None] = {}
    for node in ast.find_all(nodes.Name):
        if node.name in undeclared:
            ordered.setdefault(node.name, None)
    return tuple(n for n in ordered if n not in _ENV.globals)
