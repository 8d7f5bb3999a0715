"""Saving a version from a file on disk, for files too big to hold as one string.

The same contract as `Store.save` (one commit of one file under the lock, a conflict for
uncommitted edits, no commit for unchanged content, nothing changed on failure), but the
content is compared by git object id and git reads it from disk, so the file is never
in Python's memory.
"""

from __future__ import annotations

import os
from pathlib import Path

import git

from promptyard.errors import PromptyardError
from promptyard.versioning.history import Version
from promptyard.versioning.repo import git_reason
from promptyard.versioning.writes import ConflictError, Writes

_SHOWN_IN_CONFLICT = 1024 * 1024  # bigger files are not diffed in the conflict message


def _text_or_blank(path: Path) -> str:
    if path.stat().st_size > _SHOWN_IN_CONFLICT:
        return ""
    return path.read_text(encoding="utf-8", errors="replace")


def _commit_quietly(store: Writes, path: str, message: str, author: str | None) -> None:
    """`_commit_one` with --quiet: git then skips the diff summary, which would hold both
    versions of a big file in its memory."""
    name, email = store._identity(author)
    env = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
    repo_path = store.repo_path(path)
    store.repo.git.add("--", repo_path)
    store.repo.git.commit(
        "--only", "--no-verify", "--quiet", "-m", message, "--", repo_path, env=env
    )


def save_file(
    store: Writes, path: str, staged: Path, message: str, author: str | None = None
) -> tuple[Version, bool]:
    """Commit the file `staged` as the new version of `path`; (the version, whether new).

    `staged` must be on the same file system as the workspace (it is renamed into place,
    or deleted when the content is unchanged). Raises ConflictError when `path` has
    uncommitted edits that differ from both the last version and `staged`.
    """
    message = message.strip() or f"Update {path}"
    store.authorize(path, f"save {path}")
    with store._locked():
        store.check_writable()
        versions = store.history(path)
        latest = versions[-1] if versions else None
        repo_path = store.repo_path(path)
        committed = None
        if latest is not None and not latest.deleted:
            committed = store.repo.git.rev_parse(f"{latest.sha}:{repo_path}")
        ours = store.repo.git.hash_object("--", str(staged))
        target = store.abs_path(path)
        on_disk = store.repo.git.hash_object("--", str(target)) if target.is_file() else None
        if on_disk is not None and on_disk not in (committed, ours):
            raise ConflictError(
                path,
                latest.tag if latest else None,
                None,
                _text_or_blank(staged),
                _text_or_blank(target),
            )
        if committed == ours and latest is not None:
            staged.unlink()
            return latest, False
        target.parent.mkdir(parents=True, exist_ok=True)
        backup = target.with_name(f".{target.name}.before-{os.getpid()}")
        if on_disk is not None:
            os.replace(target, backup)
        os.replace(staged, target)
        try:
            _commit_quietly(store, path, message, author)
        except git.GitCommandError as exc:
            # Put back what was there so a failed commit changes nothing.
            if on_disk is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(backup, target)
            raise PromptyardError(f"git refused the commit of {path}: {git_reason(exc)}") from None
        finally:
            backup.unlink(missing_ok=True)
    return store.history(path)[-1], True
