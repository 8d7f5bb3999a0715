"""The version an import replaces, held compactly: ids and content digests, rows on demand.

Re-importing keeps the ids of unchanged rows; that needs the previous rows' ids and
contents, but not the rows themselves: a 20-byte digest per row stands for its content,
and the few rows an edit must be paired with are read back from the file by offset.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from promptyard.datasets.ids import content_key
from promptyard.datasets.loading import _rows_of_text
from promptyard.datasets.table import ID, DatasetError, Row

DIGEST = 20  # bytes of a SHA-1


def digest_of(row: Row) -> bytes:
    """The SHA-1 of the row's content without its id; its hex starts the derived id."""
    return hashlib.sha1(content_key(row).encode("utf-8")).digest()


class LineRows(Sequence[Row]):
    """Rows of a JSON Lines file read by offset, one at a time, when asked for."""

    def __init__(self, path: Path, offsets: array[int]) -> None:
        self._path = path
        self._offsets = offsets
        self._handle: IO[bytes] | None = None

    def __len__(self) -> int:
        return len(self._offsets)

    def __getitem__(self, index: int) -> Row:  # type: ignore[override]
        if self._handle is None:
            self._handle = self._path.open("rb")
        self._handle.seek(self._offsets[index])
        value: Row = json.loads(self._handle.readline())
        return value

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class PreviousRows:
    """The rows of the current dataset file, as ids, digests and a way to read one back."""

    def __init__(self, ids: list[str], digests: bytearray, rows: Sequence[Row]) -> None:
        self.ids = ids
        self.digests = digests
        self.rows = rows
        self._reuse: dict[bytes, int | deque[int]] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def digest(self, index: int) -> bytes:
        return bytes(self.digests[index * DIGEST : (index + 1) * DIGEST])

    def by_id(self) -> dict[str, bytes]:
        """Each id's content digest."""
        return {row_id: self.digest(i) for i, row_id in enumerate(self.ids)}

    def take(self, digest: bytes) -> int | None:
        """The first not yet taken previous row with this content, taken; None if none."""
        if self._reuse is None:
            reuse: dict[bytes, int | deque[int]] = {}
            for index in range(len(self.ids)):
                key = self.digest(index)
                found = reuse.get(key)
                if found is None:
                    reuse[key] = index
                elif isinstance(found, int):
                    reuse[key] = deque([found, index])
                else:
                    found.append(index)
            self._reuse = reuse
        found = self._reuse.get(digest)
        if found is None:
            return None
        if isinstance(found, int):
            del self._reuse[digest]
            return found
        index = found.popleft()
        if not found:
            del self._reuse[digest]
        return index


@contextmanager
def previous_rows(file: Path, source: str) -> Iterator[PreviousRows | None]:
    """The rows of dataset file `file` (None: no file, or one that does not parse).

    A file whose rows all have ids is read line by line; a hand-written one without
    (some) ids gets its ids in memory, as loading it would.
    """
    if not file.is_file():
        yield None
        return
    found = _stream(file)
    if found is None:
        try:
            rows = _rows_of_text(file.read_text(encoding="utf-8"), source)
        except (DatasetError, UnicodeDecodeError):
            yield None
            return
        digests = bytearray()
        for row in rows:
            digests += digest_of(row)
        yield PreviousRows([str(row[ID]) for row in rows], digests, rows)
        return
    ids, digests, offsets = found
    lazy = LineRows(file, offsets)
    try:
        yield PreviousRows(ids, digests, lazy)
    finally:
        lazy.close()


def _stream(file: Path) -> tuple[list[str], bytearray, array[int]] | None:
    """Ids, digests and line offsets of a file whose every row has a unique id, else None."""
    ids: list[str] = []
    seen: set[str] = set()
    digests = bytearray()
    offsets = array("q")
    offset = 0
    with file.open("rb") as handle:
        for line in handle:
            start, offset = offset, offset + len(line)
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                return None
            if type(row) is not dict or row.get(ID) is None:
                return None
            text = str(row[ID]).strip()
            if not text or text in seen:
                return None
            seen.add(text)
            ids.append(str(row[ID]))
            digests += digest_of(row)
            offsets.append(start)
    return ids, digests, offsets
