"""Reading versions: a file's history (v1..vN), resolving refs, reading text, diffs, labels."""

from __future__ import annotations

import difflib
import re
import subprocess
from dataclasses import dataclass, field, replace
from datetime import datetime

from promptyard.errors import NotFoundError
from promptyard.versioning.git_files import GitFailed, head_commit, open_git, run_git
from promptyard.versioning.labels import LabelMove, current_labels, read_moves
from promptyard.versioning.repo import Repository, decode_text

_LOG_FORMAT = "%x1e%H%x1f%an%x1f%ae%x1f%aI%x1f%s"


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


class History(Repository):
    """The read side of the store: nothing here writes to the repository, and nothing here
    loads gitpython (git runs as a plain process: `git_files`)."""

    def history(self, path: str) -> list[Version]:
        """Every version of `path`, oldest first (an empty list for a new file)."""
        if self.head() is None:
            return []
        out = run_git(
            self.top,
            "log",
            f"--format={_LOG_FORMAT}",
            "--name-status",
            "--no-renames",
            "--",
            self.repo_path(path),
        ).decode("utf-8", "replace")
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
            return decode_text(target.read_bytes(), path)
        version = self.resolve(path, ref)
        return self.read_version(version)

    def read_version(self, version: Version) -> str:
        """The file's text at `version`; NotFoundError for the commit that deleted it."""
        if version.deleted:
            raise NotFoundError(f"{version.path} {version.tag} is the commit that deleted it")
        try:
            data = run_git(self.top, "cat-file", "blob", self._spec(version))
        except GitFailed as exc:
            raise NotFoundError(f"{version.path} at {version.short_sha}: {exc}") from None
        return decode_text(data, version.path)

    def open_version(self, version: Version) -> subprocess.Popen[bytes]:
        """The file's bytes at `version` as a process's output, to read as they come (a
        process of its own: a reader that stops early disturbs no other reader)."""
        return open_git(self.top, "cat-file", "blob", self._spec(version))

    def has_unsaved_edits(self, path: str) -> bool:
        """Whether `path` differs from its last saved version (edited, added or removed)."""
        return bool(run_git(self.top, "status", "--porcelain", "--", self.repo_path(path)))

    def _spec(self, version: Version) -> str:
        return f"{version.sha}:{self.repo_path(version.path)}"

    def head(self) -> str | None:
        """The commit HEAD names; None in a new repository (its branch has none yet)."""
        try:
            found = head_commit(self.git_dir)
        except OSError:
            found = None
        if found:
            return found
        # Unsure from the files (a symbolic ref git keeps elsewhere): ask git.
        try:
            out = run_git(self.top, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
        except GitFailed:
            return None
        return out.decode().strip()

    def _committed_text(self, path: str) -> str | None:
        versions = self.history(path)
        if not versions or versions[-1].deleted:
            return None
        return self.read_version(versions[-1])

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

    # --- labels, read side ---------------------------------------------------------------

    def label_moves(self, path: str | None = None) -> list[LabelMove]:
        """Every label move (of `path`, or all), oldest first."""
        return read_moves(self.workspace.labels_file, path)

    def _current_labels(self, path: str) -> dict[str, str]:
        return current_labels(self.workspace.labels_file, path)

    def labels(self, path: str) -> dict[str, Version]:
        """Each label of `path` and the version it points at."""
        by_sha = {v.sha: v for v in self.history(path)}
        return {
            label: by_sha[sha] for label, sha in self._current_labels(path).items() if sha in by_sha
        }

    def with_labels(self, version: Version) -> Version:
        """`version` with its `labels` as they are now."""
        names = tuple(
            sorted(k for k, v in self._current_labels(version.path).items() if v == version.sha)
        )
        return replace(version, labels=names)
