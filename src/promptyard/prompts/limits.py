"""How long a render may take and how large the values it builds may grow.

A render runs under a `RenderBudget`: a deadline and the size limits, kept in a context
variable so the sandbox's hooks (calls, operators, filters, loop steps, output) can check
them without a context argument. The limits default to 2 s and 2,000,000 characters and
are set per process with `PROMPTYARD_RENDER_TIMEOUT` (seconds) and
`PROMPTYARD_RENDER_MAX_CHARS`, or per call with `render_limits(...)`.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, replace
from typing import Any

from jinja2.exceptions import SecurityError

TIMEOUT_ENV = "PROMPTYARD_RENDER_TIMEOUT"
MAX_CHARS_ENV = "PROMPTYARD_RENDER_MAX_CHARS"

DEFAULT_TIMEOUT_S = 2.0
MAX_RENDERED_CHARS = 2_000_000  # no string a template builds, nor its output, may be longer
MAX_ITEMS = 1_000_000  # no list, tuple, dict or set a template builds may hold more
MAX_INT_BITS = 100_000  # about 30,000 digits; Python refuses to print past 4,300 anyway
MAX_DEPTH = 200  # nesting of lists and dicts a value may have to be printed


class RenderLimitError(SecurityError):
    """A render went past a size limit (raised inside the sandbox, mapped by `render`)."""


class RenderTimeout(RenderLimitError):
    """A render went past its deadline."""


@dataclass(frozen=True)
class RenderLimits:
    """The limits one render runs under."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    max_chars: int = MAX_RENDERED_CHARS
    max_items: int = MAX_ITEMS
    max_int_bits: int = MAX_INT_BITS


def _env_number(raw: str, default: float, kind: type) -> Any:
    raw = raw.strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        return default  # a bad setting must not make every template unrenderable
    return value if value > 0 else default


def default_limits() -> RenderLimits:
    """The limits from the environment (PROMPTYARD_RENDER_TIMEOUT/_MAX_CHARS), else the defaults."""
    return _limits_of(os.environ.get(TIMEOUT_ENV, ""), os.environ.get(MAX_CHARS_ENV, ""))


@functools.lru_cache(maxsize=8)  # read for every rendered row: parse each setting once
def _limits_of(timeout: str, max_chars: str) -> RenderLimits:
    return RenderLimits(
        timeout_s=_env_number(timeout, DEFAULT_TIMEOUT_S, float),
        max_chars=_env_number(max_chars, MAX_RENDERED_CHARS, int),
    )


class RenderBudget:
    """The deadline and limits of the render in progress."""

    def __init__(self, limits: RenderLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.timeout_s

    def check_time(self) -> None:
        """Raise RenderTimeout once the deadline has passed."""
        if time.monotonic() > self.deadline:
            seconds = f"{self.limits.timeout_s:g}"
            raise RenderTimeout(
                f"rendering took longer than {seconds} s, the time limit for a template"
                " (loops nested too deep, or too many steps?)"
            )

    def check_chars(self, size: int, what: str = "a string") -> None:
        """Refuse a string (or printed value) of `size` characters past the limit."""
        if size > self.limits.max_chars:
            raise RenderLimitError(
                f"the template builds {what} of more than {self.limits.max_chars:,}"
                " characters, the size limit for a template"
            )

    def check_items(self, size: int) -> None:
        """Refuse a list, tuple, dict or set of `size` items past the limit."""
        if size > self.limits.max_items:
            raise RenderLimitError(
                f"the template builds a list of more than {self.limits.max_items:,} items,"
                " the size limit for a template"
            )

    def check_int(self, bits: int) -> None:
        """Refuse a whole number of `bits` bits past the limit."""
        if bits > self.limits.max_int_bits:
            raise RenderLimitError(
                "the template computes a number that is too large"
                f" (more than {self.limits.max_int_bits:,} bits)"
            )

    def check_value(self, value: Any) -> Any:
        """`value`, once its own size is within the limits (strings, containers, numbers)."""
        if isinstance(value, str | bytes | bytearray):
            self.check_chars(len(value))
        elif isinstance(value, list | tuple | dict | set | frozenset):
            self.check_items(len(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            self.check_int(value.bit_length())
        return value

    def check_printed(self, value: Any, what: str = "a value") -> None:
        """Refuse `value` when printing it (`str`) would pass the character limit."""
        if type(value) is str:  # the common case, without the walk
            self.check_chars(len(value), what)
        else:
            self.check_chars(printed_size(value, self.limits.max_chars), what)


def printed_size(value: Any, limit: int) -> int:
    """About how many characters `str(value)` has; counting stops once past `limit`.

    Counted without building the text, so a list holding one long string many times is
    refused before it is printed.
    """
    total = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            total += len(item) + (2 if depth else 0)  # repr quotes it inside a container
        elif isinstance(item, bytes | bytearray):
            total += 4 * len(item) + 14  # b'\\x00' per byte at worst, bytearray(...)
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += item.bit_length() * 30103 // 100000 + 2
        elif isinstance(item, float | complex):
            total += 25
        elif isinstance(item, list | tuple | set | frozenset | dict):
            if depth >= MAX_DEPTH:
                return limit + 1  # printing it would recurse past any sensible depth
            total += 2 + 2 * len(item)
            if total > limit:
                return total
            if isinstance(item, dict):
                stack.extend((k, depth + 1) for k in item)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)
        else:
            attrs = getattr(item, "__dict__", None)  # a namespace() prints its attributes
            total += 40
            if isinstance(attrs, dict) and depth < MAX_DEPTH:
                stack.append((attrs, depth + 1))
        if total > limit:
            return total
    return total


_ACTIVE: ContextVar[RenderBudget | None] = ContextVar("promptyard_render_budget", default=None)


def active_budget() -> RenderBudget:
    """The budget of the render in progress; a fresh default one outside any render."""
    budget = _ACTIVE.get()
    return budget if budget is not None else RenderBudget(default_limits())


def render_budget(limits: RenderLimits | None = None) -> _BudgetScope:
    """Run the renders inside under one deadline (a render already in progress keeps its own):
    `with render_budget(limits) as budget: ...`."""
    return _BudgetScope(limits)


class _BudgetScope:
    """The `with` of `render_budget`: a class, not a generator, as a run enters it several
    times for every row it renders."""

    __slots__ = ("_limits", "_token")

    def __init__(self, limits: RenderLimits | None) -> None:
        self._limits = limits
        self._token: Token[RenderBudget | None] | None = None

    def __enter__(self) -> RenderBudget:
        current = _ACTIVE.get()
        if current is not None and self._limits is None:
            return current
        budget = RenderBudget(self._limits or default_limits())
        self._token = _ACTIVE.set(budget)
        return budget

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _ACTIVE.reset(self._token)
            self._token = None


@contextmanager
def render_limits(
    timeout_s: float | None = None, max_chars: int | None = None
) -> Iterator[RenderLimits]:
    """Render inside with other limits, e.g. `with render_limits(timeout_s=0.5): t.render()`."""
    limits = default_limits()
    if timeout_s is not None:
        limits = replace(limits, timeout_s=timeout_s)
    if max_chars is not None:
        limits = replace(limits, max_chars=max_chars)
    with render_budget(limits):
        yield limits
