"""Labels (`production`, ...): the git-tracked, append-only `labels.jsonl`, one line per move."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelMove:
    """One move of a label of one file: from which commit to which, by whom, when."""

    path: str
    label: str
    from_sha: str | None
    to_sha: str
    who: str
    at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "label": self.label,
            "from": self.from_sha,
            "to": self.to_sha,
            "who": self.who,
            "at": self.at.isoformat(),
        }


def read_moves(labels_file: Path, path: str | None = None) -> list[LabelMove]:
    """Every label move recorded in `labels_file` (of `path`, or all), oldest first."""
    if not labels_file.is_file():
        return []
    moves = []
    for number, line in enumerate(labels_file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            move = LabelMove(
                data["path"],
                data["label"],
                data.get("from"),
                data["to"],
                data.get("who", ""),
                datetime.fromisoformat(data["at"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            # A hand-edited bad line must not hide the others.
            logger.warning("%s line %d skipped: %s", labels_file, number, exc)
            continue
        if path is None or move.path == path:
            moves.append(move)
    return moves


def current_labels(labels_file: Path, path: str) -> dict[str, str]:
    """Each label of `path` and the sha it points at now (its last move wins)."""
    current: dict[str, str] = {}
    for move in read_moves(labels_file, path):
        current[move.label] = move.to_sha
    return current


def append_move(labels_file: Path, move: LabelMove) -> str | None:
    """Append `move` to `labels_file`; returns the file's previous text (None: there was no
    file), to undo with `undo_append`.

    Appends, never rewrites: on a full disk the earlier moves stay as they were, and a
    part-written line is cut off again (truncating needs no space) before the error rises.
    """
    existing = labels_file.read_text(encoding="utf-8") if labels_file.is_file() else None
    line = ("\n" if existing and not existing.endswith("\n") else "") + json.dumps(move.to_dict())
    try:
        with open(labels_file, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        undo_append(labels_file, existing)
        raise
    return existing


def undo_append(labels_file: Path, before: str | None) -> None:
    """Put `labels_file` back as it was: cut to `before`, or removed when it was new."""
    if before is None:
        labels_file.unlink(missing_ok=True)
    elif labels_file.exists():
        os.truncate(labels_file, len(before.encode("utf-8")))
