"""Rendering in the sandbox: a Jinja2 `SandboxedEnvironment` with `StrictUndefined`.

The sandbox refuses attribute tricks, and size limits on `*`, `**` and the rendered text
keep a template from exhausting memory.
"""

from __future__ import annotations

import functools
import operator
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from promptyard.prompts.errors import TemplateError

MAX_RENDERED_CHARS = 2_000_000  # a template may not build strings past this size


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with size limits on `*` and `**` so a template cannot exhaust memory."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**" and isinstance(right, int) and abs(right) > 1000:
            raise SecurityError("exponent too large in template")
        if operator_name == "*":
            for seq, count in ((left, right), (right, left)):
                sized = isinstance(seq, str | list | tuple) and isinstance(count, int)
                if sized and len(seq) * count > MAX_RENDERED_CHARS:
                    raise SecurityError("template builds a value that is too large")
            return operator.mul(left, right)
        return super().call_binop(context, operator_name, left, right)


def _make_env() -> SandboxedEnvironment:
    env = _Sandbox(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    for unsafe_global in ("cycler", "joiner", "lipsum"):
        env.globals.pop(unsafe_global, None)
    return env


_ENV = _make_env()


def check_syntax(text: str) -> None:
    """Parse one message's template text; raises jinja2's TemplateSyntaxError."""
    _ENV.parse(text)


def render_text(text: str, values: dict[str, Any], source: str) -> str:
    """One message's text rendered with `values`; TemplateError when the sandbox refuses."""
    try:
        rendered = _compiled(text).render(values)
    except SecurityError as exc:
        raise TemplateError(f"refused by the sandbox: {exc}", source=source) from None
    except UndefinedError as exc:
        raise TemplateError(f"undefined value: {exc}", source=source) from None
    except TemplateSyntaxError as exc:  # pragma: no cover - caught at parse time
        raise TemplateError(exc.message or "syntax error", source=source) from None
    except Exception as exc:  # a template can raise anything (1/0, bad filters)
        raise TemplateError(f"{type(exc).__name__}: {exc}", source=source) from None
    if len(rendered) > MAX_RENDERED_CHARS:
        raise TemplateError("rendered message is too large", source=source)
    return rendered.strip("\n")


@functools.lru_cache(maxsize=512)
def _compiled(text: str) -> Any:
    # Compiling is most of a render's cost; a run renders one template for every row.
    return _ENV.from_string(text)


@functools.lru_cache(maxsize=512)
def variables_in_order(text: str) -> tuple[str, ...]:
    """The variables `text` uses (not the sandbox's globals), in first-use order."""
    ast = _ENV.parse(text)
    undeclared = meta.find_undeclared_variables(ast)
    ordered: dict[str, None] = {}
    for node in ast.find_all(nodes.Name):
        if node.name in undeclared:
            ordered.setdefault(node.name, None)
    return tuple(n for n in ordered if n not in _ENV.globals)
