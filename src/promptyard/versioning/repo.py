"""The git repository under a workspace: paths, the author, the save lock, one-file commits."""

from __future__ import annotations

import fcntl
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from promptyard.disk_errors import disk_error
from promptyard.errors import PromptyardError
from promptyard.team import current_identity, permission_for_path, require
from promptyard.versioning.git_files import find_repository, reason
from promptyard.workspace import Workspace

if TYPE_CHECKING:
    import git

DEFAULT_AUTHOR = ("Promptyard", "promptyard@localhost")


class RepositoryStateError(PromptyardError):
    """The git repository is in a state where saving would be unsafe."""


def decode_text(data: bytes, path: str) -> str:
    """`data` as UTF-8 text; a PromptyardError naming `path` and the bad byte otherwise."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PromptyardError(
            f"{path} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start});"
            " save it as UTF-8"
        ) from None


def git_reason(exc: git.GitCommandError) -> str:
    """The last line git wrote to stderr: the reason a command failed, for people."""
    return reason(exc.stderr or str(exc))


class Repository:
    """The git repository that holds one workspace, seen from the workspace's root.

    It is found from the files git keeps (`git_files`); gitpython (`repo`) is loaded the
    first time something writes, so reading versions never waits for its import.
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        found = find_repository(workspace.root)
        if found is None:
            raise PromptyardError(
                f"{workspace.root} is not inside a git repository; run `promptyard init` there"
            )
        self.top, self.git_dir = found
        self._prefix = workspace.root.resolve().relative_to(self.top).as_posix()
        self._prefix = "" if self._prefix == "." else self._prefix + "/"

    @functools.cached_property
    def repo(self) -> git.Repo:
        """The repository through gitpython (imported here, on first use)."""
        import git

        return git.Repo(self.top)

    def repo_path(self, path: str) -> str:
        """`path` (workspace-relative) relative to the repository root."""
        return self._prefix + path

    def abs_path(self, path: str) -> Path:
        """The absolute path of workspace-relative `path`; an error if it leaves the workspace."""
        return self.workspace.file(path)

    def check_writable(self) -> None:
        """Raise RepositoryStateError when a commit now could corrupt or sweep in work."""
        git_dir = self.git_dir
        if (git_dir / "index.lock").exists():
            raise RepositoryStateError(
                f"git's index is locked ({git_dir / 'index.lock'}): another git command is running"
                " or crashed; remove the lock file once no git command runs"
            )
        for marker, what in (
            ("MERGE_HEAD", "a merge"),
            ("rebase-merge", "a rebase"),
            ("rebase-apply", "a rebase or am"),
            ("CHERRY_PICK_HEAD", "a cherry-pick"),
            ("REVERT_HEAD", "a revert"),
        ):
            if (git_dir / marker).exists():
                raise RepositoryStateError(
                    f"the repository is in the middle of {what}; finish or abort it before saving"
                )
        if self.repo.head.is_detached:
            raise RepositoryStateError(
                "HEAD is detached (not on a branch); check out a branch before saving"
            )

    @contextmanager
    def _locked(self) -> Iterator[None]:
        lock_path = self.git_dir / "promptyard.lock"
        try:
            handle = open(lock_path, "w")  # noqa: SIM115 (closed by the with below)
        except OSError as exc:
            raise disk_error(exc, "taking the workspace's save lock") from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def authorize(self, path: str, what: str) -> None:
        """Raise PermissionDeniedError unless the identity in force may commit `path`;
        `what` names the action in the message ("save prompts/a.prompty")."""
        require(self.workspace, permission_for_path(path), what)

    def _identity(self, author: str | None) -> tuple[str, str]:
        settings = self.workspace.settings
        signed_in = current_identity()
        if signed_in is not None:
            # The signed-in identity, never a typed name: the commit says who really saved.
            return signed_in.key, signed_in.email or settings.author_email or DEFAULT_AUTHOR[1]
        if author:
            return author, settings.author_email or DEFAULT_AUTHOR[1]
        if settings.author_name:
            return settings.author_name, settings.author_email or DEFAULT_AUTHOR[1]
        name, email = self._git_config("user.name"), self._git_config("user.email")
        if name:
            return name, email or DEFAULT_AUTHOR[1]
        return DEFAULT_AUTHOR

    def _git_config(self, key: str) -> str:
        # Ask git itself, so GIT_CONFIG_GLOBAL and includes are honoured.
        import git

        try:
            return str(self.repo.git.config("--get", key)).strip()
        except git.GitCommandError:
            return ""

    def who(self, author: str | None = None) -> str:
        """The name saves are recorded under: `author`, the workspace setting, or git's."""
        return self._identity(author)[0]

    def _commit_one(self, path: str, message: str, author: str | None, removed: bool) -> None:
        name, email = self._identity(author)
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
        repo_path = self.repo_path(path)
        if removed:
            self.repo.git.rm("--cached", "--quiet", "--", repo_path)
        else:
            self.repo.git.add("--", repo_path)
        # --only commits just this path, leaving anything else staged as it was.
        self.repo.git.commit("--only", "--no-verify", "-m", message, "--", repo_path, env=env)
