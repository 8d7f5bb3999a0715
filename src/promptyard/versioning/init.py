"""`promptyard init`: make a workspace with the example prompts, datasets and suites."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import git

from promptyard.versioning.merging import ATTRIBUTES_FILE, attributes_text
from promptyard.versioning.store import Store
from promptyard.workspace import DATA_DIR, Workspace

# Files copied into a new workspace, beside the example prompts (whose history is replayed).
_EXAMPLE_GLOBS = (
    "datasets/*.jsonl",
    "evals/*.yaml",
    "evaluators/*.py",
    "ratings.yaml",
    "gate.yaml",
    "monitors.yaml",
    "guardrails.yaml",
)


def examples_root() -> Path:
    """Where the example files ship: inside the installed package, else the source tree."""
    packaged = Path(__file__).resolve().parents[1] / "_examples"
    if (packaged / "prompts").is_dir():
        return packaged
    return Path(__file__).resolve().parents[3]


@dataclass
class InitResult:
    workspace: Workspace
    created_repo: bool = False
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


_IGNORED = (f"{DATA_DIR}/", ".streamlit/secrets.toml")


def _ensure_gitignore(ws: Workspace) -> str | None:
    """Keep the local database and any secrets file out of git."""
    gitignore = ws.root / ".gitignore"
    lines = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.is_file() else []
    missing = [entry for entry in _IGNORED if entry not in lines]
    if not missing:
        return None
    gitignore.write_text("\n".join([*lines, *missing]) + "\n", encoding="utf-8")
    return ".gitignore"


def init_workspace(directory: str | Path, examples: bool = True) -> Workspace:
    """Make (or complete) a workspace at `directory`; see `init_workspace_report`."""
    return init_workspace_report(directory, examples).workspace


def init_workspace_report(directory: str | Path, examples: bool = True) -> InitResult:
    """Make a workspace: git init when needed, the examples committed with their history.

    Running it again changes nothing: an existing file is never overwritten.
    """
    root = Path(directory).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    root = root.resolve()
    result = InitResult(Workspace(root))
    try:
        git.Repo(root, search_parent_directories=True)
    except git.InvalidGitRepositoryError:
        git.Repo.init(root, initial_branch="main")
        result.created_repo = True
    ws = result.workspace
    for folder in (ws.prompts_dir, ws.datasets_dir, ws.evals_dir):
        folder.mkdir(exist_ok=True)
    store = Store(ws)
    ignore = _ensure_gitignore(ws)
    if ignore:
        store.save(
            ignore, (ws.root / ignore).read_text(encoding="utf-8"), "Ignore Promptyard's local data"
        )
        result.added.append(ignore)
    attributes = ws.root / ATTRIBUTES_FILE
    union = attributes_text(attributes.read_text(encoding="utf-8") if attributes.is_file() else "")
    if union is not None:  # labels.jsonl is append-only: two clones' moves merge as a union
        store.save(ATTRIBUTES_FILE, union, "Merge labels.jsonl as a union (append-only)")
        result.added.append(ATTRIBUTES_FILE)
    if not examples:
        return result
    source = examples_root()
    for prompt in sorted((source / "prompts").glob("*.prompty")):
        rel = f"prompts/{prompt.name}"
        if (ws.root / rel).exists() or store.history(rel):
            result.skipped.append(rel)
            continue
        first = source / "prompts" / ".v1" / prompt.name
        if first.is_file():
            store.save(rel, first.read_text(encoding="utf-8"), f"Add example prompt {prompt.stem}")
            store.save(
                rel,
                prompt.read_text(encoding="utf-8"),
                f"Improve {prompt.stem}: clearer instructions",
            )
        else:
            store.save(rel, prompt.read_text(encoding="utf-8"), f"Add example prompt {prompt.stem}")
        result.added.append(rel)
    for pattern in _EXAMPLE_GLOBS:
        for file in sorted(source.glob(pattern)):
            rel = file.relative_to(source).as_posix()
            if (ws.root / rel).exists():
                result.skipped.append(rel)
                continue
            store.save(rel, file.read_text(encoding="utf-8"), f"Add example {rel}")
            result.added.append(rel)
    return result
