"""The two sides the gate compares: a prompt as it is in the working tree, and its baseline
(a version, a label, or the file at a git branch, tag or commit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promptyard.errors import NotFoundError
from promptyard.evals.gate.result import GateConfigError
from promptyard.workspace import Workspace


@dataclass(frozen=True)
class PromptSide:
    """One side of a comparison: a prompt's text and where it came from."""

    prompt: str
    text: str
    sha: str | None
    number: int | None
    description: str  # "working tree (uncommitted)", "v3 1a2b3c4d (production)", ...

    @property
    def template_text(self) -> str | None:
        """The text to store with the run when it is not a committed version, else None."""
        return self.text if self.sha is None else None


def current_side(ws: Workspace, prompt: str) -> PromptSide:
    """The prompt as it is in the working tree; a committed version when unchanged."""
    from promptyard.versioning.store import Store

    store = Store(ws)
    path = f"prompts/{prompt}.prompty"
    file = ws.root / path
    if not file.is_file():
        raise GateConfigError(f"no prompt file {path} in the working tree")
    text = store.read(path)
    history = store.history(path)
    if history and not history[-1].deleted and store.read_version(history[-1]) == text:
        v = history[-1]
        return PromptSide(prompt, text, v.sha, v.number, f"{v.tag} {v.short_sha} (working tree)")
    return PromptSide(prompt, text, None, None, "working tree (uncommitted)")


def baseline_side(ws: Workspace, prompt: str, baseline: str | None) -> PromptSide | None:
    """The baseline version of `prompt`: `baseline` (vN, sha, label or a git branch/tag),
    else its `production` label, else its last commit; None for a never-committed prompt."""
    from promptyard.versioning.store import Store

    store = Store(ws)
    path = f"prompts/{prompt}.prompty"
    history = store.history(path)
    if baseline is None:
        labels = store.labels(path)
        if "production" in labels:
            v = labels["production"]
            return PromptSide(
                prompt,
                store.read_version(v),
                v.sha,
                v.number,
                f"{v.tag} {v.short_sha} (production)",
            )
        if not history or history[-1].deleted:
            return None
        v = history[-1]
        return PromptSide(
            prompt, store.read_version(v), v.sha, v.number, f"{v.tag} {v.short_sha} (last commit)"
        )
    try:
        v = store.resolve(path, baseline)
        return PromptSide(
            prompt, store.read_version(v), v.sha, v.number, f"{v.tag} {v.short_sha} ({baseline})"
        )
    except NotFoundError as exc:
        problem = str(exc)
    commit = _git_commit(store, baseline)
    if commit is not None:
        return _git_rev_side(store, prompt, path, baseline, commit)
    if not history:
        return None  # a prompt never committed has no baseline anywhere
    raise GateConfigError(f"baseline {baseline!r} for {path}: {problem}")


def _git_commit(store: Any, rev: str) -> Any:
    import git

    try:
        return store.repo.commit(rev)
    except (git.BadName, ValueError, git.GitCommandError):
        return None


def _git_rev_side(store: Any, prompt: str, path: str, rev: str, commit: Any) -> PromptSide | None:
    """The file at a git branch, tag or commit (`origin/main`), for CI baselines; None
    when the file does not exist there (a prompt new on this branch)."""
    repo_path = store.repo_path(path)
    try:
        blob = commit.tree / repo_path
    except KeyError:
        return None
    text = blob.data_stream.read().decode("utf-8")
    last = store.repo.git.log("-1", "--format=%H", commit.hexsha, "--", repo_path).strip()
    for v in store.history(path):
        if v.sha == last:
            return PromptSide(prompt, text, v.sha, v.number, f"{v.tag} {v.short_sha} ({rev})")
    return PromptSide(prompt, text, None, None, f"{rev} {commit.hexsha[:8]}")
