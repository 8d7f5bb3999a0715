"""The Jinja2 sandbox with limits: every step a template takes checks the render's budget.

Jinja's `SandboxedEnvironment` refuses attribute tricks but lets a template loop, multiply
and concatenate without bound, and its optimizer evaluates constant expressions at compile
time. This sandbox:

- compiles with the optimizer off and a context-bound `finalize`, so nothing a template
  says is evaluated before it renders (`'%999999999d' % 1`, `9**999**999`);
- intercepts every arithmetic operator, every call, every filter and test, every loop
  step, every `~` and every joined buffer, and checks the deadline and the size of what
  each would build *before* building it where the size can be known (`*`, `**`, `%`,
  `format`, `indent`, `center`, `replace`, `join`, `batch`, `slice`), after otherwise.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sized
from typing import Any

from jinja2 import nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment, SandboxedFormatter

from promptyard.prompts.limits import (
    RenderBudget,
    RenderLimitError,
    active_budget,
    printed_size,
)

LOOP_GUARD = "_promptyard_loop_guard"  # the filter every `for` loop's iterable is passed through
MAX_RANGE = 100_000  # as Jinja's own sandbox: the most items range() gives

_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}
_TEXT = (str, bytes, bytearray)
_SIZED = (str, bytes, bytearray, list, tuple)
_PRINTING = frozenset(["string", "tojson", "pprint", "urlencode", "xmlattr", "e", "escape"])
# A %-format conversion: (mapping key)? flags width? (.precision)? length? type
_PERCENT_SPEC = re.compile(
    r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])"
)
_SPEC_NUMBERS = re.compile(r"\d+")


def _check_length(budget: RenderBudget, seq: Any, size: int) -> None:
    budget.check_chars(size) if isinstance(seq, _TEXT) else budget.check_items(size)


def _check_binop(budget: RenderBudget, op: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would pass a limit, before computing it."""
    ints = isinstance(left, int) and isinstance(right, int)
    if op == "**" and ints and right > 0 and abs(left) > 1:
        budget.check_int(left.bit_length() * right)
    elif op == "*":
        if ints:
            budget.check_int(left.bit_length() + right.bit_length())
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, _SIZED) and isinstance(count, int) and count > 0:
                _check_length(budget, seq, len(seq) * count)
    elif op == "+" and isinstance(left, _SIZED) and isinstance(right, _SIZED):
        _check_length(budget, left, len(left) + len(right))
    elif op == "%" and isinstance(left, str | bytes):
        fmt = left.decode("latin-1") if isinstance(left, bytes) else left
        check_percent(budget, fmt, right)


def check_percent(budget: RenderBudget, fmt: str, args: Any) -> None:
    """Refuse `fmt % args` when its widths, precisions and values would pass the limit."""
    positional = list(args) if isinstance(args, tuple) else [args]
    limit = budget.limits.max_chars
    size, index = len(fmt), 0
    for match in _PERCENT_SPEC.finditer(fmt):
        for number in match.group(1), match.group(2):
            if number == "*":
                star = positional[index] if index < len(positional) else 0
                index += 1
                size += abs(star) if isinstance(star, int) else 0
            elif number:
                size += int(number)
        if match.group(3) != "%":
            index += 1
        budget.check_chars(size)
    budget.check_chars(size + printed_size(args, limit))


class _LimitedFormatter(SandboxedFormatter):
    """`str.format` in the sandbox, refusing a width or precision past the limit."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        budget = active_budget()
        for number in _SPEC_NUMBERS.findall(format_spec):
            budget.check_chars(int(number))
        budget.check_printed(value)
        return super().format_field(value, format_spec)

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        text = super().vformat(format_string, args, kwargs)
        active_budget().check_chars(len(text))
        return text


def _check_method(
    budget: RenderBudget, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """Refuse a string, bytes, number or list method call whose result would pass a limit."""
    owner = getattr(func, "__self__", None)
    name = getattr(func, "__name__", "")
    first = args[0] if args else None
    if isinstance(owner, _TEXT):
        if name in ("ljust", "rjust", "center", "zfill") and isinstance(first, int):
            budget.check_chars(first)
        elif name == "expandtabs":
            tab = first if isinstance(first, int) else kwargs.get("tabsize", 8)
            tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
            budget.check_chars(len(owner) + tabs * (tab if isinstance(tab, int) else 8))
        elif name == "replace" and len(args) >= 2:
            _check_replace(budget, owner, args[0], args[1], args[2] if len(args) > 2 else -1)
        elif name == "join" and args:
            budget.check_chars(_joined_size(budget, first, owner))
        elif name == "translate" and isinstance(first, dict):
            longest = max((len(v) for v in first.values() if isinstance(v, _TEXT)), default=1)
            budget.check_chars(len(owner) * max(longest, 1))
    elif isinstance(owner, int) and name == "to_bytes":
        length = first if first is not None else kwargs.get("length", 1)
        if isinstance(length, int):
            budget.check_chars(length)
    elif isinstance(owner, list) and name == "extend" and args:
        extra = len(first) if isinstance(first, Sized) else 0
        budget.check_items(len(owner) + extra)


def _check_replace(budget: RenderBudget, text: Any, old: Any, new: Any, count: Any) -> None:
    if not all(isinstance(x, str) for x in (text, old, new)) and not all(
        isinstance(x, bytes | bytearray) for x in (text, old, new)
    ):
        return
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    budget.check_chars(len(text) + found * (len(new) - len(old)))


def _joined_size(budget: RenderBudget, items: Any, separator: str | bytes | bytearray) -> int:
    if not isinstance(items, list | tuple | str | bytes):
        return 0  # a generator: the result is checked once joined
    return _total_size(items, budget.limits.max_chars) + len(separator) * max(len(items) - 1, 0)


def _total_size(values: Iterable[Any], limit: int) -> int:
    """The printed sizes of `values` added up, stopping once past `limit`."""
    total = 0
    for value in values:
        total += len(value) if isinstance(value, _TEXT) else printed_size(value, limit)
        if total > limit:
            break
    return total


def _filter_args(func: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The filter's arguments from its value on (without the context Jinja passes first)."""
    return args[1:] if getattr(func, "jinja_pass_arg", None) is not None else args


def _check_filter(budget: RenderBudget, name: str, args: tuple[Any, ...], kw: dict) -> None:
    """Refuse a built-in filter call whose result would pass a limit, before it runs."""
    value = args[0] if args else kw.get("value", kw.get("s"))
    rest = args[1:]

    def arg(i: int, key: str, default: Any = None) -> Any:
        return rest[i] if len(rest) > i else kw.get(key, default)

    if name == "indent" and isinstance(value, str):
        width = arg(0, "width", 4)
        per_line = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        budget.check_chars(len(value) + (value.count("\n") + 1) * per_line)
    elif name == "center" and isinstance(arg(0, "width", 80), int):
        budget.check_chars(arg(0, "width", 80))
    elif name == "replace":
        _check_replace(budget, value, arg(0, "old"), arg(1, "new"), arg(2, "count"))
    elif name == "join":
        budget.check_chars(_joined_size(budget, value, str(arg(0, "d", ""))))
    elif name == "format" and isinstance(value, str):
        check_percent(budget, value, kw or tuple(rest))
    elif name in ("batch", "slice"):
        count = arg(0, "linecount" if name == "batch" else "slices", 0)
        if isinstance(count, int):
            budget.check_items(count)
    elif name in _PRINTING or (name == "sum" and isinstance(arg(1, "start", 0), _SIZED)):
        budget.check_printed(value)  # they print the whole value (sum: adds lists up)
    elif name == "wordwrap" and isinstance(value, str):
        width = arg(0, "width", 79)
        wrap = arg(2, "wrapstring", None) or "\n"
        lines = len(value) // max(width, 1) + value.count("\n") + 1 if isinstance(width, int) else 1
        budget.check_chars(len(value) + lines * len(str(wrap)))


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget = active_budget()
        budget.check_time()
        _check_filter(budget, name, _filter_args(func, args), kwargs)
        return budget.check_value(func(*args, **kwargs))

    return guarded


def _guard_test(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        active_budget().check_time()
        return func(*args, **kwargs)

    return guarded


def _loop_guard(iterable: Iterable[Any]) -> Iterator[Any]:
    """The items of a `for` loop, checking the deadline before each one."""
    budget = active_budget()
    for item in iterable:
        budget.check_time()
        yield item


def _safe_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise RenderLimitError(f"range() gives more than {MAX_RANGE:,} items in a template")
    return numbers


@pass_context
def _finalize(context: Context, value: Any) -> Any:
    # Every `{{ ... }}` passes here before it is printed: refuse what would print too much.
    budget = active_budget()
    budget.check_time()
    budget.check_printed(value)
    return value


class _CodeGenerator(CodeGenerator):
    """Jinja's code generator, with `~` going through the sandbox's size check."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.concat_values((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class LimitedSandbox(SandboxedEnvironment):
    """The sandbox with a deadline and size limits on everything a template builds."""

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset(_BINOPS)  # also keeps them from being folded at compile

    def __init__(self, **options: Any) -> None:
        super().__init__(optimized=False, finalize=_finalize, **options)
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}
        self.filters[LOOP_GUARD] = _loop_guard
        tests: dict[str, Any] = dict(self.tests)  # typeshed types them as bare `function`
        self.tests = {name: _guard_test(f) for name, f in tests.items()}
        for unsafe_global in ("cycler", "joiner", "lipsum"):
            self.globals.pop(unsafe_global, None)
        self.globals["range"] = _safe_range

    def concat(self, parts: Iterable[str]) -> str:  # type: ignore[override]
        """A block's or the whole render's output joined, counting it as it comes."""
        budget = active_budget()
        limit = budget.limits.max_chars
        chunks: list[str] = []
        size = 0
        for chunk in parts:
            size += len(chunk)
            if size > limit:
                budget.check_chars(size, "output")
            if not len(chunks) & 1023:  # the clock every 1,024 pieces: each one is small
                budget.check_time()
            chunks.append(chunk)
        return "".join(chunks)

    def concat_values(self, values: tuple[Any, ...]) -> str:
        """`a ~ b ~ ...`: the values printed and joined, refused before past the limit."""
        budget = active_budget()
        budget.check_time()
        budget.check_chars(_total_size(values, budget.limits.max_chars))
        return "".join(str(v) for v in values)

    def call_binop(self, context: Context, operator_name: str, left: Any, right: Any) -> Any:
        budget = active_budget()
        budget.check_time()
        _check_binop(budget, operator_name, left, right)
        return budget.check_value(_BINOPS[operator_name](left, right))

    def getattr(self, obj: Any, attribute: str) -> Any:
        active_budget().check_time()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        active_budget().check_time()
        return super().getitem(obj, argument)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        budget = active_budget()
        budget.check_time()
        _check_method(budget, __obj, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, list | dict | set):
            budget.check_items(len(owner))  # append, update, ... grew it
        return budget.check_value(result)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        if super().wrap_str_format(value) is None:
            return None  # not a str.format or str.format_map
        f_self, is_map = value.__self__, value.__name__ == "format_map"
        formatter = _LimitedFormatter(self)

        def limited(*args: Any, **kwargs: Any) -> str:
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one mapping")
                return type(f_self)(formatter.vformat(f_self, (), args[0]))
            return type(f_self)(formatter.vformat(f_self, args, kwargs))

        return functools.update_wrapper(limited, value)


def guard_loops(ast: nodes.Template) -> nodes.Template:
    """`ast` with every `for` loop's iterable passed through the loop guard (in place)."""
    for loop in ast.find_all(nodes.For):
        loop.iter = nodes.Filter(loop.iter, LOOP_GUARD, [], [], None, None, lineno=loop.lineno)
    return ast
