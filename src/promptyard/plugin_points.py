"""Installed plugins' entry points, read the one way every kind of plugin is read (model
providers, guardrail checks): a name a built-in holds, or an earlier plugin took, is
skipped with a warning naming both, never a silent override."""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

log = logging.getLogger(__name__)


def plugin_entry_points(group: str, builtins: Collection[str], what: str) -> dict[str, EntryPoint]:
    """The entry points of `group` by name, without those `builtins` hold or a plugin took.

    `what` names the kind in the warnings ("provider", "guardrail check").
    """
    from importlib.metadata import entry_points  # read on first need, not at import

    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=group):
        if ep.name in builtins:
            log.warning("%s plugin %r ignored: %r is built in", what, ep.value, ep.name)
        elif ep.name in found:
            log.warning(
                "%s plugin %r ignored: %r is taken by %r",
                what,
                ep.value,
                ep.name,
                found[ep.name].value,
            )
        else:
            found[ep.name] = ep
    return found
