"""Git's merge conflict markers in a prompt file: found, and the file refused.

A merge that could not be resolved leaves blocks like

```
<<<<<<< HEAD
You are terse.
||||||| base            (only with merge.conflictStyle = diff3 or zdiff3)
You are brief.
=======
You are friendly.
>>>>>>> feature
```

in the file. Such a file must not render, be planned or pass a gate: which side is meant
is unknown. Only markers at the start of a line count, as git writes them; a lone
`=======` (a Markdown heading underline) outside a conflict block is ordinary text.
"""

from __future__ import annotations

import re

from promptyard.prompts.errors import MergeConflictError

__all__ = ["conflict_lines", "refuse_conflicts"]

_START = re.compile(r"<{7}(?: |$)")
_BASE = re.compile(r"\|{7}(?: |$)")
_MIDDLE = re.compile(r"={7}$")
_END = re.compile(r">{7}(?: |$)")


def conflict_lines(text: str) -> list[int]:
    """The 1-based lines of `text` that are git conflict markers; empty when there are none."""
    if "<<<<<<<" not in text and ">>>>>>>" not in text:
        return []  # the common case, without splitting the file
    found: list[int] = []
    inside = False
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if _START.match(line):
            found.append(number)
            inside = True
        elif _END.match(line):
            found.append(number)
            inside = False
        elif inside and (_MIDDLE.match(line) or _BASE.match(line)):
            found.append(number)
    return found


def refuse_conflicts(text: str, source: str) -> None:
    """Raise MergeConflictError naming `source` and the marker lines, if `text` has any."""
    lines = conflict_lines(text)
    if lines:
        raise MergeConflictError(source, lines)
