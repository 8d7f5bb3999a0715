"""Package faces that import their public names on first use (PEP 562).

A face lists where each name lives; `lazy_face` gives it the module-level `__getattr__`
and `__dir__` that import a name (or a listed submodule) when it is first asked for and
keep it in the package's namespace. A run's start and end then load only the modules they
use, while `from promptyard.runs import create_run` still works. Each face keeps a
`TYPE_CHECKING` block with the same imports, for type checkers and editors.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any


def lazy_face(
    package: str,
    homes: Mapping[str, str],
    public: Sequence[str],
    submodules: Iterable[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """(`__getattr__`, `__dir__`) for `package`: `homes` maps each public name to the
    dotted module that holds it; `submodules` are imported by their name."""
    namespace = sys.modules[package].__dict__
    subs = frozenset(submodules)

    def getattr_(name: str) -> Any:
        if name in subs:
            value = importlib.import_module(f"{package}.{name}")
        elif name in homes:
            value = getattr(importlib.import_module(homes[name]), name)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted(set(namespace) | set(public))

    return getattr_, dir_
