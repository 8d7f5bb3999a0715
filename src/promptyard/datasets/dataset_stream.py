"""A dataset read one row at a time for a run: the working file, or a saved version
streamed out of git (`git cat-file`), never the whole file as one string.

`stream_dataset(ws, name, ref)` resolves the version as `load_dataset` does and gives a
`DatasetRows`; `DatasetRows.slice(spec)` gives a `SlicedRows`, one pass that yields the
rows a slice picks, checks every row's id on the way (blank, duplicate), and learns the
columns and the reference column. A file written by hand without ids is read whole
(its ids come from the content of every row), then picked the same way.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from promptyard.datasets.records import REFERENCE_GUESSES, DatasetVersion, as_version, dataset_path
from promptyard.datasets.row_stream import _jsonl_rows, _text_of
from promptyard.datasets.slicing import SliceSpec, compile_filter, select_from
from promptyard.datasets.table import ID, DatasetError, Row
from promptyard.errors import NotFoundError
from promptyard.versioning import Store, Version
from promptyard.workspace import Workspace, validate_name

_CHUNK = 1024 * 1024


@dataclass
class DatasetRows:
    """One version of a dataset, to be read row by row (as often as asked)."""

    ws: Workspace
    name: str
    ref: str | None
    saved: Version | None  # the store version read (None: the working file, unsaved edits)
    meta_reference: str | None  # NAME.meta.json's reference column, when it names one
    has_meta_reference: bool

    @property
    def source(self) -> str:
        return dataset_path(self.name)

    def version(self, rows: int | None = None) -> DatasetVersion | None:
        """The dataset version the rows are (None: the file has unsaved edits)."""
        return as_version(self.name, self.saved, rows=rows) if self.saved is not None else None

    @contextmanager
    def text(self) -> Iterator[IO[str]]:
        """The file's text as a stream, decoded as it is read."""
        if self.ref is None:
            with _text_of(self.ws.root / self.source, self.source) as text:
                yield text
            return
        assert self.saved is not None
        # A process of its own: a reader that stops early leaves no other reader's stream
        # half read.
        proc = Store(self.ws).open_version(self.saved)
        assert proc.stdout is not None and proc.stderr is not None
        text = io.TextIOWrapper(proc.stdout, encoding="utf-8-sig", newline="")
        try:
            yield text
            if text.read(1) == "" and proc.wait() != 0:
                message = proc.stderr.read().decode("utf-8", "replace").strip()
                raise NotFoundError(f"{self.source} at {self.saved.short_sha}: {message}")
        except UnicodeDecodeError:
            raise DatasetError(
                f"version {self.saved.short_sha} is not UTF-8 text", source=self.source
            ) from None
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            text.close()
            proc.stderr.close()

    @contextmanager
    def rows(self) -> Iterator[Iterator[tuple[Row, int]]]:
        """Every row as parsed (ids as written), with its line, read as iterated."""
        with self.text() as text:
            yield _jsonl_rows(text, self.source)

    def count(self) -> int:
        """How many rows (non-blank lines) the file has, without parsing them."""
        with self.text() as text:
            return sum(1 for line in text if line.strip())

    def slice(self, spec: SliceSpec | None) -> SlicedRows:
        """The rows `spec` picks (None: every row), as one pass (see SlicedRows)."""
        return SlicedRows(self, spec)


def stream_dataset(ws: Workspace, name: str, ref: str | None = None) -> DatasetRows:
    """Dataset `name` at `ref` (as `load_dataset`: `v3`, a sha prefix, a label, None for the
    current file), ready to be read row by row; nothing is read yet."""
    from promptyard.datasets.loading import _latest, _read_meta, _require

    path = dataset_path(name)
    store = Store(ws)
    if ref is not None:
        validate_name(name, "dataset")
        if not store.history(path):
            _require(ws, name)
        saved: Version | None = store.resolve(path, ref)
        if saved is not None and saved.deleted:
            raise NotFoundError(f"{path} {saved.tag} is the commit that deleted it")
    else:
        _require(ws, name)
        saved = _latest(ws, name)
        if saved is not None and store.has_unsaved_edits(path):
            saved = None  # edited on disk since the last version
    meta = _read_meta(ws, name)
    chosen = meta.get("reference") if "reference" in meta else None
    return DatasetRows(
        ws, name, ref, saved, chosen if isinstance(chosen, str) else None, "reference" in meta
    )


class SlicedRows:
    """One pass over a dataset: iterating yields the rows the slice picks (ids as text),
    in dataset order; every row of the file is read and its id checked.

    While iterating, `reference` is the reference column as far as the rows read so far
    tell; after it, `columns` are every row's columns, `total` the row count and
    `reference_settled` whether each picked row was read under the final reference (when
    not, iterate again with `reference` fixed by `fix_reference`). `finish()` raises the
    errors known only at the end (an unknown column in a filter).
    """

    def __init__(self, data: DatasetRows, spec: SliceSpec | None) -> None:
        self.data, self.spec = data, spec if spec is not None and spec.kind != "all" else None
        self.columns: dict[str, None] = {}
        self.total = 0
        self.reference: str | None = data.meta_reference
        self._fixed = data.has_meta_reference
        self._used: set[str | None] = set()

    def fix_reference(self, reference: str | None) -> None:
        self.reference, self._fixed, self._used = reference, True, set()

    @property
    def reference_settled(self) -> bool:
        return self._used <= {self.reference}

    def __iter__(self) -> Iterator[Row]:
        spec = self.spec
        picks: list[int] | None = None
        if spec is not None and spec.kind == "random":
            total = self.data.count()
            if (spec.n or 0) < total:
                picks = sorted(random.Random(spec.seed).sample(range(total), spec.n or 0))
        # The filter's columns are known only at the end of the pass (finish() checks them).
        predicate = compile_filter(spec.filter_expr, None) if spec and spec.filter_expr else None
        self.columns, self.total, self._used = {}, 0, set()
        seen: set[int] = set()
        clashes: list[str] = []
        picked = 0
        next_pick = 0
        with self.data.rows() as rows:
            for index, (raw, line) in enumerate(rows):
                self.total += 1
                if ID not in raw:  # a file written by hand: its ids come from every row
                    yield from self._whole(picked)
                    return
                self._check_id(raw, line, seen, clashes)
                row = raw if type(raw[ID]) is str else {**raw, ID: str(raw[ID])}
                width = len(self.columns)
                self.columns.update(dict.fromkeys(row))
                if not self._fixed and len(self.columns) != width:
                    self.reference = next((c for c in REFERENCE_GUESSES if c in self.columns), None)
                if spec is None:
                    wanted = True
                elif spec.kind == "head":
                    wanted = index < (spec.n or 0)
                elif picks is not None:
                    wanted = next_pick < len(picks) and picks[next_pick] == index
                    next_pick += wanted
                elif spec.kind == "random":
                    wanted = True
                else:
                    limit = spec.n is None or picked < spec.n
                    wanted = limit and predicate is not None and predicate(row)
                if wanted:
                    picked += 1
                    self._used.add(self.reference)
                    yield row
        if clashes:
            self._exact_duplicates(set(clashes))

    def _check_id(self, row: Row, line: int, seen: set[int], clashes: list[str]) -> None:
        value = row[ID]
        text = "" if value is None else str(value).strip()
        if not text:
            raise DatasetError(
                "the id of this row is blank", source=self.data.source, line=line, field=ID
            )
        # Hashes, not the ids themselves: a million ids would hold ~90 MB; a clash of
        # hashes is checked exactly once the pass is over.
        digest = hash(text)
        if digest in seen:
            clashes.append(text)
        seen.add(digest)

    def _exact_duplicates(self, suspects: set[str]) -> None:
        hashes = {hash(s) for s in suspects}
        found: set[str] = set()
        with self.data.rows() as rows:
            for row, line in rows:
                text = str(row.get(ID) or "").strip()
                if hash(text) not in hashes:
                    continue
                if text in found:
                    raise DatasetError(
                        f"duplicate id {text!r}", source=self.data.source, line=line, field=ID
                    )
                found.add(text)

    def _whole(self, already: int) -> Iterator[Row]:
        from promptyard.datasets.loading import load_dataset

        loaded = load_dataset(self.data.ws, self.data.name, self.data.ref)
        self.columns = dict.fromkeys(loaded.columns)
        self.total = len(loaded.rows)
        if not self._fixed:
            self.reference = loaded.reference
        self._used.add(self.reference)
        yield from select_from(loaded.rows, loaded.columns, self.spec)[already:]

    def finish(self) -> None:
        """Raise what the whole pass tells: a filter naming a column no row has."""
        if self.spec is not None and self.spec.filter_expr:
            compile_filter(self.spec.filter_expr, list(self.columns))


__all__ = ["DatasetRows", "SlicedRows", "stream_dataset"]
