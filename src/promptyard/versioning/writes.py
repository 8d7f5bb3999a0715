"""Writing versions: save (with conflict checks), delete, restore, and moving a label."""

from __future__ import annotations

import difflib
import errno
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from promptyard.disk_errors import disk_error
from promptyard.errors import NotFoundError, PromptyardError
from promptyard.versioning.history import History, Version
from promptyard.versioning.labels import LabelMove, append_move, undo_append
from promptyard.versioning.repo import decode_text, git_reason
from promptyard.workspace import validate_name

# errno values of file systems without hard links (FAT, some network mounts).
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV}


class ConflictError(PromptyardError):
    """The file changed since the version an edit was based on; nothing was written."""

    def __init__(self, path: str, base: str | None, current: str | None, ours: str, theirs: str):
        self.path = path
        self.base = base
        self.current = current
        self.ours = ours  # the content the caller tried to save
        self.theirs = theirs  # the content now in the file
        self.diff = "".join(
            difflib.unified_diff(
                theirs.splitlines(keepends=True),
                ours.splitlines(keepends=True),
                fromfile=f"{path} (current{' ' + current if current else ''})",
                tofile=f"{path} (your edit)",
            )
        )
        super().__init__(
            f"conflict: {path} changed since {base or 'the version you started from'}"
            f" (now {current or 'uncommitted edits'}); your edit was not saved"
        )


class Writes(History):
    """The write side of the store: every change is one commit of one file, under the lock."""

    def save(
        self,
        path: str,
        content: str,
        message: str,
        base: str | None = None,
        author: str | None = None,
    ) -> Version:
        """Commit `content` as the new version of `path` and return it.

        `base` names the version the edit started from (sha or vN). When the file has a
        newer version, or uncommitted edits that differ, ConflictError is raised and
        nothing is written. Saving unchanged content returns the current version.
        """
        import git  # gitpython: loaded by what writes, never by reads

        message = message.strip() or f"Update {path}"
        self.authorize(path, f"save {path}")
        with self._locked():
            self.check_writable()
            versions = self.history(path)
            latest = versions[-1] if versions else None
            committed = None if latest is None or latest.deleted else self.read_version(latest)
            if base is not None and latest is not None:
                base_version = self.resolve(path, base)
                if base_version.sha != latest.sha:
                    theirs = committed if committed is not None else ""
                    raise ConflictError(path, base_version.tag, latest.tag, content, theirs)
            target = self.abs_path(path)
            on_disk = decode_text(target.read_bytes(), path) if target.is_file() else None
            if on_disk is not None and on_disk != committed and on_disk != content:
                raise ConflictError(path, latest.tag if latest else None, None, content, on_disk)
            if committed == content and latest is not None:
                return latest
            backup = self._replace_file(target, content, path)
            try:
                self._commit_one(path, message, author, removed=False)
            except git.GitCommandError as exc:
                # Put back what was there so a failed commit changes nothing.
                self._put_back(target, backup, on_disk, path)
                raise PromptyardError(
                    f"git refused the commit of {path}: {git_reason(exc)}"
                ) from None
            if backup is not None:
                backup.unlink(missing_ok=True)
        return self.history(path)[-1]

    def _replace_file(self, target: Path, content: str, path: str) -> Path | None:
        """Write `content` to `target` atomically (a temporary file, then a rename).

        Returns a hard link to the old file, to put it back without writing a byte (a full
        disk cannot stop that), or None when there was no old file. On any OSError the
        temporary file is removed, the old file is untouched, and a DiskError says why.
        """
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        backup = target.with_name(f".{target.name}.old-{os.getpid()}") if target.exists() else None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())  # a full disk shows here, not after the rename
            if backup is not None:
                backup.unlink(missing_ok=True)
                try:
                    os.link(target, backup)
                except OSError as exc:
                    if exc.errno not in _NO_LINKS:
                        raise
                    backup = None  # no hard links here: a failed commit rewrites the old text
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if backup is not None:
                backup.unlink(missing_ok=True)
            raise disk_error(exc, f"saving {path}") from None
        return backup

    def _put_back(self, target: Path, backup: Path | None, on_disk: str | None, path: str) -> None:
        """Undo `_replace_file` after a failed commit: the old file again, nothing staged."""
        import git  # gitpython: loaded by what writes, never by reads

        if backup is not None:
            os.replace(backup, target)
        elif on_disk is not None:
            target.write_text(on_disk, encoding="utf-8")
        else:
            target.unlink(missing_ok=True)
        # `git add` staged the new content; unstage it (best effort: the disk may be full).
        try:
            self.repo.git.reset("-q", "--", self.repo_path(path))
        except git.GitCommandError:
            try:  # no commit yet to reset to
                self.repo.git.rm("--cached", "-q", "--ignore-unmatch", "--", self.repo_path(path))
            except git.GitCommandError:
                pass

    def delete(
        self,
        path: str,
        message: str | None = None,
        base: str | None = None,
        author: str | None = None,
    ) -> Version:
        """Delete `path` in a commit of its own; its history stays."""
        self.authorize(path, f"delete {path}")
        with self._locked():
            self.check_writable()
            versions = self.history(path)
            if not versions or versions[-1].deleted:
                raise NotFoundError(f"{path} does not exist")
            if base is not None and self.resolve(path, base).sha != versions[-1].sha:
                raise ConflictError(
                    path, base, versions[-1].tag, "", self.read_version(versions[-1])
                )
            try:
                self.abs_path(path).unlink(missing_ok=True)
            except OSError as exc:
                raise disk_error(exc, f"deleting {path}") from None
            self._commit_one(path, message or f"Delete {path}", author, removed=True)
        return self.history(path)[-1]

    def restore(
        self, path: str, ref: str, message: str | None = None, author: str | None = None
    ) -> Version:
        """Make a new version whose content is that of version `ref`."""
        old = self.resolve(path, ref)
        content = self.read_version(old)
        latest = self.history(path)[-1]
        return self.save(
            path, content, message or f"Restore {path} to {old.tag}", base=latest.sha, author=author
        )

    def set_label(self, path: str, ref: str, label: str, who: str | None = None) -> LabelMove:
        """Point `label` at version `ref` of `path`, recording the move in a commit."""
        import git  # gitpython: loaded by what writes, never by reads

        self.authorize(
            self.workspace.rel(self.workspace.labels_file), f"move the label {label!r} of {path}"
        )
        validate_name(label, "label")
        if re.fullmatch(r"[vV]?\d+|latest|HEAD", label):
            raise PromptyardError(f"label {label!r} would be confused with a version; pick a word")
        version = self.resolve(path, ref)
        if version.deleted:
            raise PromptyardError(
                f"{path} {version.tag} deleted the file; a label cannot point there"
            )
        mover = self.who(who)
        with self._locked():
            self.check_writable()
            previous = self._current_labels(path).get(label)
            move = LabelMove(path, label, previous, version.sha, mover, datetime.now(UTC))
            labels_file = self.workspace.labels_file
            rel = self.workspace.rel(labels_file)
            try:
                before = append_move(labels_file, move)
            except OSError as exc:
                raise disk_error(exc, f"recording the label move in {rel}") from None
            try:
                self._commit_one(rel, f"Label {path} {version.tag} as {label}", who, removed=False)
            except git.GitCommandError as exc:
                undo_append(labels_file, before)
                raise PromptyardError(f"git refused the label commit: {git_reason(exc)}") from None
        return move
