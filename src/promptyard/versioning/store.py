"""Git versioning of workspace files (prompts, datasets, suites, rating schemes).

A version of a file is a commit that changed it, numbered v1..vN along the file's
history. A save is one commit of that one file: other staged or unstaged changes in the
repository are never swept into it. Labels (`production`, ...) live in the git-tracked,
append-only `labels.jsonl`: one line per move, with who, when, from and to.
"""

from __future__ import annotations

import difflib
import fcntl
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import git

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.workspace import Workspace, validate_name

DEFAULT_AUTHOR = ("Promptyard", "promptyard@localhost")
_LOG_FORMAT = "%x1e%H%x1f%an%x1f%ae%x1f%aI%x1f%s"


class RepositoryStateError(PromptyardError):
    """The git repository is in a state where saving would be unsafe."""


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


@dataclass(frozen=True)
class Version:
    """One version of one file: the commit that changed it."""

    path: str
    number: int
    sha: str
    message: str
    author: str
    email: str
    date: datetime
    deleted: bool = False
    labels: tuple[str, ...] = field(default=())

    @property
    def short_sha(self) -> str:
        return self.sha[:8]

    @property
    def tag(self) -> str:
        return f"v{self.number}"

    def to_dict(self) -> dict[str, object]:
        return {
            "version": self.tag,
            "number": self.number,
            "sha": self.sha,
            "short_sha": self.short_sha,
            "message": self.message,
            "author": self.author,
            "date": self.date.isoformat(),
            "deleted": self.deleted,
            "labels": list(self.labels),
        }


@dataclass(frozen=True)
class LabelMove:
    path: str
    label: str
    from_sha: str | None
    to_sha: str
    who: str
    at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "label": self.label,
            "from": self.from_sha,
            "to": self.to_sha,
            "who": self.who,
            "at": self.at.isoformat(),
        }


class Store:
    """Versioned files of one workspace, in the git repository that holds it."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        try:
            self.repo = git.Repo(workspace.root, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise PromptyardError(
                f"{workspace.root} is not inside a git repository; run `promptyard init` there"
            ) from None
        top = Path(self.repo.working_tree_dir or workspace.root).resolve()
        self._prefix = workspace.root.resolve().relative_to(top).as_posix()
        self._prefix = "" if self._prefix == "." else self._prefix + "/"

    # --- paths and state ---------------------------------------------------------------

    def repo_path(self, path: str) -> str:
        """`path` (workspace-relative) relative to the repository root."""
        return self._prefix + path

    def abs_path(self, path: str) -> Path:
        target = (self.workspace.root / path).resolve()
        if not target.is_relative_to(self.workspace.root.resolve()):
            raise PromptyardError(f"{path} is outside the workspace")
        return target

    def check_writable(self) -> None:
        """Raise RepositoryStateError when a commit now could corrupt or sweep in work."""
        git_dir = Path(self.repo.git_dir)
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
        lock_path = Path(self.repo.git_dir) / "promptyard.lock"
        with open(lock_path, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _identity(self, author: str | None) -> tuple[str, str]:
        settings = self.workspace.settings
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
        try:
            return str(self.repo.git.config("--get", key)).strip()
        except git.GitCommandError:
            return ""

    def who(self, author: str | None = None) -> str:
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

    # --- history -----------------------------------------------------------------------

    def history(self, path: str) -> list[Version]:
        """Every version of `path`, oldest first (an empty list for a new file)."""
        if not self.repo.head.is_valid():
            return []
        out = self.repo.git.log(
            f"--format={_LOG_FORMAT}", "--name-status", "--no-renames", "--", self.repo_path(path)
        )
        entries = []
        for chunk in out.split("\x1e"):
            if not chunk.strip():
                continue
            header, _, rest = chunk.partition("\n")
            sha, author, email, date, subject = header.split("\x1f", 4)
            deleted = any(line.startswith("D\t") for line in rest.splitlines())
            entries.append((sha, author, email, date, subject, deleted))
        entries.reverse()
        labels = self._current_labels(path)
        versions = []
        for number, (sha, author, email, date, subject, deleted) in enumerate(entries, start=1):
            names = tuple(sorted(label for label, to in labels.items() if to == sha))
            versions.append(
                Version(
                    path,
                    number,
                    sha,
                    subject,
                    author,
                    email,
                    datetime.fromisoformat(date),
                    deleted,
                    names,
                )
            )
        return versions

    def resolve(self, path: str, ref: str | None = None) -> Version:
        """The version of `path` named by `ref`: vN, N, a sha prefix, a label, or latest."""
        versions = self.history(path)
        if not versions:
            raise NotFoundError(f"{path} has no saved versions")
        if ref is None or ref in ("", "latest", "HEAD"):
            return versions[-1]
        ref = ref.strip()
        match = re.fullmatch(r"[vV](\d+)", ref) or (
            re.fullmatch(r"(\d+)", ref) if len(ref) < 4 else None
        )
        if match:
            number = int(match.group(1))
            if 1 <= number <= len(versions):
                return versions[number - 1]
            raise NotFoundError(f"{path} has no version v{number} (it has v1 to v{len(versions)})")
        labels = self._current_labels(path)
        if ref in labels:
            for version in versions:
                if version.sha == labels[ref]:
                    return version
        if re.fullmatch(r"[0-9a-fA-F]{4,40}", ref):
            found = [v for v in versions if v.sha.startswith(ref.lower())]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise NotFoundError(f"sha prefix {ref!r} is ambiguous for {path}")
        known = ", ".join(sorted(labels)) or "none"
        raise NotFoundError(
            f"{path} has no version {ref!r} (use vN, a sha prefix, or a label; labels: {known})"
        )

    def read(self, path: str, ref: str | None = None) -> str:
        """The file's text in the working tree (ref None) or at a version."""
        if ref is None:
            target = self.abs_path(path)
            if not target.is_file():
                raise NotFoundError(f"{path} does not exist")
            return _decode(target.read_bytes(), path)
        version = self.resolve(path, ref)
        return self.read_version(version)

    def read_version(self, version: Version) -> str:
        if version.deleted:
            raise NotFoundError(f"{version.path} {version.tag} is the commit that deleted it")
        blob = self.repo.commit(version.sha).tree / self.repo_path(version.path)
        return _decode(blob.data_stream.read(), version.path)

    def _committed_text(self, path: str) -> str | None:
        versions = self.history(path)
        if not versions or versions[-1].deleted:
            return None
        return self.read_version(versions[-1])

    # --- changes -----------------------------------------------------------------------

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
        message = message.strip() or f"Update {path}"
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
            on_disk = _decode(target.read_bytes(), path) if target.is_file() else None
            if on_disk is not None and on_disk != committed and on_disk != content:
                raise ConflictError(path, latest.tag if latest else None, None, content, on_disk)
            if committed == content and latest is not None:
                return latest
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
            tmp.write_text(content, encoding="utf-8")
            os.replace(tmp, target)
            try:
                self._commit_one(path, message, author, removed=False)
            except git.GitCommandError as exc:
                # Put back what was there so a failed commit changes nothing.
                if on_disk is None:
                    target.unlink(missing_ok=True)
                else:
                    target.write_text(on_disk, encoding="utf-8")
                raise PromptyardError(
                    f"git refused the commit of {path}: {_git_reason(exc)}"
                ) from None
        return self.history(path)[-1]

    def delete(
        self,
        path: str,
        message: str | None = None,
        base: str | None = None,
        author: str | None = None,
    ) -> Version:
        """Delete `path` in a commit of its own; its history stays."""
        with self._locked():
            self.check_writable()
            versions = self.history(path)
            if not versions or versions[-1].deleted:
                raise NotFoundError(f"{path} does not exist")
            if base is not None and self.resolve(path, base).sha != versions[-1].sha:
                raise ConflictError(
                    path, base, versions[-1].tag, "", self.read_version(versions[-1])
                )
            self.abs_path(path).unlink(missing_ok=True)
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

    def diff(self, path: str, ref_a: str, ref_b: str, context: int = 3) -> str:
        """A unified diff from version `ref_a` to version `ref_b`."""
        a, b = self.resolve(path, ref_a), self.resolve(path, ref_b)
        text_a = "" if a.deleted else self.read_version(a)
        text_b = "" if b.deleted else self.read_version(b)
        return "".join(
            difflib.unified_diff(
                text_a.splitlines(keepends=True),
                text_b.splitlines(keepends=True),
                fromfile=f"{path} {a.tag} ({a.short_sha})",
                tofile=f"{path} {b.tag} ({b.short_sha})",
                n=context,
            )
        )

    # --- labels ------------------------------------------------------------------------

    def label_moves(self, path: str | None = None) -> list[LabelMove]:
        """Every label move (of `path`, or all), oldest first."""
        labels_file = self.workspace.labels_file
        if not labels_file.is_file():
            return []
        moves = []
        for line in labels_file.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                move = LabelMove(
                    data["path"],
                    data["label"],
                    data.get("from"),
                    data["to"],
                    data.get("who", ""),
                    datetime.fromisoformat(data["at"]),
                )
            except (ValueError, KeyError, TypeError):
                continue  # a hand-edited bad line must not hide the others
            if path is None or move.path == path:
                moves.append(move)
        return moves

    def _current_labels(self, path: str) -> dict[str, str]:
        current: dict[str, str] = {}
        for move in self.label_moves(path):
            current[move.label] = move.to_sha
        return current

    def labels(self, path: str) -> dict[str, Version]:
        """Each label of `path` and the version it points at."""
        by_sha = {v.sha: v for v in self.history(path)}
        return {
            label: by_sha[sha] for label, sha in self._current_labels(path).items() if sha in by_sha
        }

    def set_label(self, path: str, ref: str, label: str, who: str | None = None) -> LabelMove:
        """Point `label` at version `ref` of `path`, recording the move in a commit."""
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
            existing = labels_file.read_text(encoding="utf-8") if labels_file.is_file() else ""
            if existing and not existing.endswith("\n"):
                existing += "\n"
            labels_file.write_text(existing + json.dumps(move.to_dict()) + "\n", encoding="utf-8")
            rel = self.workspace.rel(labels_file)
            try:
                self._commit_one(rel, f"Label {path} {version.tag} as {label}", who, removed=False)
            except git.GitCommandError as exc:
                labels_file.write_text(existing, encoding="utf-8")
                raise PromptyardError(f"git refused the label commit: {_git_reason(exc)}") from None
        return move

    def with_labels(self, version: Version) -> Version:
        names = tuple(
            sorted(k for k, v in self._current_labels(version.path).items() if v == version.sha)
        )
        return replace(version, labels=names)


def _decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PromptyardError(
            f"{path} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start});"
            " save it as UTF-8"
        ) from None


def _git_reason(exc: git.GitCommandError) -> str:
    text = (exc.stderr or str(exc)).strip().splitlines()
    lines = [line.strip().removeprefix("stderr: ").strip("'") for line in text if line.strip()]
    return lines[-1] if lines else "unknown error"
