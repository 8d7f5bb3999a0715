"""A corrupt or unreadable database, a read-only workspace and a full disk: one line, exit 1.

Each case is real, not a mock:
- full disk: a 16 MB tmpfs mounted in a private mount namespace (`unshare -r -m`, no
  root needed where user namespaces are allowed), filled to the last page; writes there
  fail with ENOSPC exactly as on a full disk;
- read-only workspace: the same tmpfs remounted read-only (EROFS), which stops root too
  (chmod does not);
- file size limit: RLIMIT_FSIZE in the child (`ulimit -f`) with SIGXFSZ ignored, so a
  write past the limit fails with EFBIG; it needs no namespace, so it runs everywhere;
- corrupt database: garbage bytes in `.promptyard/promptyard.db`; unreadable: a folder
  where the database file should be.
Every case checks the message (one line, what to do, no traceback), that no temporary
file is left, and that what was stored is unchanged.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from promptyard.storage import db
from promptyard.workspace import Workspace
from tests.cli import run_cli

ROOT = Path(__file__).resolve().parent.parent

# Runs inside the private mount namespace: mount, copy the workspace in, break the disk,
# run the commands, report what happened and what is left, as JSON on stdout.
DRIVER = r"""
import json, os, subprocess, sys
cfg = json.loads(sys.argv[1])
mnt, ws = cfg["mnt"], os.path.join(cfg["mnt"], "ws")
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt], check=True)
subprocess.run(["cp", "-a", cfg["ws"], ws], check=True)
env = {**os.environ, "PROMPTYARD_HOME": ws}

def cli(*args):
    p = subprocess.run([sys.executable, "-m", "promptyard", *args], cwd=ws, env=env,
                       capture_output=True, text=True, timeout=120)
    return {"args": list(args), "code": p.returncode, "stderr": p.stderr}

def git(*args):
    return subprocess.run(["git", *args], cwd=ws, capture_output=True, text=True).stdout

def runs():
    import sqlite3
    con = sqlite3.connect(os.path.join(ws, ".promptyard", "promptyard.db"))
    try:
        return con.execute("SELECT COUNT(*) FROM run").fetchone()[0]
    finally:
        con.close()

def state():
    labels = os.path.join(ws, "labels.jsonl")
    return {
        "prompts": sorted(os.listdir(os.path.join(ws, "prompts"))),
        "datasets": sorted(os.listdir(os.path.join(ws, "datasets"))),
        "summarize": open(os.path.join(ws, "prompts", "summarize.prompty")).read(),
        "tickets": open(os.path.join(ws, "datasets", "tickets.jsonl")).read(),
        "labels": open(labels).read() if os.path.exists(labels) else None,
        "commits": git("rev-list", "--count", "HEAD").strip(),
        "status": git("status", "--porcelain"),
        "runs": runs(),
    }

assert cli("runs", "list")["code"] == 0  # the database exists before the disk breaks
before = state()
if cfg["mode"] == "full":
    fd = os.open(os.path.join(mnt, "filler"), os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        os.close(fd)
else:
    subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
results = [cli(*args) for args in cfg["commands"]]
# Mend the disk, then look: everything stored must be as it was before.
if cfg["mode"] == "full":
    os.remove(os.path.join(mnt, "filler"))
else:
    subprocess.run(["mount", "-o", "remount,rw", mnt], check=True)
print(json.dumps({"before": before, "after": state(), "results": results}))
"""


def _big_prompt(ws: Workspace, tmp_path: Path, size: int = 300_000) -> Path:
    """A valid edit of `summarize` bigger than what the broken disk can take."""
    text = (ws.prompts_dir / "summarize.prompty").read_text()
    edited = text.replace(
        "in at most three sentences.", "in at most three sentences. " + "Be brief. " * (size // 10)
    )
    path = tmp_path / "big.prompty"
    path.write_text(edited)
    return path


def _in_namespace(ws: Workspace, tmp_path: Path, mode: str, commands: list[list[str]]) -> Any:
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) here to mount a private tmpfs")
    probe = subprocess.run(["unshare", "-r", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"user and mount namespaces are not allowed here: {probe.stderr!r}")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    cfg = {"mnt": str(mnt), "ws": str(ws.root), "mode": mode, "commands": commands}
    done = subprocess.run(
        ["unshare", "-r", "-m", sys.executable, "-c", DRIVER, json.dumps(cfg)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _one_line_error(result: dict[str, Any], *needles: str) -> None:
    stderr = result["stderr"]
    assert result["code"] == 1, result
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith("error: ")
    for needle in needles:
        assert needle in stderr, stderr


def _nothing_changed(report: dict[str, Any]) -> None:
    before, after = report["before"], report["after"]
    assert after == before, "stored data or temporary files changed"
    left = after["prompts"] + after["datasets"]
    assert not any(".tmp-" in name or ".old-" in name for name in left)


def test_full_disk_save_import_label_and_run(
    workspace: Workspace, tmp_path: Path, sim: Any
) -> None:
    big = _big_prompt(workspace, tmp_path)
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"text": f"row {i} " + "x" * 300}) + "\n"
                            for i in range(1000)))  # fmt: skip
    report = _in_namespace(workspace, tmp_path, "full", [
        ["prompt", "save", "summarize", "--file", str(big), "-m", "longer"],
        ["prompt", "save", "brand_new", "--file", str(big), "-m", "new"],
        ["prompt", "label", "summarize", "v1", "production"],
        ["dataset", "import", str(rows), "--name", "tickets"],
        ["run", "-p", "summarize", "-m", "sim-fast", "-d", "summaries", "--limit", "2"],
    ])  # fmt: skip
    save, new, label, imported, run = report["results"]
    _one_line_error(run, "the database", "the disk is full")
    _one_line_error(imported, "datasets/tickets.jsonl", "the disk is full")
    _one_line_error(save, "saving prompts/summarize.prompty failed", "the disk is full",
                    "free some space")  # fmt: skip
    _one_line_error(new, "saving prompts/brand_new.prompty failed", "the disk is full")
    _one_line_error(label, "the disk is full")
    _nothing_changed(report)


def test_read_only_workspace(workspace: Workspace, tmp_path: Path) -> None:
    big = _big_prompt(workspace, tmp_path, size=1000)
    report = _in_namespace(workspace, tmp_path, "ro", [
        ["prompt", "save", "summarize", "--file", str(big), "-m", "edit"],
        ["prompt", "label", "summarize", "v1", "production"],
        ["runs", "list"],
    ])  # fmt: skip
    save, label, runs = report["results"]
    for result in (save, label):
        _one_line_error(result, "read-only file system", "remount it read-write")
    _one_line_error(runs, "the database", "promptyard.db", "is read-only")
    _nothing_changed(report)


def _limit_file_size(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_file_size_limit_leaves_no_temporary_file(workspace: Workspace, tmp_path: Path) -> None:
    big = _big_prompt(workspace, tmp_path)
    run_cli("runs", "list", check=True)  # the database first, well under the limit
    original = (workspace.prompts_dir / "summarize.prompty").read_text()
    done = subprocess.run(
        [sys.executable, "-m", "promptyard", "prompt", "save", "summarize", "--file", str(big),
         "-m", "longer"],
        capture_output=True, text=True, cwd=workspace.root, timeout=120,
        preexec_fn=lambda: _limit_file_size(100_000),
    )  # fmt: skip
    _one_line_error(
        {"code": done.returncode, "stderr": done.stderr}, "file size limit", "prompts/summarize"
    )
    assert sorted(os.listdir(workspace.prompts_dir)) == sorted(
        p.name for p in workspace.prompts_dir.glob("*.prompty")
    )
    assert (workspace.prompts_dir / "summarize.prompty").read_text() == original
    status = subprocess.run(["git", "status", "--porcelain"], cwd=workspace.root,
                            capture_output=True, text=True).stdout  # fmt: skip
    assert status == ""


def _database(ws: Workspace) -> Path:
    return ws.data_dir / "promptyard.db"


def test_corrupt_database_is_one_line_and_left_alone(workspace: Workspace) -> None:
    run_cli("runs", "list", check=True)
    db.dispose_engines()
    for suffix in ("-wal", "-shm"):
        Path(f"{_database(workspace)}{suffix}").unlink(missing_ok=True)
    garbage = b"this is not a SQLite database, a disk error wrote over it\n" * 200
    _database(workspace).write_bytes(garbage)
    for args in (("runs", "list"), ("results", "1")):
        out = run_cli(*args)
        _one_line_error(out.__dict__ | {"code": out.returncode}, "is corrupt or not a SQLite",
                        "move it aside", str(_database(workspace)))  # fmt: skip
    assert _database(workspace).read_bytes() == garbage


def test_unreadable_database_is_one_line(workspace: Workspace) -> None:
    _database(workspace).mkdir(parents=True)  # a folder where the file should be
    out = run_cli("runs", "list")
    _one_line_error(out.__dict__ | {"code": out.returncode}, "cannot be opened",
                    str(_database(workspace)))  # fmt: skip
