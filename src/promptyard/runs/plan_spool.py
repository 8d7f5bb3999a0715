"""A plan's rendered rows, written once and read back as often as asked: in memory while
small, then in a temporary file, so a million distinct rows cost disk, not memory.

Each row is one record: its id, inputs JSON, reference and rendered messages (one per
template group), stored as UTF-8 behind a header of lengths. Readers read by position
(`os.pread`), so two iterations at once never disturb each other.
"""

from __future__ import annotations

import os
import struct
import tempfile
import threading
from array import array
from collections.abc import Iterator, Sequence
from typing import IO

_NONE = 0xFFFFFFFF  # the length that stands for a missing reference
_IN_MEMORY = 8 * 1024 * 1024  # bytes held before the rows move to a file
_READ_ROWS = 512  # rows read back per read


class RenderedRows(Sequence[tuple[str, str, "str | None", tuple[str, ...]]]):
    """Rows as rendered for a plan: append while planning, then read any number of times.

    Each item is (row id, inputs JSON, reference, messages JSON per template group).
    """

    def __init__(self, groups: int) -> None:
        self.groups = groups
        self._header = struct.Struct(f"<{3 + groups}I")
        self._offsets = array("Q", [0])  # offsets[i]: where row i starts; last: the end
        self._buffer = bytearray()
        self._file: IO[bytes] | None = None
        self._written = 0  # bytes in the file
        self._lock = threading.Lock()  # only where os.pread is missing

    # --- writing -------------------------------------------------------------------------

    def append(
        self, row_id: str, inputs_json: str, reference: str | None, messages: Sequence[str]
    ) -> None:
        """Add one row (messages: one JSON text per template group, in group order)."""
        parts = [row_id.encode(), inputs_json.encode()]
        parts.append(b"" if reference is None else reference.encode())
        parts.extend(m.encode() for m in messages)
        lengths = [len(p) for p in parts]
        if reference is None:
            lengths[2] = _NONE
        record = self._header.pack(*lengths) + b"".join(parts)
        self._buffer += record
        self._offsets.append(self._offsets[-1] + len(record))
        if len(self._buffer) >= _IN_MEMORY:
            self._flush()

    def _flush(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="promptyard-plan-")  # noqa: SIM115
        self._file.write(self._buffer)
        self._written += len(self._buffer)
        self._buffer = bytearray()

    def finish(self) -> RenderedRows:
        """Done appending: what is still buffered goes to the file (if there is one)."""
        if self._file is not None and self._buffer:
            self._flush()
        if self._file is not None:
            self._file.flush()
        return self

    def close(self) -> None:
        """Drop the rows (the temporary file is removed)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    # --- reading -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def _read(self, start: int, end: int) -> bytes | memoryview:
        if self._file is None:
            return memoryview(self._buffer)[start:end]
        if start >= self._written:  # still buffered (read while appending)
            return memoryview(self._buffer)[start - self._written : end - self._written]
        fd = self._file.fileno()
        if hasattr(os, "pread"):
            return os.pread(fd, end - start, start)
        with self._lock:
            os.lseek(fd, start, os.SEEK_SET)
            return os.read(fd, end - start)

    def _decode(self, data: bytes | memoryview, at: int, groups: Sequence[int] | None) -> tuple:
        lengths = self._header.unpack_from(data, at)
        pos = at + self._header.size
        fields: list[str | None] = []
        for i, n in enumerate(lengths):
            if n == _NONE:
                fields.append(None)
                continue
            if i < 3 or groups is None or (i - 3) in groups:
                fields.append(bytes(data[pos : pos + n]).decode())
            else:
                fields.append("")
            pos += n
        return fields[0], fields[1], fields[2], tuple(fields[3:])

    def __getitem__(self, index):  # type: ignore[no-untyped-def,override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("row index out of range")
        start, end = self._offsets[index], self._offsets[index + 1]
        return self._decode(self._read(start, end), 0, None)

    def __iter__(self) -> Iterator[tuple[str, str, str | None, tuple[str, ...]]]:
        return self.rows()

    def rows(
        self, groups: Sequence[int] | None = None
    ) -> Iterator[tuple[str, str, str | None, tuple[str, ...]]]:
        """Every row in order; with `groups`, only those groups' messages are decoded
        (the others read as empty text)."""
        count = len(self)
        for first in range(0, count, _READ_ROWS):
            last = min(count, first + _READ_ROWS)
            base = self._offsets[first]
            data = self._read(base, self._offsets[last])
            for i in range(first, last):
                yield self._decode(data, self._offsets[i] - base, groups)
