"""Guardrail check plugins: packages that add a detector through the `promptyard.guardrails`
entry-point group (name: the check's name in guardrails.yaml; value: a detector).

A detector is `detect(text: str, options: dict) -> Iterable[Finding | (start, end, kind)]`:
the spans it found (a whole-text verdict is the span (0, len(text))). A plugin package
declares, in its pyproject.toml:

    [project.entry-points."promptyard.guardrails"]
    presidio = "promptyard_presidio:detect"

Entry points are read on first need, then cached; `reset_plugins()` forgets them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.metadata import EntryPoint
from typing import Any

from promptyard.errors import PromptyardError
from promptyard.plugin_points import plugin_entry_points

ENTRY_POINT_GROUP = "promptyard.guardrails"
BUILTIN_CHECKS = frozenset({"pii", "injection", "length", "json", "banned", "judge"})


@dataclass(frozen=True)
class Finding:
    """A span a detector found: where it is and what kind of thing it is (never its text)."""

    start: int
    end: int
    kind: str


Detector = Callable[[str, dict[str, Any]], Iterable[Any]]


class GuardrailPluginError(PromptyardError):
    """A guardrail plugin that is not installed, does not load or answers in a wrong shape."""


@lru_cache(maxsize=1)
def _entry_points() -> dict[str, EntryPoint]:
    return plugin_entry_points(ENTRY_POINT_GROUP, BUILTIN_CHECKS, "guardrail")


def plugin_names() -> frozenset[str]:
    """The check names installed plugins add."""
    return frozenset(_entry_points())


@cache
def load_detector(name: str) -> Detector:
    """The detector of plugin `name`, imported once; GuardrailPluginError otherwise."""
    ep = _entry_points().get(name)
    if ep is None:
        raise GuardrailPluginError(f"no guardrail plugin {name!r} ({ENTRY_POINT_GROUP})")
    try:
        detector = ep.load()
    except Exception as exc:  # a broken plugin is named, not a traceback
        raise GuardrailPluginError(f"guardrail plugin {name!r} did not load: {exc}") from None
    if not callable(detector):
        raise GuardrailPluginError(f"guardrail plugin {name!r} ({ep.value}) is not callable")
    return detector  # type: ignore[no-any-return]


def run_detector(name: str, text: str, options: dict[str, Any]) -> list[Finding]:
    """The spans plugin `name` finds in `text`, checked and clipped to the text."""
    found: list[Finding] = []
    for item in load_detector(name)(text, dict(options)):
        start: Any
        end: Any
        kind: Any
        if isinstance(item, Finding):
            start, end, kind = item.start, item.end, item.kind
        elif isinstance(item, tuple | list) and len(item) == 3:
            start, end, kind = item
        else:
            start = getattr(item, "start", None)
            end = getattr(item, "end", None)
            kind = getattr(item, "kind", None) or getattr(item, "entity_type", name)
        if not isinstance(start, int) or not isinstance(end, int):
            raise GuardrailPluginError(
                f"guardrail plugin {name!r} answered {type(item).__name__}, not (start, end, kind)"
            )
        start, end = max(0, start), min(len(text), end)
        if start < end:
            found.append(Finding(start, end, str(kind)))
    return found


def reset_plugins() -> None:
    """Forget the entry points read so far; the next use reads them again."""
    _entry_points.cache_clear()
    load_detector.cache_clear()
