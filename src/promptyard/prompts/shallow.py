"""Reading prompts in a shallow clone (`git clone --depth N`, the default of CI and deploys).

Labels live in `labels.jsonl` in the working tree, so a label names its commit even there;
when that commit is in the clone, the prompt is read from it. Version numbers count the
whole history of a file, which a shallow clone does not have: its versions carry
`number=None` (shown `@sha`), never a number counted along the truncated history. When the
commit is missing, the error says in one line that the history is shallow and what to do.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from promptyard.errors import NotFoundError
from promptyard.prompts.paths import parse_in
from promptyard.prompts.pinned import PinnedVersion
from promptyard.prompts.template import PromptTemplate
from promptyard.workspace import Workspace

if TYPE_CHECKING:
    from promptyard.versioning import Store

_LATEST = (None, "", "latest", "HEAD")


class ShallowHistoryError(NotFoundError):
    """The version asked for is not in this shallow clone."""


def is_shallow(store: Store) -> bool:
    """Whether the repository under the store is a shallow clone."""
    return bool(_boundary(store))


def _boundary(store: Store) -> set[str]:
    """The commits at the edge of a shallow clone (git's `shallow` file); empty when whole.

    git shows such a commit as adding every file, so it cannot tell which version of a
    file it is: one of them is never reported as the commit that changed the file."""
    from promptyard.versioning.git_files import common_dir

    for folder in dict.fromkeys([store.git_dir, common_dir(store.git_dir)]):
        path = Path(folder, "shallow")
        if path.is_file():
            return {line.strip() for line in path.read_text().splitlines() if line.strip()}
    return set()


def _advice(label: str | None) -> str:
    bundle = f"promptyard bundle --label {label} --out FILE" if label else "promptyard bundle"
    return (
        f"the history is shallow (git clone --depth): load a bundle written where the history"
        f" is whole ({bundle}; get_prompt(..., bundle=FILE)) or run `git fetch --unshallow`"
    )


def read_shallow(
    store: Store, ws: Workspace, name: str, path: str, ref: str | None, label: str | None
) -> PromptTemplate:
    """Prompt `name` at `label` or `ref` (a label, a sha prefix, latest) in a shallow clone."""
    labels: dict[str, str] = {}
    for move in store.label_moves(path):
        labels[move.label] = move.to_sha
    chosen = label or ref
    if chosen in labels:
        template = _at_commit(store, ws, name, path, labels[chosen], labels, chosen)
        template.label = chosen
        return template
    if label is not None:
        known = ", ".join(sorted(labels)) or "none"
        raise NotFoundError(f"{path} has no label {label!r} (labels: {known})")
    versions = store.history(path)  # only what the clone holds; its numbers mean nothing
    edge = _boundary(store)
    exact = bool(versions) and not versions[-1].deleted and versions[-1].sha not in edge
    if chosen in _LATEST:
        if chosen is None and store.abs_path(path).is_file():
            text = store.read(path)
            template = parse_in(text, name, ws, path)
            if exact and store.read_version(versions[-1]) == text:
                template.version = _pinned(store, path, versions[-1].sha, labels)
            return template  # else its version is unknown here: None, as for an unsaved file
        if not versions or versions[-1].deleted:
            raise NotFoundError(f"no prompt named {name!r} in {ws.prompts_dir}")
        if not exact:
            raise ShallowHistoryError(
                f"{path}: the commit of its latest version cannot be told, because {_advice(None)}"
            )
        return _at_commit(store, ws, name, path, versions[-1].sha, labels, None)
    assert chosen is not None
    found = [v for v in versions if v.sha.startswith(chosen.lower())] if len(chosen) >= 4 else []
    if len(found) == 1:
        return _at_commit(store, ws, name, path, found[0].sha, labels, None)
    raise ShallowHistoryError(
        f"{path}: version {chosen!r} cannot be found here, because {_advice(None)}"
    )


def _at_commit(
    store: Store,
    ws: Workspace,
    name: str,
    path: str,
    sha: str,
    labels: dict[str, str],
    label: str | None,
) -> PromptTemplate:
    import git

    from promptyard.versioning import decode_text

    try:
        commit = store.repo.commit(sha)
        blob = commit.tree / store.repo_path(path)
        text = decode_text(blob.data_stream.read(), path)
    except (ValueError, KeyError, git.BadName, git.GitCommandError):
        what = f"label {label!r} points at commit {sha[:8]}" if label else f"commit {sha[:8]}"
        raise ShallowHistoryError(
            f"{path}: {what}, which this clone does not have: {_advice(label)}"
        ) from None
    version = _pinned(store, path, sha, labels)
    template = parse_in(text, name, ws, f"{path}@{version.tag}")
    template.version = version
    return template


def _pinned(store: Store, path: str, sha: str, labels: dict[str, str]) -> PinnedVersion:
    commit = store.repo.commit(sha)
    return PinnedVersion(
        path=path,
        number=None,
        sha=commit.hexsha,
        message=str(commit.summary),
        author=str(commit.author.name or ""),
        email=str(commit.author.email or ""),
        date=datetime.fromisoformat(commit.authored_datetime.isoformat()),
        labels=tuple(sorted(k for k, v in labels.items() if v == commit.hexsha)),
    )
