"""The workspace's git remote: where it is, how far ahead or behind, pull, push, sync.

A pull fetches, then merges without touching the working tree until the merge is whole
(`merging.trial_merge`): a conflict on a prompt or dataset changes nothing and comes back
as a `SyncResult` with both sides; `resolve` finishes that merge with the sides chosen.
The first sync (and `promptyard init`) commits `.gitattributes` with `labels.jsonl
merge=union`, so two people moving labels at once never conflict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

import git

from promptyard.errors import PromptyardError
from promptyard.versioning.merging import (
    ATTRIBUTES_FILE,
    ConflictedFile,
    Side,
    attributes_text,
    commit_merge,
    fast_forward,
    trial_merge,
)
from promptyard.versioning.repo import Repository, git_reason
from promptyard.versioning.store import Store
from promptyard.workspace import Workspace

# user:password@ in a remote's URL: the password (often a token) never reaches a page or log.
_USERINFO = re.compile(r"(://[^/:@\s]+):[^@/\s]+@")


def redact(text: str) -> str:
    """`text` with the password of any URL in it replaced by ***."""
    return _USERINFO.sub(r"\1:***@", text)


def _reason(exc: git.GitCommandError) -> str:
    return redact(git_reason(exc))


class SyncError(PromptyardError):
    """A pull, push or sync that could not be done; nothing was changed."""


class SyncStatus(StrEnum):
    """How a pull, push or sync ended."""

    UP_TO_DATE = "up to date"
    PULLED = "pulled"
    PUSHED = "pushed"
    SYNCED = "pulled and pushed"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class RemoteStatus:
    """The branch and its remote: None where there is none (no remote, nothing pushed)."""

    branch: str | None
    remote: str | None
    url: str | None
    upstream: str | None  # e.g. origin/main, once the branch exists on the remote
    ahead: int | None  # commits here the remote lacks
    behind: int | None  # commits on the remote not here (as of the last fetch)


@dataclass
class SyncResult:
    """What a pull, push or sync did; `conflicts` holds both sides when it stopped."""

    status: SyncStatus
    pulled: int = 0
    pushed: int = 0
    conflicts: list[ConflictedFile] = field(default_factory=list)
    theirs: str | None = None  # the fetched sha a resolution merges

    @property
    def message(self) -> str:
        if self.status is SyncStatus.CONFLICT:
            paths = ", ".join(c.path for c in self.conflicts)
            return f"the pull conflicts in {paths}; nothing was changed: choose a side for each"
        if self.status is SyncStatus.UP_TO_DATE:
            return "up to date with the remote"
        done = []
        if self.pulled:
            done.append(f"pulled {self.pulled} commit(s)")
        if self.pushed or self.status in (SyncStatus.PUSHED, SyncStatus.SYNCED):
            done.append(f"pushed {self.pushed} commit(s)")
        return ", ".join(done) or str(self.status)


def _remote_name(repo: git.Repo, branch: str | None) -> str | None:
    names = [r.name for r in repo.remotes]
    if branch:
        with repo.config_reader() as cfg:
            configured = cfg.get_value(f'branch "{branch}"', "remote", default="")
        if configured and str(configured) in names:
            return str(configured)
    if "origin" in names:
        return "origin"
    return names[0] if names else None


def _count(repo: git.Repo, spec: str) -> int:
    return int(repo.git.rev_list("--count", spec).strip() or 0)


def remote_status(workspace: Workspace, fetch: bool = False) -> RemoteStatus:
    """The workspace's branch, remote, and ahead/behind (after a fetch when `fetch`)."""
    rep = Repository(workspace)
    repo = rep.repo
    branch = None if repo.head.is_detached else repo.active_branch.name
    remote = _remote_name(repo, branch)
    if remote is None:
        return RemoteStatus(branch, None, None, None, None, None)
    raw_url = next(iter(repo.remote(remote).urls), None)
    url = redact(raw_url) if raw_url else None
    if fetch:
        _fetch(repo, remote)
    upstream = f"{remote}/{branch}" if branch else None
    if upstream and not _has_ref(repo, f"refs/remotes/{upstream}"):
        return RemoteStatus(branch, remote, url, None, None, None)
    if not repo.head.is_valid() or upstream is None:
        return RemoteStatus(branch, remote, url, upstream, 0, None)
    ahead = _count(repo, f"{upstream}..HEAD")
    behind = _count(repo, f"HEAD..{upstream}")
    return RemoteStatus(branch, remote, url, upstream, ahead, behind)


def _has_ref(repo: git.Repo, ref: str) -> bool:
    try:
        repo.git.rev_parse("--verify", "--quiet", ref)
        return True
    except git.GitCommandError:
        return False


def _fetch(repo: git.Repo, remote: str) -> None:
    try:
        repo.git.fetch("--quiet", remote)
    except git.GitCommandError as exc:
        raise SyncError(f"fetching from {remote} failed: {_reason(exc)}") from None


def ensure_union_merge(workspace: Workspace) -> bool:
    """Commit `.gitattributes` with the union merge of labels.jsonl when it lacks it;
    True when it was written."""
    path = workspace.root / ATTRIBUTES_FILE
    existing = path.read_text(encoding="utf-8") if path.is_file() else ""
    text = attributes_text(existing)
    if text is None:
        return False
    Store(workspace).save(ATTRIBUTES_FILE, text, "Merge labels.jsonl as a union (append-only)")
    return True


def _ready(workspace: Workspace) -> tuple[Repository, RemoteStatus]:
    status = remote_status(workspace)
    if status.branch is None:
        raise SyncError("HEAD is detached (not on a branch); check out a branch to sync")
    if status.remote is None:
        raise SyncError(
            "the workspace's repository has no remote; add one with `git remote add origin URL`"
        )
    rep = Repository(workspace)
    rep.check_writable()
    return rep, status


def pull(workspace: Workspace) -> SyncResult:
    """Fetch and merge the remote's branch; on a conflict change nothing and return both
    sides of each conflicted file (status CONFLICT). The first pull commits the union merge
    of labels.jsonl to `.gitattributes` when it is missing."""
    _ready(workspace)
    ensure_union_merge(workspace)  # before the lock: a save takes it itself
    rep, status = _ready(workspace)
    repo = rep.repo
    with rep._locked():
        assert status.remote is not None
        _fetch(repo, status.remote)
        upstream = f"{status.remote}/{status.branch}"
        if not _has_ref(repo, f"refs/remotes/{upstream}"):
            return SyncResult(SyncStatus.UP_TO_DATE)  # nothing pushed there yet
        theirs = repo.git.rev_parse(upstream).strip()
        behind = _count(repo, f"HEAD..{theirs}")
        if behind == 0:
            return SyncResult(SyncStatus.UP_TO_DATE)
        if _count(repo, f"{theirs}..HEAD") == 0:
            fast_forward(rep, theirs)
            return SyncResult(SyncStatus.PULLED, pulled=behind)
        outcome = trial_merge(rep, theirs)
        if outcome.conflicts:
            return SyncResult(SyncStatus.CONFLICT, conflicts=list(outcome.conflicts), theirs=theirs)
        commit_merge(rep, outcome, f"Merge {upstream}")
        return SyncResult(SyncStatus.PULLED, pulled=behind)


def pending_conflicts(workspace: Workspace, theirs: str) -> list[ConflictedFile]:
    """Both sides of each file that conflicts when `theirs` merges into HEAD now (for a
    page that kept only the sha); empty when the merge is clean. Changes nothing."""
    return list(trial_merge(Repository(workspace), theirs).conflicts)


def resolve(workspace: Workspace, theirs: str, choices: dict[str, Side | str]) -> SyncResult:
    """Finish the merge of `theirs` (a CONFLICT result's sha): each conflicted path gets the
    side chosen (`Side.OURS`/`Side.THEIRS`) or the text given. Every conflict needs a choice."""
    rep, status = _ready(workspace)
    with rep._locked():
        outcome = trial_merge(rep, theirs)
        missing = [c.path for c in outcome.conflicts if c.path not in choices]
        if missing:
            raise SyncError(f"choose a side for {', '.join(missing)}; nothing was changed")
        resolved: dict[str, str | None] = {}
        for conflict in outcome.conflicts:
            choice = choices[conflict.path]
            if choice == Side.OURS:
                resolved[conflict.path] = conflict.ours
            elif choice == Side.THEIRS:
                resolved[conflict.path] = conflict.theirs
            else:
                resolved[conflict.path] = str(choice)
        behind = _count(rep.repo, f"HEAD..{theirs}")
        commit_merge(rep, outcome, f"Merge {status.remote}/{status.branch}", resolved)
        return SyncResult(SyncStatus.PULLED, pulled=behind)


def push(workspace: Workspace) -> SyncResult:
    """Push the branch to its remote (setting the upstream the first time); refused with
    a SyncError when the remote has commits this workspace lacks (pull first)."""
    rep, status = _ready(workspace)
    assert status.remote is not None and status.branch is not None
    ahead = status.ahead if status.ahead is not None else _count(rep.repo, "HEAD")
    if ahead == 0:
        return SyncResult(SyncStatus.UP_TO_DATE)
    try:
        rep.repo.git.push("--quiet", "--set-upstream", status.remote, status.branch)
    except git.GitCommandError as exc:
        raise SyncError(
            f"pushing to {status.remote} was refused ({_reason(exc)}); pull first, then push"
        ) from None
    return SyncResult(SyncStatus.PUSHED, pushed=ahead)


def sync(workspace: Workspace) -> SyncResult:
    """Make sure labels.jsonl merges as a union, pull, then push; stops at a conflict."""
    pulled = pull(workspace)
    if pulled.status is SyncStatus.CONFLICT:
        return pulled
    pushed = push(workspace)
    if pulled.pulled == 0 and pushed.pushed == 0:
        return SyncResult(SyncStatus.UP_TO_DATE)
    status = SyncStatus.SYNCED if pulled.pulled and pushed.pushed else pushed.status
    if pulled.pulled and not pushed.pushed:
        status = SyncStatus.PULLED
    return SyncResult(status, pulled=pulled.pulled, pushed=pushed.pushed)
