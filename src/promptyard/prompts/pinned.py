"""A prompt version known by its commit, read without the history that numbers it.

The store's `Version` counts v1..vN along the file's git history. A bundle carries the
number it was written with; a shallow clone (`git clone --depth 1`) has too little history
to count, so there the number is None, never a guess. `PinnedVersion` has the same fields
and properties as `Version`, so code reading `prompt.version` works with either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class PinnedVersion:
    """One version of one prompt file, by commit sha; `number` None when it is unknown."""

    path: str
    number: int | None
    sha: str
    message: str = ""
    author: str = ""
    email: str = ""
    date: datetime | None = None
    deleted: bool = False
    labels: tuple[str, ...] = field(default=())

    @property
    def short_sha(self) -> str:
        return self.sha[:8]

    @property
    def tag(self) -> str:
        """`vN`, or `@` and the short sha when the number is unknown."""
        return f"v{self.number}" if self.number is not None else f"@{self.short_sha}"

    def to_dict(self) -> dict[str, object]:
        return {
            "version": self.tag,
            "number": self.number,
            "sha": self.sha,
            "short_sha": self.short_sha,
            "message": self.message,
            "author": self.author,
            "date": self.date.isoformat() if self.date else None,
            "deleted": self.deleted,
            "labels": list(self.labels),
        }
