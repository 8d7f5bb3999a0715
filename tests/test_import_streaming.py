"""Imports stream: a big file is read row by row, and its memory does not grow with its size.

The memory checks run the real command in a child process and read the kernel's peak
resident size of it (and of git, its child) from `wait4`; they compare an import of a
~40 MB CSV with an import of a one-row file, so interpreter start-up is not counted.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import git
import pytest

from promptyard import datasets as ds
from promptyard.datasets import DatasetError
from promptyard.errors import PromptyardError
from promptyard.versioning import Store, save_file
from promptyard.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


def _write_csv(path: Path, rows: int, text_bytes: int) -> None:
    """A CSV with a ticket column, quoted commas and newlines, and long text fields."""
    words = "refund lamp broken, kettle\nwarranty delivery invoice screen battery"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticket", "product", "message", "expected"])
        for i in range(rows):
            text = (f"{i} {words} " * (text_bytes // len(words) + 1))[:text_bytes]
            writer.writerow([f"T-{i:06d}", f"p{i % 7}", text, f"answer {i}"])


# The import's own high-water mark, read by the child at exit. (The kernel's ru_maxrss of a
# child starts from the RSS of the process that forked it, here the test process.)
_LAUNCH = """
import atexit, sys
def _peak():
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    sys.stderr.write(f"peak-rss-kb {peak}\\n")
atexit.register(_peak)
sys.argv = ["promptyard", *sys.argv[1:]]
from promptyard.cli import main
main()
"""


def _peak_mb(home: Path, *args: str) -> float:
    """Peak RSS in MB of the process running `promptyard ARGS`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PROMPTYARD_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCH, *args], env=env, cwd=home, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return int(done.stderr.split("peak-rss-kb ")[-1].split()[0]) / 1024


def _lines(ws: Workspace, name: str) -> int:
    with (ws.root / "datasets" / f"{name}.jsonl").open("rb") as handle:
        return sum(1 for _ in handle)


def test_a_40_mb_csv_imports_without_holding_the_file(
    empty_workspace: Workspace, tmp_path: Path
) -> None:
    ws = empty_workspace
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    _write_csv(small, 1, 1000)
    _write_csv(big, 40_000, 1000)
    size_mb = big.stat().st_size / MB
    assert size_mb > 38
    base = _peak_mb(ws.root, "dataset", "import", str(small), "-n", "small")
    peak = _peak_mb(ws.root, "dataset", "import", str(big), "-n", "big")
    # Holding the text, the rows and the JSON of a 40 MB file costs ~9x its size.
    assert peak - base < size_mb / 2, f"peak {peak:.0f} MB vs {base:.0f} MB for one row"
    assert _lines(ws, "big") == 40_000
    first = ds.read_page(ws, "big", 0, 2).rows[0]
    assert first["ticket"] == "T-000000" and first["message"].startswith("0 refund lamp broken,")
    assert ds.dataset_history(ws, "big", changes=False)[-1].message == "Import big.csv (40000 rows)"

    # Again with two rows edited: ids are kept from the previous version, memory stays low.
    edited = big.read_bytes().replace(b"answer 7\r\n", b"answer seven\r\n")
    big.write_bytes(edited.replace(b"answer 9\r\n", b"answer 9!\r\n"))
    del edited
    ids_before = ds.read_page(ws, "big", 0, 20).rows
    peak = _peak_mb(ws.root, "dataset", "import", str(big), "-n", "big")
    # Ids and digests of both versions: ~15 MB for 40,000 rows (the old code: ~480 MB).
    assert peak - base < size_mb, f"re-import peak {peak:.0f} MB vs {base:.0f} MB"
    history = ds.dataset_history(ws, "big")
    assert history[-1].change is not None
    assert history[-1].change.summary() == "~2 changed"
    after = ds.read_page(ws, "big", 0, 20).rows
    assert [r["id"] for r in after] == [r["id"] for r in ids_before]
    assert after[7]["expected"] == "answer seven"


def test_a_bad_row_deep_in_a_file_is_named_and_nothing_is_written(
    empty_workspace: Workspace, tmp_path: Path
) -> None:
    ws = empty_workspace
    data = tmp_path / "deep.csv"
    _write_csv(data, 5_000, 300)
    with data.open("a", encoding="utf-8", newline="") as handle:
        handle.write('T-x,p1,"never closed\r\n')
    lines = data.read_bytes().count(b"\n")
    with pytest.raises(DatasetError) as info:
        ds.import_dataset(ws, "deep", data)
    assert str(info.value).startswith(f"deep.csv, line {lines}, column 8: unbalanced quote")
    assert info.value.field == "message"
    assert not (ws.root / "datasets").exists()  # no dataset, no temp file, no folder


def test_a_bad_byte_past_the_first_64_kb_says_where_and_what(
    workspace: Workspace, tmp_path: Path
) -> None:
    data = tmp_path / "latin.csv"
    body = "".join(f"{i},plain text\n" for i in range(10_000))
    data.write_bytes(("n,text\n" + body + "10000,café crème\n").encode("cp1252"))
    before = sorted(p.name for p in (workspace.root / "datasets").iterdir())
    with pytest.raises(DatasetError) as info:
        ds.import_dataset(workspace, "latin", data)
    assert (info.value.line, info.value.column) == (10_002, 10)
    assert "not UTF-8 text (byte 0xE9" in str(info.value) and "Windows-1252" in str(info.value)
    assert sorted(p.name for p in (workspace.root / "datasets").iterdir()) == before


def test_duplicate_ids_are_reported_after_the_rows_parse(empty_workspace: Workspace) -> None:
    # A malformed row later in the file is what a parse of the whole file reports first.
    with pytest.raises(DatasetError, match=r"line 4: this row has 1 fields"):
        ds.import_dataset(empty_workspace, "d", b"id,t\n1,a\n1,b\nx\n", "d.csv")
    with pytest.raises(DatasetError, match=r"line 3: duplicate 'id' '1' \(also on line 2\)"):
        ds.import_dataset(empty_workspace, "d", b"id,t\n1,a\n1,b\n2,c\n", "d.csv")
    with pytest.raises(DatasetError, match=r"d.json, item 2: duplicate 'k' 'a' \(also on d.json"):
        ds.import_dataset(
            empty_workspace, "d", b'[{"k": "a"}, {"k": "a"}]', "d.json", id_column="k"
        )
    # A JSONL file whose first row has no id, but a later one has: the first is blank.
    with pytest.raises(DatasetError, match=r"d.jsonl, line 1: the 'id' of this row is blank"):
        ds.import_dataset(empty_workspace, "d", b'{"t": "a"}\n{"id": "x", "t": "b"}\n', "d.jsonl")


def test_a_path_imports_as_its_bytes_do(empty_workspace: Workspace, tmp_path: Path) -> None:
    ws = empty_workspace
    data = tmp_path / "quiz.tsv"
    data.write_bytes("\ufeffquestion\texpected\nWhat is 2+2?\t4\n\nSky?\tblue\n".encode())
    by_path = ds.import_dataset(ws, "a", data)
    by_bytes = ds.import_dataset(ws, "b", data.read_bytes(), "quiz.tsv")
    assert by_path.message == by_bytes.message == "Import quiz.tsv (2 rows)"
    files = ws.root / "datasets"
    assert (files / "a.jsonl").read_bytes() == (files / "b.jsonl").read_bytes()
    assert ds.load_dataset(ws, "a").columns == ["id", "question", "expected"]
    assert sorted(p.name for p in files.iterdir()) == ["a.jsonl", "b.jsonl"]


def test_save_file_commits_from_disk_and_refuses_uncommitted_edits(
    empty_workspace: Workspace, tmp_path: Path
) -> None:
    store = Store(empty_workspace)
    (empty_workspace.root / "datasets").mkdir()
    staged = empty_workspace.root / "datasets" / ".x.staged"
    staged.write_text('{"id": "1"}\n', encoding="utf-8")
    first, new = save_file(store, "datasets/x.jsonl", staged, "one")
    assert new and first.number == 1 and not staged.exists()
    staged.write_text('{"id": "1"}\n', encoding="utf-8")
    again, new = save_file(store, "datasets/x.jsonl", staged, "same")
    assert not new and again.sha == first.sha and not staged.exists()
    target = empty_workspace.root / "datasets" / "x.jsonl"
    target.write_text('{"id": "edited by hand"}\n', encoding="utf-8")
    staged.write_text('{"id": "2"}\n', encoding="utf-8")
    with pytest.raises(PromptyardError, match="conflict"):
        save_file(store, "datasets/x.jsonl", staged, "two")
    assert target.read_text(encoding="utf-8") == '{"id": "edited by hand"}\n'
    assert len(list(git.Repo(empty_workspace.root).iter_commits())) == 1
