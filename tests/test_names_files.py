"""Names match in full, and workspace files that are symlinks out of the workspace are refused.

`re.match` with `$` accepts a final newline ("name\\n"); every name check uses `fullmatch`.
A dataset or prompt file that is a symlink to a file outside the workspace (a cloned
repository can hold one) is neither read nor printed nor written through.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from promptyard.errors import PromptyardError
from promptyard.models import load_endpoints
from promptyard.ratings import load_schemes
from promptyard.workspace import InvalidNameError, Workspace, validate_name
from tests.cli import run_cli

SECRET = "s3cret-row-outside-the-workspace"


def _commits(ws: Workspace) -> int:
    out = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=ws.root, text=True,
                         capture_output=True, check=True)  # fmt: skip
    return int(out.stdout)


@pytest.mark.parametrize("kind", ["prompt", "dataset", "label", "suite"])
@pytest.mark.parametrize("name", ["name\n", "name\r\n", "na\nme", "name\n\n"])
def test_a_name_with_a_newline_is_refused(kind: str, name: str) -> None:
    with pytest.raises(InvalidNameError, match=kind):
        validate_name(name, kind)
    assert validate_name("name", kind) == "name"


def test_prompt_dataset_and_label_names_ending_in_newline_change_nothing(
    workspace: Workspace, tmp_path: Path
) -> None:
    before = _commits(workspace)
    source = tmp_path / "p.prompty"
    source.write_text((workspace.prompts_dir / "summarize.prompty").read_text())
    saved = run_cli("prompt", "save", "brief\n", "--file", str(source), "-m", "x")
    assert saved.returncode == 1 and "prompt name 'brief\\n'" in saved.stderr
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"q": "a"}\n')
    imported = run_cli("dataset", "import", str(rows), "--name", "rows\n")
    assert imported.returncode == 1 and "dataset name 'rows\\n'" in imported.stderr
    labels_before = workspace.labels_file.read_bytes() if workspace.labels_file.exists() else b""
    labelled = run_cli("prompt", "label", "summarize", "v1", "prod\n")
    assert labelled.returncode == 1 and "label name 'prod\\n'" in labelled.stderr
    for result in (saved, imported, labelled):
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert _commits(workspace) == before
    assert sorted(p.name for p in workspace.prompts_dir.iterdir()) == sorted(
        p.name for p in workspace.prompts_dir.glob("*.prompty")
    )
    assert not any("\n" in p.name for p in workspace.datasets_dir.iterdir())
    now = workspace.labels_file.read_bytes() if workspace.labels_file.exists() else b""
    assert now == labels_before


def test_models_and_rating_scheme_names_match_in_full(workspace: Workspace) -> None:
    workspace.models_file.write_text('models:\n  "fast\\n":\n    model: openai/gpt-4o-mini\n')
    with pytest.raises(PromptyardError, match="fast"):
        load_endpoints(workspace)
    workspace.models_file.write_text(
        'models:\n  fast:\n    model: openai/gpt-4o-mini\n    api_key_env: "KEY\\n"\n'
    )
    with pytest.raises(PromptyardError, match="KEY"):
        load_endpoints(workspace)
    workspace.ratings_file.write_text('schemes:\n  - name: "stars\\n"\n    kind: boolean\n')
    with pytest.raises(PromptyardError, match="stars"):
        load_schemes(workspace)


def _outside_file(tmp_path: Path, name: str, text: str) -> Path:
    outside = tmp_path / "elsewhere" / name
    outside.parent.mkdir(exist_ok=True)
    outside.write_text(text)
    return outside


def test_a_dataset_symlinked_out_of_the_workspace_is_refused(
    workspace: Workspace, tmp_path: Path
) -> None:
    outside = _outside_file(tmp_path, "leak.jsonl", f'{{"id": "1", "q": "{SECRET}"}}\n')
    (workspace.datasets_dir / "leak.jsonl").symlink_to(outside)
    out = run_cli("dataset", "show", "leak")
    assert out.returncode != 0
    assert "datasets/leak.jsonl is a symlink to" in out.stderr and "outside" in out.stderr
    assert SECRET not in out.stdout + out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    # the list still shows every other dataset, and leaves the link out
    listed = run_cli("dataset", "list", check=True)
    assert "tickets" in listed.stdout and "leak" not in listed.stdout
    assert SECRET not in listed.stdout + listed.stderr
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"q": "overwritten"}\n')
    out = run_cli("dataset", "import", str(rows), "--name", "leak")
    assert out.returncode == 1 and "symlink" in out.stderr
    assert SECRET in outside.read_text()  # never written through


def test_a_symlink_inside_the_workspace_still_works(workspace: Workspace) -> None:
    (workspace.datasets_dir / "alias.jsonl").symlink_to(workspace.datasets_dir / "tickets.jsonl")
    out = run_cli("dataset", "show", "alias", "--json", check=True)
    assert '"total_rows"' in out.stdout


def test_a_prompt_symlinked_out_of_the_workspace_is_refused(
    workspace: Workspace, tmp_path: Path
) -> None:
    text = (
        (workspace.prompts_dir / "summarize.prompty")
        .read_text()
        .replace("Summarize", f"Summarize {SECRET}")
    )
    outside = _outside_file(tmp_path, "leak.prompty", text)
    (workspace.prompts_dir / "leak.prompty").symlink_to(outside)
    for args in (("prompt", "show", "leak"), ("prompt", "render", "leak", "--samples")):
        out = run_cli(*args)
        assert out.returncode != 0, args
        assert "prompts/leak.prompty is a symlink to" in out.stderr
        assert SECRET not in out.stdout + out.stderr
    source = Path(workspace.root / "p.prompty")
    source.write_text(text.replace(SECRET, "new"))
    out = run_cli("prompt", "save", "leak", "--file", str(source), "-m", "x")
    assert out.returncode == 1 and "symlink" in out.stderr
    assert outside.read_text() == text
