"""Finding an evaluator by assertion type, checking an assertion, and grading an output.

Built-in evaluators come from the family modules imported below. Installed packages add
more through the entry-point group `promptyard.evaluators`: the entry point's name is the
assertion type a suite uses, its value a function `(output, ctx, assertion) -> Grade` or
an `Evaluator`. Plugins are discovered on the first look-up of a type that is not built
in (or by `describe`), then cached; `reset_plugins` forgets them. A built-in type always
wins over a plugin of the same name.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from importlib.metadata import EntryPoint, entry_points
from typing import Any

# Each family module registers its evaluators into EVALUATORS when imported.
import promptyard.evals.evaluators.custom
import promptyard.evals.evaluators.guardrail
import promptyard.evals.evaluators.json
import promptyard.evals.evaluators.length
import promptyard.evals.evaluators.performance
import promptyard.evals.evaluators.rubric
import promptyard.evals.evaluators.similarity
import promptyard.evals.evaluators.text
import promptyard.evals.evaluators.tools  # noqa: F401
from promptyard.evals.evaluators.base import (
    EVALUATORS,
    Assertion,
    AssertionConfigError,
    EvalContext,
    Evaluator,
    Grade,
    shorten,
)
from promptyard.evals.evaluators.placeholders import fill_value

logger = logging.getLogger(__name__)

PLUGIN_GROUP = "promptyard.evaluators"


@dataclass(frozen=True)
class _Plugins:
    evaluators: dict[str, Evaluator]
    sources: dict[str, str]  # assertion type -> the distribution that provides it
    broken: dict[str, str]  # assertion type -> why its entry point did not load


_plugins: _Plugins | None = None
_plugins_lock = threading.Lock()


def reset_plugins() -> None:
    """Forget the discovered plugins; the next look-up discovers them again."""
    global _plugins
    with _plugins_lock:
        _plugins = None


def plugin_evaluators() -> dict[str, Evaluator]:
    """The evaluators installed plugins add, by assertion type (discovered once, cached)."""
    return dict(_discovered().evaluators)


def _discovered() -> _Plugins:
    global _plugins
    with _plugins_lock:
        if _plugins is None:
            _plugins = _discover()
        return _plugins


def _discover() -> _Plugins:
    found: dict[str, Evaluator] = {}
    sources: dict[str, str] = {}
    broken: dict[str, str] = {}
    for ep in entry_points(group=PLUGIN_GROUP):
        source = _distribution(ep)
        if ep.name in EVALUATORS:
            logger.warning(
                "evaluator plugin %r from %s ignored: a built-in evaluator has that name",
                ep.name,
                source,
            )
            continue
        if ep.name in found:
            logger.warning(
                "evaluator plugin %r from %s ignored: %s already provides it",
                ep.name,
                source,
                sources[ep.name],
            )
            continue
        try:
            found[ep.name] = _as_evaluator(ep.name, ep.load(), source)
            sources[ep.name] = source
        except Exception as exc:  # a broken plugin must not stop the others or the built-ins
            logger.warning(
                "evaluator plugin %r (%s) from %s did not load",
                ep.name,
                ep.value,
                source,
                exc_info=True,
            )
            broken[ep.name] = f"{source} ({ep.value}): {type(exc).__name__}: {exc}"
    return _Plugins(found, sources, broken)


def _distribution(ep: EntryPoint) -> str:
    dist = ep.dist
    return f"{dist.name} {dist.version}" if dist is not None else "an unknown package"


def _as_evaluator(name: str, obj: Any, source: str) -> Evaluator:
    if isinstance(obj, Evaluator):
        if obj.fn is None:
            raise TypeError("a plugin Evaluator needs a function (`fn`)")
        return replace(obj, name=name)
    if callable(obj):
        doc = (getattr(obj, "__doc__", None) or "").strip().splitlines()
        description = doc[0] if doc else f"from the plugin {source}"
        return Evaluator(name, obj, description, needs_value=False)
    raise TypeError(f"{type(obj).__name__} is neither a function nor an Evaluator")


def known_types() -> list[str]:
    """Every assertion type a suite can use (built-in and from plugins), sorted."""
    return sorted({*EVALUATORS, *_discovered().evaluators})


def lookup(kind: str) -> Evaluator:
    """The evaluator for an assertion type (with or without `not-`); built-ins first,
    then plugins. Raises AssertionConfigError for an unknown type."""
    base = kind[4:] if kind.startswith("not-") else kind
    evaluator = EVALUATORS.get(base) or _discovered().evaluators.get(base)
    if evaluator is None or (base != kind and not evaluator.negatable):
        raise AssertionConfigError(f"unknown assertion type {kind!r}")
    return evaluator


def check_assertion(a: Assertion, config: bool = True) -> None:
    """Raise AssertionConfigError (naming `a.where`) when `a` cannot run.

    With `config=False` only the type is checked.
    """
    try:
        evaluator = lookup(a.type)
    except AssertionConfigError:
        problem = _discovered().broken.get(a.base_type)
        if problem:
            raise AssertionConfigError(
                f"{a.where}: assertion type {a.type!r} comes from a plugin that did not load: "
                f"{shorten(problem, 300)}"
            ) from None
        raise AssertionConfigError(
            f"{a.where}: unknown assertion type {a.type!r} "
            f"(known: {', '.join(known_types())}; prefix not- to negate)"
        ) from None
    if not config:
        return
    if evaluator.needs_value and a.value is None:
        raise AssertionConfigError(f"{a.where}: {a.type} needs a `value:`")
    if evaluator.check:
        evaluator.check(a)


def evaluate(output: str | None, ctx: EvalContext, a: Assertion) -> Grade:
    """Grade one output with one code assertion (not `llm-rubric`); never raises.

    A failed call (no output) fails every assertion. A `not-` assertion inverts the check.
    """
    evaluator = lookup(a.type)
    if evaluator.fn is None:
        raise AssertionConfigError(f"{a.type} is asynchronous; use judge()")
    if output is None:
        return Grade(0.0, False, f"no output: {ctx.error or 'the call failed'}")
    try:
        value = fill_value(a.value, ctx)
        if value is None and evaluator.uses_reference:
            if ctx.reference is None:
                return Grade(None, False, "no value and the row has no reference", error=True)
            value = ctx.reference
        grade = evaluator.fn(output, ctx, replace(a, value=value))
        if not isinstance(grade, Grade):
            raise TypeError(f"returned {type(grade).__name__}, not a Grade")
    except Exception as exc:  # an evaluator's bug or a custom file's error must not stop scoring
        logger.debug("evaluator %s failed at %s", a.type, a.where, exc_info=True)
        return Grade(
            None,
            False,
            f"{a.where or a.type}: evaluator failed: {shorten(str(exc) or type(exc).__name__, 160)}",
            error=True,
        )
    if a.negated:
        inverted = None if grade.value is None else 1.0 - grade.value
        return Grade(
            inverted,
            not grade.passed and not grade.error,
            f"not: {grade.reason}",
            error=grade.error,
        )
    return grade


def describe() -> list[dict[str, Any]]:
    """Every evaluator a suite can use: type, description, whether `not-` applies, and
    where it comes from ("built-in" or the plugin's distribution)."""
    found = _discovered()
    everything = {**found.evaluators, **EVALUATORS}
    return [
        {
            "type": e.name,
            "description": e.description,
            "negatable": e.negatable,
            "source": found.sources.get(e.name, "built-in"),
        }
        for e in sorted(everything.values(), key=lambda e: e.name)
    ]
