"""`promptyard dataset ...`, run as a user runs it: a real process, real git."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from promptyard.workspace import Workspace
from tests.cli import run_cli


def cli(
    *args: str, home: Path, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli("dataset", *args, home=home, check=check, stdin=stdin, timeout=120)


def test_import_list_show_history(workspace: Workspace, tmp_path: Path) -> None:
    home = workspace.root
    csv_file = tmp_path / "faq.csv"
    csv_file.write_text("question,expected\nWhat is 2+2?,4\nCapital of France?,Paris\n")
    out = cli("import", str(csv_file), "--name", "faq", "-m", "First FAQ", home=home).stdout
    assert "Imported faq.csv as faq v1" in out and "2 rows" in out

    listed = json.loads(cli("list", "--json", home=home).stdout)
    names = {d["name"]: d for d in listed}
    assert names["faq"]["rows"] == 2 and names["faq"]["version"] == "v1"
    assert {"tickets", "summaries", "invoices"} <= set(names)
    assert "faq" in cli("list", home=home).stdout

    csv_file.write_text(
        "question,expected\nWhat is 2+2?,4\nCapital of France?,Paris\nLargest planet?,Jupiter\n"
    )
    out = cli("import", str(csv_file), "--name", "faq", home=home).stdout
    assert "faq v2" in out and "+1 added" in out

    shown = json.loads(cli("show", "faq@v1", "--json", home=home).stdout)
    assert shown["version"]["version"] == "v1" and len(shown["rows"]) == 2
    assert shown["reference"] == "expected"
    text = cli("show", "faq", "--limit", "1", home=home).stdout
    assert "3 rows" in text and "Capital" not in text and "2 more rows" in text

    history = json.loads(cli("history", "faq", "--json", home=home).stdout)
    assert [h["version"] for h in history] == ["v1", "v2"]
    assert history[1]["change"]["added"] == 1
    assert "+1 added" in cli("history", "faq", home=home).stdout
    assert "+1 added" in cli("diff", "faq", "v1", "v2", home=home).stdout


def test_show_with_a_slice(workspace: Workspace) -> None:
    out = cli(
        "show",
        "tickets",
        "--slice",
        "filter:product == 'Kettle Pro 2'",
        "--json",
        home=workspace.root,
    ).stdout
    rows = json.loads(out)["rows"]
    assert rows and all(r["product"] == "Kettle Pro 2" for r in rows)


def test_check_reports_missing_variables_and_exit_code(workspace: Workspace) -> None:
    home = workspace.root
    ok = cli("check", "tickets", "--prompt", "support_reply", home=home)
    assert "missing:  -" in ok.stdout
    bad = cli("check", "summaries", "--prompt", "support_reply", home=home, check=False)
    assert bad.returncode == 1
    assert "customer_name" in bad.stdout and "product" in bad.stdout
    assert "lacks" in bad.stderr
    as_json = cli("check", "summaries", "--prompt", "summarize@v1", "--json", home=home)
    assert json.loads(as_json.stdout)["ok"] is True


def test_bad_input_is_one_line_on_stderr_and_writes_nothing(
    workspace: Workspace, tmp_path: Path
) -> None:
    home = workspace.root
    bad = tmp_path / "bad.csv"
    bad.write_text('id,text\n1,"open\n2,x\n')
    result = cli("import", str(bad), "--name", "bad", home=home, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "bad.csv, line 2, column 3: unbalanced quote" in result.stderr
    assert not (home / "datasets" / "bad.jsonl").exists()
    unsafe = cli("import", str(bad), "--name", "../x", home=home, check=False)
    assert unsafe.returncode == 1 and "dataset name" in unsafe.stderr
    missing = cli("show", "nope", home=home, check=False)
    assert missing.returncode == 1 and "dataset 'nope' not found" in missing.stderr


def test_import_from_stdin_and_label_restore(workspace: Workspace) -> None:
    home = workspace.root
    cli("import", "-", "--name", "pasted", home=home, stdin='{"q": "a"}\n{"q": "b"}\n')
    cli("import", "-", "--name", "pasted", home=home, stdin='{"q": "a"}\n')
    assert "golden" in cli("label", "pasted", "v1", "golden", home=home).stdout
    assert json.loads(cli("show", "pasted@golden", "--json", home=home).stdout)["total_rows"] == 2
    out = cli("restore", "pasted", "golden", home=home).stdout
    assert "pasted v3" in out and "+1 added" in out
