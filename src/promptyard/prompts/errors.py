"""What goes wrong with a prompt file: where (line, column, field) and which variables."""

from __future__ import annotations

from promptyard.errors import PromptyardError


class TemplateError(PromptyardError):
    """A prompt file that cannot be parsed, validated or rendered.

    `line` and `column` are 1-based positions in the whole file; `field` names the front
    matter field at fault.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
        source: str | None = None,
    ) -> None:
        self.reason = message
        self.line = line
        self.column = column
        self.field = field
        self.source = source
        where = []
        if source:
            where.append(source)
        if line is not None:
            where.append(f"line {line}" + (f", column {column}" if column is not None else ""))
        prefix = f"{': '.join([' '.join(where)])}: " if where else ""
        super().__init__(f"{prefix}{message}")


class MissingVariablesError(TemplateError):
    """Rendering was asked without values for some variables; `missing` lists them all."""

    def __init__(self, missing: list[str], source: str | None = None) -> None:
        self.missing = missing
        names = ", ".join(missing)
        super().__init__(
            f"missing {'variable' if len(missing) == 1 else 'variables'}: {names}", source=source
        )
