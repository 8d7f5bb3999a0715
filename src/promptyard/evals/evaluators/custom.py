"""`python`: a custom evaluator from a file in the workspace's `evaluators/` folder.

That runs code from the workspace: a file is imported only when a suite names it, and a
suite cannot name a file outside `evaluators/`. Imported files are cached by path and
modification time (`clear_custom_cache` empties the cache).

`only_custom_code(paths)` is the switch the CI gate uses: inside it, no file but those
named is imported (none at all for an empty set), whatever a suite asks for.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from types import ModuleType
from typing import Any

from promptyard.evals.evaluators.base import (
    Assertion,
    AssertionConfigError,
    EvalContext,
    Grade,
    register,
    verdict,
)

CUSTOM_NOTE = (
    "custom evaluators are Python files from the workspace's evaluators/ folder; "
    "scoring with them runs that code on this machine"
)
_custom_modules: dict[tuple[str, float], ModuleType] = {}
# None: no restriction (an explicit `score` by the user); a set: only these files may load
_allowed_files: ContextVar[frozenset[Path] | None] = ContextVar("_allowed_files", default=None)


@contextmanager
def only_custom_code(paths: Iterable[Path]) -> Iterator[None]:
    """Within the block, custom evaluators load only from `paths` (none for an empty set)."""
    token = _allowed_files.set(frozenset(Path(p).resolve() for p in paths))
    try:
        yield
    finally:
        _allowed_files.reset(token)


def clear_custom_cache() -> None:
    """Forget every imported custom evaluator file (the next use imports it again)."""
    _custom_modules.clear()


def custom_path(root: Path, value: Any) -> Path:
    """The file a `python` assertion names, which must lie in `root/evaluators/`."""
    spec = str(value or "").removeprefix("file://")
    folder = (root / "evaluators").resolve()
    name = spec.split("/")[-1] if spec.startswith("evaluators/") else spec
    if not name.endswith(".py"):
        name += ".py"
    path = (folder / name).resolve()
    if path.parent != folder:
        raise AssertionConfigError(f"python evaluator {spec!r} must be a file in evaluators/")
    return path


def _check_custom(a: Assertion) -> None:
    root = a.options.get("_root")
    if not a.value:
        raise AssertionConfigError(f"{a.where}: python needs `value:` naming a file in evaluators/")
    if root is None:
        return
    try:
        path = custom_path(Path(root), a.value)
    except AssertionConfigError as exc:
        raise AssertionConfigError(f"{a.where}: {exc}") from None
    if not path.is_file():
        raise AssertionConfigError(f"{a.where}: no custom evaluator file evaluators/{path.name}")


def load_custom(path: Path) -> Callable[..., Any]:
    """Import the evaluator file (runs its code) and return its `get_assert` or `evaluate`.

    Raises AssertionConfigError, importing nothing, for a file `only_custom_code` forbids.
    """
    allowed = _allowed_files.get()
    if allowed is not None and path.resolve() not in allowed:
        raise AssertionConfigError(
            f"custom evaluator evaluators/{path.name} is not allowed to run here (see --allow-code)"
        )
    key = (str(path), path.stat().st_mtime)
    module = _custom_modules.get(key)
    if module is None:
        spec = importlib.util.spec_from_file_location(f"promptyard_custom_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise AssertionConfigError(f"cannot load custom evaluator {path.name}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _custom_modules[key] = module
    fn = getattr(module, "get_assert", None) or getattr(module, "evaluate", None)
    if not callable(fn):
        raise AssertionConfigError(
            f"evaluators/{path.name} defines neither get_assert(output, context) nor evaluate(output, context)"
        )
    return fn  # type: ignore[no-any-return]


def custom_result(result: Any, a: Assertion) -> Grade:
    """A Grade from what a custom evaluator returned: a bool, a number, a dict or a Grade.

    A number passes at the assertion's threshold (default 0.5); a dict may hold `pass`,
    `score` and `reason`. Raises TypeError for anything else.
    """
    if isinstance(result, Grade):
        return result
    if isinstance(result, bool):
        return verdict(result, "custom check passed" if result else "custom check failed")
    if isinstance(result, int | float):
        threshold = a.threshold if a.threshold is not None else 0.5
        return Grade(float(result), float(result) >= threshold, f"custom score {float(result):g}")
    if isinstance(result, dict):
        value = result.get("score")
        passed = result.get("pass", result.get("passed"))
        if passed is None and isinstance(value, int | float):
            passed = value >= (a.threshold if a.threshold is not None else 0.5)
        if value is None and isinstance(passed, bool):
            value = 1.0 if passed else 0.0
        return Grade(
            float(value) if isinstance(value, int | float) else None,
            bool(passed),
            str(result.get("reason", "")),
        )
    raise TypeError(f"returned {type(result).__name__}; expected bool, number, dict or Grade")


@register(
    "python",
    "a custom Python evaluator from evaluators/ (runs workspace code)",
    check=_check_custom,
)
def python_eval(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Run the named file's `get_assert(output, context)` and read what it returns."""
    root = a.options.get("_root")
    path = custom_path(Path(root or "."), a.value)
    fn = load_custom(path)
    context = {
        "vars": dict(ctx.inputs),
        "reference": ctx.reference,
        "model": ctx.model,
        "prompt": ctx.prompt_name,
        "latency_ms": ctx.latency_ms,
        "cost_usd": ctx.cost_usd,
        "config": {k: v for k, v in a.options.items() if not k.startswith("_")},
    }
    return custom_result(fn(output, context), a)
