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


class TemplateLimitError(TemplateError):
    """Rendering went past a size limit: a value, a list or the output grew too large."""


class TemplateTimeoutError(TemplateLimitError):
    """Rendering went past its time limit (`PROMPTYARD_RENDER_TIMEOUT`, 2 s by default)."""


class MergeConflictError(TemplateError):
    """A prompt file still holds git's conflict markers; `lines` lists them (1-based)."""

    def __init__(self, source: str, lines: list[int]) -> None:
        self.lines = lines
        shown = ", ".join(str(n) for n in lines[:20]) + (", ..." if len(lines) > 20 else "")
        super().__init__(
            f"unresolved merge conflict: git's <<<<<<< ======= >>>>>>> markers at"
            f" {'line' if len(lines) == 1 else 'lines'} {shown}; resolve the conflict"
            " (keep one side, remove the markers) and save or commit the file again",
            line=lines[0] if lines else None,
            source=source,
        )
