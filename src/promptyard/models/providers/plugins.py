"""Provider plugins: packages that add a provider kind through the `promptyard.providers`
entry-point group (name: the provider kind; value: a factory `(endpoint) -> Provider`).

A plugin package declares, in its pyproject.toml:

    [project.entry-points."promptyard.providers"]
    echo = "promptyard_echo:EchoProvider"

Entry points are read on first need (a call, or a model string with an unknown prefix),
then cached; `reset_plugins()` forgets them (tests install plugins on the fly).
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import TYPE_CHECKING

from promptyard.errors import PromptyardError
from promptyard.models.providers.base import ProviderFactory, ProviderKind
from promptyard.plugin_points import plugin_entry_points

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

ENTRY_POINT_GROUP = "promptyard.providers"


class UnknownProviderError(PromptyardError):
    """An endpoint names a provider kind that is neither built in nor installed as a plugin."""


@lru_cache(maxsize=1)
def _entry_points() -> dict[str, EntryPoint]:
    return plugin_entry_points(ENTRY_POINT_GROUP, {kind.value for kind in ProviderKind}, "provider")


def plugin_names() -> frozenset[str]:
    """The provider kinds installed plugins add."""
    return frozenset(_entry_points())


@cache
def load_factory(name: str) -> ProviderFactory:
    """The factory of plugin `name`, imported once. Raises `UnknownProviderError`."""
    ep = _entry_points().get(name)
    if ep is None:
        installed = ", ".join(sorted(_entry_points())) or "none"
        raise UnknownProviderError(
            f"no provider {name!r}: built in are {', '.join(ProviderKind)}; "
            f"plugins installed ({ENTRY_POINT_GROUP} entry points): {installed}"
        )
    factory = ep.load()
    if not callable(factory):
        raise UnknownProviderError(f"provider plugin {name!r} ({ep.value}) is not callable")
    return factory  # type: ignore[no-any-return]


def reset_plugins() -> None:
    """Forget the entry points read so far; the next call reads them again."""
    _entry_points.cache_clear()
    load_factory.cache_clear()
