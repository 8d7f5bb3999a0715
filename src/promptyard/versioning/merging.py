"""Merging a fetched branch without touching the working tree until the merge is whole.

`git merge-tree --write-tree` merges in git's object store: a clean result becomes a merge
commit that HEAD then fast-forwards to; a conflict leaves HEAD, the index and every file as
they were, and hands back both sides of each conflicted file. The person picks a side (or
writes the merged text) and `commit_resolved` builds the same merge with those choices.
`labels.jsonl` never conflicts: `.gitattributes` merges it as a union (append-only lines).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from enum import StrEnum

import git

from promptyard.errors import PromptyardError
from promptyard.versioning.repo import Repository, decode_text, git_reason

UNION_LINE = "labels.jsonl merge=union"
ATTRIBUTES_FILE = ".gitattributes"


class Side(StrEnum):
    """Which side of a conflicted file to keep."""

    OURS = "ours"  # this workspace's version
    THEIRS = "theirs"  # the remote's version


@dataclass(frozen=True)
class ConflictedFile:
    """One file both sides changed: its text on each side (None: deleted on that side)."""

    path: str  # relative to the workspace root
    ours: str | None
    theirs: str | None
    base: str | None


@dataclass(frozen=True)
class MergeOutcome:
    """A trial merge of `theirs` into HEAD: the merged tree, or the conflicts."""

    tree: str
    ours: str  # HEAD's sha
    theirs: str  # the fetched sha
    conflicts: tuple[ConflictedFile, ...]


def attributes_text(existing: str) -> str | None:
    """`.gitattributes` with the union line for labels.jsonl added; None when it has it."""
    lines = existing.splitlines()
    if any(line.split()[:2] == UNION_LINE.split() for line in lines if line.strip()):
        return None
    return "\n".join([*lines, UNION_LINE]) + "\n"


def _blob(repo: git.Repo, oid: str, path: str) -> str:
    return decode_text(
        repo.git.cat_file("blob", oid, stdout_as_string=False, strip_newline_in_stdout=False), path
    )


def trial_merge(rep: Repository, theirs: str) -> MergeOutcome:
    """Merge commit `theirs` into HEAD in the object store only; nothing on disk changes."""
    repo = rep.repo
    ours = repo.head.commit.hexsha
    status, out, err = repo.git.merge_tree(
        "--write-tree", "-z", ours, theirs, with_extended_output=True, with_exceptions=False
    )
    if status not in (0, 1):  # 1: conflicts; anything else: git could not merge at all
        reason = (err or "unknown error").strip().splitlines()[-1]
        raise PromptyardError(f"git could not merge {theirs[:8]} into {ours[:8]}: {reason}")
    clean = status == 0
    parts = out.split("\0")
    tree = parts[0].strip()
    stages: dict[str, dict[int, str]] = {}
    if not clean:
        for entry in parts[1:]:
            if not entry:
                break  # the empty entry ends the conflicted files; messages follow
            info, _, repo_path = entry.partition("\t")
            _mode, oid, stage = info.split()
            stages.setdefault(repo_path, {})[int(stage)] = oid
    prefix = rep.repo_path("")
    conflicts = []
    for repo_path, by_stage in sorted(stages.items()):
        path = repo_path.removeprefix(prefix)

        def side(stage: int, by_stage: dict[int, str] = by_stage, path: str = path) -> str | None:
            return _blob(repo, by_stage[stage], path) if stage in by_stage else None

        conflicts.append(ConflictedFile(path, side(2), side(3), side(1)))
    return MergeOutcome(tree, ours, theirs, tuple(conflicts))


def commit_merge(
    rep: Repository,
    outcome: MergeOutcome,
    message: str,
    resolved: dict[str, str | None] | None = None,
) -> str:
    """Write the merge commit (with `resolved` texts for conflicted paths: None deletes) and
    fast-forward HEAD and the working tree to it; returns its sha."""
    repo = rep.repo
    tree = outcome.tree
    if resolved:
        tree = _tree_with(rep, outcome.tree, resolved)
    name, email = rep._identity(None)
    env = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
    sha = repo.git.commit_tree(
        tree, "-p", outcome.ours, "-p", outcome.theirs, "-m", message, env=env
    )
    fast_forward(rep, sha.strip())
    return sha.strip()


def fast_forward(rep: Repository, sha: str) -> None:
    """Move HEAD, the index and the working tree forward to `sha` (a descendant of HEAD);
    git refuses, changing nothing, when that would overwrite uncommitted edits."""
    try:
        rep.repo.git.merge("--ff-only", "--quiet", sha)
    except git.GitCommandError as exc:
        raise PromptyardError(
            f"the pull would overwrite uncommitted edits ({git_reason(exc)}); save or discard"
            " them, then pull again"
        ) from None


def _tree_with(rep: Repository, tree: str, resolved: dict[str, str | None]) -> str:
    """`tree` with each resolved path replaced, built in a throwaway index."""
    repo = rep.repo
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
        repo.git.read_tree(tree, env=env)
        for path, text in resolved.items():
            repo_path = rep.repo_path(path)
            if text is None:
                repo.git.update_index("--force-remove", "--", repo_path, env=env)
                continue
            blob_file = os.path.join(tmp, "blob")
            with open(blob_file, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            oid = repo.git.hash_object("-w", blob_file).strip()
            repo.git.update_index("--add", "--cacheinfo", f"100644,{oid},{repo_path}", env=env)
        return str(repo.git.write_tree(env=env)).strip()
