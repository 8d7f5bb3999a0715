"""Slices of a dataset for runs: the first N rows, a random N with a seed, a filter.

The filter language is small on purpose (no code runs): clauses `COLUMN OP VALUE` joined by
`and` / `or` (`and` binds tighter). OP is one of `==` `=` `!=` `<` `<=` `>` `>=`,
`contains`, `not contains`, `startswith`, or the forms `COLUMN is empty` /
`COLUMN is not empty`. Values are bare words or quoted strings; columns with spaces are
written in backticks. Numbers compare as numbers, everything else as text
(`contains`/`startswith` ignore case).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from promptyard.datasets.table import DatasetError, Row

SliceKind = Literal["all", "head", "random", "filter"]
SLICE_KINDS: tuple[SliceKind, ...] = ("all", "head", "random", "filter")
_FILTER = "filter"

Predicate = Callable[[Row], bool]


@dataclass(frozen=True)
class SliceSpec:
    """Which rows of a dataset a run uses.

    kind "all"; "head" (the first `n`); "random" (`n` rows drawn with `seed`, kept in
    dataset order); "filter" (rows matching `filter_expr`, the first `n` of them when `n`
    is set).
    """

    kind: SliceKind = "all"
    n: int | None = None
    seed: int = 0
    filter_expr: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in SLICE_KINDS:
            raise DatasetError(
                f"slice kind must be one of {', '.join(SLICE_KINDS)}, not {self.kind!r}"
            )
        if self.kind in ("head", "random") and (self.n is None or self.n < 1):
            raise DatasetError(f"a {self.kind} slice needs a row count of at least 1")
        if self.kind == "filter" and not (self.filter_expr or "").strip():
            raise DatasetError("a filter slice needs a filter expression")
        if self.n is not None and self.n < 1:
            raise DatasetError("the row count of a slice must be at least 1")

    def describe(self) -> str:
        """A short text that `SliceSpec.parse` reads back: `head:20`, `random:50:7`, ..."""
        if self.kind == "head":
            return f"head:{self.n}"
        if self.kind == "random":
            return f"random:{self.n}:{self.seed}"
        if self.kind == "filter":
            suffix = f" (first {self.n})" if self.n else ""
            return f"filter:{self.filter_expr}{suffix}"
        return "all"

    @classmethod
    def parse(cls, text: str | None) -> SliceSpec:
        """Read `all`, `head:N`, `random:N[:SEED]` or `filter:EXPR`."""
        spec = (text or "all").strip()
        kind, _, rest = spec.partition(":")
        kind = kind.strip().lower()
        if kind == "all" and not rest:
            return cls()
        if kind == "filter":
            return cls(kind="filter", filter_expr=rest.strip())
        if kind in ("head", "random"):
            parts = rest.split(":")
            try:
                n = int(parts[0])
                seed = int(parts[1]) if len(parts) > 1 and parts[1].strip() else 0
            except ValueError:
                raise DatasetError(
                    f"slice {spec!r}: expected {kind}:N"
                    + ("[:SEED]" if kind == "random" else "")
                    + " with whole numbers"
                ) from None
            return cls(kind=kind, n=n, seed=seed)  # type: ignore[arg-type]
        raise DatasetError(
            f"slice {spec!r}: expected all, head:N, random:N[:SEED] or filter:EXPRESSION"
        )


def select_from(rows: Sequence[Row], columns: Sequence[str], spec: SliceSpec | None) -> list[Row]:
    """The rows of `rows` that `spec` picks, in dataset order."""
    if spec is None or spec.kind == "all":
        return list(rows)
    if spec.kind == "head":
        return list(rows[: spec.n])
    if spec.kind == "random":
        n = spec.n or 0
        if n >= len(rows):
            return list(rows)
        picked = sorted(random.Random(spec.seed).sample(range(len(rows)), n))
        return [rows[i] for i in picked]
    predicate = compile_filter(spec.filter_expr or "", columns)
    matched: list[Row] = []
    for row in rows:
        if predicate(row):
            matched.append(row)
            if spec.n is not None and len(matched) >= spec.n:
                break
    return matched


# --- the filter language ----------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<col>`[^`]*`)
      | (?P<op>==|!=|>=|<=|=|>|<)
      | (?P<word>(?:[^\s"'`=!<>]|!(?!=))+)
    )""",
    re.VERBOSE,
)


@dataclass
class _Token:
    kind: str
    text: str
    column: int  # 1-based position in the expression

    @property
    def keyword(self) -> str:
        return self.text.lower() if self.kind == "word" else ""


def _tokenize(expr: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(expr):
        if expr[position:].strip() == "":
            break
        match = _TOKEN.match(expr, position)
        if match is None or match.end() == position:
            start = position + len(expr[position:]) - len(expr[position:].lstrip())
            raise DatasetError(f"unexpected {expr[start]!r}", source=_FILTER, column=start + 1)
        kind = match.lastgroup or "word"
        text = match.group(kind)
        tokens.append(_Token(kind, text, match.start(kind) + 1))
        position = match.end()
    return tokens


def _unquote(token: _Token) -> str:
    if token.kind == "str":
        body = token.text[1:-1]
        return re.sub(r"\\(.)", r"\1", body)
    if token.kind == "col":
        return token.text[1:-1]
    return token.text


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _comparison(column: str, op: str, wanted: str) -> Predicate:
    wanted_number = _as_number(wanted)
    wanted_lower = wanted.lower()

    def compare(row: Row) -> bool:
        cell = row.get(column)
        if op in ("contains", "not contains"):
            found = wanted_lower in _as_text(cell).lower()
            return found if op == "contains" else not found
        if op == "startswith":
            return _as_text(cell).lower().startswith(wanted_lower)
        cell_number = _as_number(cell) if wanted_number is not None else None
        left: Any
        right: Any
        if cell_number is not None and wanted_number is not None:
            left, right = cell_number, wanted_number
        elif wanted_number is not None and op not in ("==", "=", "!="):
            return False  # "n > 5" never matches a cell that is not a number
        else:
            left, right = _as_text(cell), wanted
        if op in ("==", "="):
            return bool(left == right)
        if op == "!=":
            return bool(left != right)
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)

    return compare


def _emptiness(column: str, empty: bool) -> Predicate:
    def check(row: Row) -> bool:
        is_empty = _as_text(row.get(column)).strip() == ""
        return is_empty if empty else not is_empty

    return check


class _Parser:
    def __init__(self, expr: str, columns: Sequence[str] | None) -> None:
        self.expr = expr
        self.tokens = _tokenize(expr)
        self.index = 0
        self.columns = None if columns is None else list(columns)

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self, what: str) -> _Token:
        token = self._peek()
        if token is None:
            raise DatasetError(
                f"the expression ends where {what} was expected",
                source=_FILTER,
                column=len(self.expr) + 1,
            )
        self.index += 1
        return token

    def parse(self) -> Predicate:
        if not self.tokens:
            raise DatasetError("the filter expression is empty", source=_FILTER)
        predicate = self._or()
        leftover = self._peek()
        if leftover is not None:
            raise DatasetError(
                f"expected 'and' or 'or', found {leftover.text!r}",
                source=_FILTER,
                column=leftover.column,
            )
        return predicate

    def _or(self) -> Predicate:
        parts = [self._and()]
        while (token := self._peek()) is not None and token.keyword == "or":
            self.index += 1
            parts.append(self._and())
        if len(parts) == 1:
            return parts[0]
        return lambda row: any(part(row) for part in parts)

    def _and(self) -> Predicate:
        parts = [self._clause()]
        while (token := self._peek()) is not None and token.keyword == "and":
            self.index += 1
            parts.append(self._clause())
        if len(parts) == 1:
            return parts[0]
        return lambda row: all(part(row) for part in parts)

    def _clause(self) -> Predicate:
        col_token = self._take("a column name")
        if col_token.kind not in ("word", "col"):
            raise DatasetError(
                f"expected a column name, found {col_token.text!r}",
                source=_FILTER,
                column=col_token.column,
            )
        column = _unquote(col_token)
        if self.columns is not None and column not in self.columns:
            raise DatasetError(
                f"unknown column {column!r}; the columns are {', '.join(self.columns)}",
                source=_FILTER,
                column=col_token.column,
                field=column,
            )
        op_token = self._take("an operator")
        op = op_token.text if op_token.kind == "op" else op_token.keyword
        if op == "is":
            nxt = self._take("'empty' or 'not empty'")
            negated = nxt.keyword == "not"
            if negated:
                nxt = self._take("'empty'")
            if nxt.keyword != "empty":
                raise DatasetError(
                    f"expected 'empty', found {nxt.text!r}", source=_FILTER, column=nxt.column
                )
            return _emptiness(column, empty=not negated)
        if op == "not":
            nxt = self._take("'contains'")
            if nxt.keyword != "contains":
                raise DatasetError(
                    f"expected 'contains' after 'not', found {nxt.text!r}",
                    source=_FILTER,
                    column=nxt.column,
                )
            op = "not contains"
        elif op_token.kind != "op" and op not in ("contains", "startswith"):
            raise DatasetError(
                f"expected an operator (==, !=, <, <=, >, >=, contains, not contains, "
                f"startswith, is empty), found {op_token.text!r}",
                source=_FILTER,
                column=op_token.column,
            )
        value_token = self._take("a value")
        if value_token.kind not in ("word", "str"):
            raise DatasetError(
                f"expected a value, found {value_token.text!r}",
                source=_FILTER,
                column=value_token.column,
            )
        return _comparison(column, op, _unquote(value_token))


def compile_filter(expr: str, columns: Sequence[str] | None) -> Predicate:
    """A predicate over rows for `expr`; a DatasetError names the column of a mistake.

    `columns` None: any column name is taken (a stream checks them once it has read every
    row)."""
    return _Parser(expr, columns).parse()
